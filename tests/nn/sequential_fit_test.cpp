// Sequential::fit: learning, batches, validation, progress, callbacks and non-finite values.

#include <algorithm>
#include <limits>
#include <numeric>
#include <sstream>

#include "support/sequential_helpers.hpp"

namespace aisle {
namespace {

using namespace test_support;

TEST(Sequential, ClassicModelLearnsSeparableProblemAbove99Percent) {
  // Train on the head of one draw and test on its tail: both share the prototypes.
  const auto all = test_support::separable_classes(4000, 784, 10, 5);
  Sequential model = classic_model(7);
  const History history =
      model.fit(all.x.topRows(3000), Labels(all.y.head(3000)), {.epochs = 3, .batch_size = 128, .seed = 1});
  EXPECT_EQ(history.epochs_run(), 3);
  EXPECT_LT(history.values.at("loss").back(), history.values.at("loss").front());
  const Evaluation result = model.evaluate(all.x.bottomRows(1000), Labels(all.y.tail(1000)));
  EXPECT_GT(result.metrics.at("accuracy"), 0.99f);
  const Labels classes = model.predict_classes(all.x.bottomRows(1000));
  EXPECT_GT((classes.array() == all.y.tail(1000).array()).count(), 990);
}

// fit's batches are the shuffled rows, gathered in order: replaying the same
// shuffle by hand with train_on_batch gives the same bits. 203 rows of 37
// features in batches of 20: the last batch is short, and neither the batch
// nor the row width is a multiple of the gather's groups of rows or lines.
TEST(Sequential, FitEqualsTrainOnBatchOverTheSameShuffledBatches) {
  const auto data = test_support::separable_classes(203, 37, 4, 16);
  const auto make = [] {
    Sequential model({.seed = 8});
    model.add(Dense(9, Activation::relu, 37));
    model.add(Dense(4, Activation::softmax));
    model.compile(Adam(), SparseCategoricalCrossentropy());
    return model;
  };
  Sequential fitted = make(), replayed = make();
  const Index batch = 20;
  fitted.fit(data.x, data.y, {.epochs = 2, .batch_size = batch, .seed = 5});

  const Targets y(data.y);
  std::vector<Index> order(static_cast<std::size_t>(data.x.rows()));
  std::iota(order.begin(), order.end(), Index{0});
  Rng rng(5);
  for (int epoch = 0; epoch < 2; ++epoch) {
    shuffle(std::span<Index>(order), rng);
    for (Index begin = 0; begin < data.x.rows(); begin += batch) {
      const Index count = std::min(batch, data.x.rows() - begin);
      const std::span<const Index> rows(order.data() + begin, static_cast<std::size_t>(count));
      Matrix x(count, data.x.cols());
      for (Index i = 0; i < count; ++i) x.row(i) = data.x.row(rows[static_cast<std::size_t>(i)]);
      Targets batch_y;
      y.gather(rows, batch_y);
      replayed.train_on_batch(x, batch_y);
    }
  }
  const auto pf = fitted.parameters(), pr = replayed.parameters();
  ASSERT_EQ(pf.size(), pr.size());
  for (std::size_t i = 0; i < pf.size(); ++i)
    EXPECT_EQ(0, std::memcmp(pf[i]->data(), pr[i]->data(), sizeof(float) * pf[i]->size())) << "parameter " << i;
}

TEST(Sequential, StepByStepEqualsTrainOnBatch) {
  const auto data = test_support::separable_classes(32, 784, 10, 15);
  Sequential a = classic_model(21), b = classic_model(21);
  const Targets y(data.y);
  const float loss_a = a.train_on_batch(data.x, y);
  Workspace ws = b.make_workspace();
  Gradients grads = b.make_gradients();
  b.forward(data.x, ws);
  const float loss_b = b.loss(ws, y);
  b.backward(ws, y, grads);
  b.apply_gradients(grads);
  EXPECT_EQ(loss_a, loss_b);
  for (std::size_t i = 0; i < a.parameters().size(); ++i) EXPECT_EQ(*a.parameters()[i], *b.parameters()[i]);
}

TEST(Sequential, ValidationSplitAndEarlyStopping) {
  const auto data = test_support::separable_classes(600, 784, 10, 19);
  Sequential model = classic_model(2);
  auto stopper = std::make_shared<EarlyStopping>(
      EarlyStoppingOptions{.monitor = "val_loss", .min_delta = 10.0f, .patience = 1, .restore_best_weights = true});
  std::ostringstream log;
  auto progress = std::make_shared<ProgressLogger>(log);
  const History history = model.fit(data.x, data.y,
                                    {.epochs = 20, .batch_size = 64, .validation_split = 0.2f,
                                     .callbacks = {stopper, progress}});
  // min_delta 10 means no epoch after the first counts as an improvement.
  EXPECT_EQ(history.epochs_run(), 3);
  EXPECT_EQ(stopper->stopped_epoch(), 3);
  EXPECT_EQ(history.values.at("val_loss").size(), 3u);
  EXPECT_EQ(history.values.at("val_accuracy").size(), 3u);
  EXPECT_NE(log.str().find("Epoch 3/20"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("val_accuracy"), std::string::npos) << log.str();
}

TEST(Sequential, JsonProgressPrintsOneObjectPerEpoch) {
  const auto data = test_support::separable_classes(200, 784, 10, 23);
  Sequential model = classic_model(2);
  std::ostringstream log;
  auto progress = std::make_shared<ProgressLogger>(log, ProgressOptions{.style = ProgressOptions::Style::json});
  model.fit(data.x, data.y, {.epochs = 2, .batch_size = 50, .validation_split = 0.1f, .callbacks = {progress}});
  std::istringstream lines(log.str());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    const auto json = nlohmann::json::parse(line);
    for (const char* key : {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "samples_per_s", "seconds"})
      EXPECT_TRUE(json.contains(key)) << key << " missing in " << line;
    ++count;
  }
  EXPECT_EQ(count, 2);
}

// One-hot targets under categorical cross-entropy train exactly as the same
// labels under the sparse loss: the same shuffled batches (gathered from the
// dense targets), the same gradients, the same validation rows.
TEST(Sequential, FitOnOneHotTargetsEqualsFitOnLabels) {
  const auto data = test_support::separable_classes(150, 5, 4, 33, 0.6f);
  Matrix one_hot = Matrix::Zero(data.x.rows(), 4);
  for (Index i = 0; i < data.x.rows(); ++i) one_hot(i, data.y(i)) = 1.0f;
  const auto make = [](auto loss) {
    Sequential model({.seed = 12});
    model.add(Dense(8, Activation::relu, 5));
    model.add(Dense(4, Activation::softmax));
    model.compile(Adam({.learning_rate = 0.01f}), loss, {Metric::accuracy});
    return model;
  };
  Sequential sparse = make(SparseCategoricalCrossentropy()), dense = make(CategoricalCrossentropy());
  const FitOptions options{.epochs = 3, .batch_size = 16, .seed = 4, .validation_split = 0.2f};
  const History by_labels = sparse.fit(data.x, data.y, options);
  const History by_one_hot = dense.fit(data.x, Targets(one_hot), options);
  EXPECT_TRUE(parameters_are(dense, copy_of_parameters(sparse)));
  EXPECT_EQ(by_labels.values.at("accuracy"), by_one_hot.values.at("accuracy"));
  EXPECT_EQ(by_labels.values.at("val_accuracy"), by_one_hot.values.at("val_accuracy"));
  for (std::size_t e = 0; e < 3; ++e)
    EXPECT_NEAR(by_labels.values.at("val_loss")[e], by_one_hot.values.at("val_loss")[e], 1e-6f) << "epoch " << e + 1;
  EXPECT_EQ(sparse.evaluate(data.x, data.y).metrics.at("accuracy"),
            dense.evaluate(data.x, Targets(one_hot)).metrics.at("accuracy"));
}

// Keeps a copy of the weights at the end of every epoch.
class WeightsPerEpoch final : public Callback {
 public:
  bool on_epoch_end(const EpochEnd&, Sequential& model) override {
    epochs.push_back(copy_of_parameters(model));
    return false;
  }
  std::vector<std::vector<Matrix>> epochs;
};

// Monitoring val_accuracy (maximised: "auto" mode for an accuracy), training
// stops once it has not risen for `patience` epochs, and the weights of its
// best epoch, not the last, are put back.
TEST(Sequential, EarlyStoppingOnValAccuracyRestoresTheBestEpochsWeights) {
  const auto data = test_support::separable_classes(300, 20, 3, 35, 0.45f);
  Sequential model({.seed = 14});
  model.add(Dense(16, Activation::relu, 20));
  model.add(Dense(3, Activation::softmax));
  model.compile(Adam({.learning_rate = 0.01f}), SparseCategoricalCrossentropy(), {Metric::accuracy});
  auto snapshots = std::make_shared<WeightsPerEpoch>();
  auto stopper = std::make_shared<EarlyStopping>(
      EarlyStoppingOptions{.monitor = "val_accuracy", .patience = 1, .restore_best_weights = true});
  const History history = model.fit(
      data.x, data.y, {.epochs = 40, .batch_size = 32, .validation_split = 0.3f, .callbacks = {snapshots, stopper}});
  const auto& accuracy = history.values.at("val_accuracy");
  ASSERT_GT(stopper->stopped_epoch(), 0) << "training never stopped early";
  ASSERT_EQ(stopper->stopped_epoch(), stopper->best_epoch() + 2);  // patience 1: two epochs without a rise
  ASSERT_EQ(static_cast<int>(accuracy.size()), stopper->stopped_epoch());
  const auto best = static_cast<std::size_t>(stopper->best_epoch() - 1);
  EXPECT_EQ(accuracy[best], *std::max_element(accuracy.begin(), accuracy.end()));
  for (std::size_t e = 0; e < best; ++e) EXPECT_LT(accuracy[e], accuracy[best]) << "epoch " << e + 1;
  const auto params = std::as_const(model).parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(same_bits(*params[i], snapshots->epochs[best][i])) << "parameter " << i;
    EXPECT_FALSE(same_bits(*params[i], snapshots->epochs.back()[i])) << "parameter " << i;
  }
}

TEST(Sequential, ProgressBarStyleDrawsALiveBar) {
  const auto data = test_support::separable_classes(64, 5, 4, 37);
  Sequential model = small_model(4, default_backend());
  std::ostringstream log;
  auto progress = std::make_shared<ProgressLogger>(log, ProgressOptions{.style = ProgressOptions::Style::bar});
  model.fit(data.x, data.y, {.epochs = 2, .batch_size = 16, .callbacks = {progress}});
  const std::string text = log.str();
  // The last batch of an epoch is always drawn, however soon after the last draw.
  // append, not "literal" + std::string(...): GCC 12 at -O3 takes the
  // latter's moved-from buffer for an out-of-bounds copy (-Warray-bounds).
  const auto full_bar = [](int epoch) {
    return std::string("\rEpoch ").append(std::to_string(epoch)).append("/2 [").append(30, '=').append("] 4/4");
  };
  EXPECT_NE(text.find(full_bar(1)), std::string::npos) << text;
  EXPECT_NE(text.find(full_bar(2)), std::string::npos) << text;
  EXPECT_NE(text.find("samples/s  ETA "), std::string::npos) << text;
}

// A NaN or infinity in the data would turn every weight into NaN without a
// word: fit refuses it up front, naming where it is.
TEST(Sequential, FitRefusesNonFiniteInputsAndTargetsNamingWhere) {
  auto data = test_support::separable_classes(40, 5, 4, 39);
  Sequential model = small_model(5, default_backend());
  const auto before = copy_of_parameters(model);
  data.x(17, 3) = std::numeric_limits<float>::quiet_NaN();
  std::string message = error_message<Error>([&] { model.fit(data.x, data.y); });
  EXPECT_NE(message.find("fit: NaN in x at row 17, column 3"), std::string::npos) << message;
  data.x(17, 3) = 0.5f;
  data.x(39, 0) = -std::numeric_limits<float>::infinity();  // in the rows validation_split holds out
  message = error_message<Error>([&] { model.fit(data.x, data.y, {.validation_split = 0.25f}); });
  EXPECT_NE(message.find("fit: -inf in x at row 39, column 0"), std::string::npos) << message;
  data.x(39, 0) = 0.5f;
  // Large enough for the threads to share the check.
  Matrix wide = test_support::separable_classes(100, 784, 10, 40).x;
  wide(77, 500) = std::numeric_limits<float>::quiet_NaN();
  Sequential classic = classic_model(2);
  message = error_message<Error>([&] { classic.fit(wide, Labels(Labels::Zero(100))); });
  EXPECT_NE(message.find("fit: NaN in x at row 77, column 500"), std::string::npos) << message;

  Sequential dense({.seed = 5});
  dense.add(Dense(3, Activation::softmax, 5));
  dense.compile(SGD(), CategoricalCrossentropy());
  Matrix targets = Matrix::Zero(40, 3);
  targets(2, 1) = std::numeric_limits<float>::infinity();
  message = error_message<Error>([&] { dense.fit(data.x, Targets(targets)); });
  EXPECT_NE(message.find("fit: inf in the targets at row 2, column 1"), std::string::npos) << message;
  message = error_message<Error>([&] {
    dense.fit(data.x.topRows(30), Targets(Matrix(Matrix::Zero(30, 3))),
              {.validation_data = std::make_pair(Matrix(data.x.bottomRows(10)), Targets(Matrix(targets.bottomRows(10))))});
  });
  EXPECT_EQ(message, "<no exception thrown>");
  message = error_message<Error>([&] {
    dense.fit(data.x.topRows(30), Targets(Matrix(Matrix::Zero(30, 3))),
              {.validation_data = std::make_pair(Matrix(data.x.bottomRows(10)), Targets(Matrix(targets.topRows(10))))});
  });
  EXPECT_NE(message.find("fit: inf in the validation targets at row 2, column 1"), std::string::npos) << message;
  EXPECT_TRUE(parameters_are(model, before));
}

// Training that diverges stops at the first batch whose loss is not finite,
// with the weights from before that batch, instead of carrying on with NaN.
TEST(Sequential, FitStopsWhenTheLossStopsBeingFinite) {
  const auto data = test_support::separable_classes(64, 5, 4, 41);
  Sequential model({.seed = 16});
  model.add(Dense(8, Activation::relu, 5));
  model.add(Dense(8, Activation::relu));
  model.add(Dense(4, Activation::softmax));
  model.compile(SGD({.learning_rate = 1e30f}), SparseCategoricalCrossentropy());
  const std::string message = error_message<Error>([&] { model.fit(data.x, data.y, {.epochs = 3, .batch_size = 16}); });
  EXPECT_NE(message.find("fit: the loss became"), std::string::npos) << message;
  EXPECT_NE(message.find("at epoch 1, batch 2 of 4"), std::string::npos) << message;
  for (const Matrix* p : std::as_const(model).parameters()) EXPECT_TRUE(p->allFinite());
}

TEST(Sequential, TrainOnBatchRefusesANonFiniteLossAndKeepsTheWeights) {
  auto data = test_support::separable_classes(16, 5, 4, 43);
  Sequential model = small_model(6, default_backend());
  model.train_on_batch(data.x, Targets(data.y));
  const auto before = copy_of_parameters(model);
  data.x(3, 1) = std::numeric_limits<float>::infinity();
  const std::string message = error_message<Error>([&] { model.train_on_batch(data.x, Targets(data.y)); });
  EXPECT_NE(message.find("train_on_batch: the loss is NaN; the weights are left as they were"), std::string::npos)
      << message;
  EXPECT_TRUE(parameters_are(model, before));
}

}  // namespace
}  // namespace aisle
