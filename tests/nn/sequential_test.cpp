#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <numeric>
#include <sstream>
#include <thread>
#include <utility>

#include "aisle/aisle.hpp"
#include "support/backends.hpp"
#include "support/classic_model.hpp"
#include "support/gradient_check.hpp"
#include "support/synthetic.hpp"
#include "support/test_files.hpp"

namespace aisle {
namespace {

using test_support::classic_model;
using test_support::error_message;

Sequential small_model(std::uint64_t seed, BackendKind kind) {
  Sequential model({.seed = seed, .backend = kind});
  model.add(Dense(6, Activation::relu, 5));
  model.add(Dense(7, Activation::relu));
  model.add(Dense(4, Activation::softmax));
  model.compile(Adam(), SparseCategoricalCrossentropy(), {Metric::accuracy});
  return model;
}

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("aisle-test-" + std::to_string(::getpid()) + "-" + name);
}

// The model's loss on (x, y) with the sign pattern of every layer's output,
// so that the gradient check can skip perturbations that cross a ReLU kink.
std::function<test_support::PiecewiseValue()> piecewise_loss(const Sequential& model, const Matrix& x, const Targets& y) {
  // One workspace for all evaluations: oneDNN primitives are made once.
  auto probe = std::make_shared<Workspace>(model.make_workspace());
  return [&model, &x, &y, probe] {
    model.forward(x, *probe);
    std::size_t signature = 0;
    for (const LayerState& state : probe->layers) signature = test_support::sign_signature(state.output, signature);
    return test_support::PiecewiseValue{static_cast<double>(model.loss(*probe, y)), signature};
  };
}

class SequentialGradient : public ::testing::TestWithParam<BackendKind> {};

// Every parameter's gradient in grads, and dx, the input gradient, against
// finite differences of objective.
void expect_gradients_match(Sequential& model, Matrix& x, const Matrix& dx, Gradients& grads,
                            const std::function<test_support::PiecewiseValue()>& objective) {
  const auto params = model.parameters();
  Index skipped = 0;
  for (std::size_t i = 0; i < params.size(); ++i)
    test_support::expect_gradient_matches(
        grads.tensors[i], test_support::numeric_gradient_off_kinks(*params[i], objective, 1e-2f, grads.tensors[i], skipped),
        1e-3, "param");
  test_support::expect_gradient_matches(dx, test_support::numeric_gradient_off_kinks(x, objective, 1e-2f, dx, skipped), 1e-3,
                                   "input");
}

// After model.backward(ws, y, grads, true): against finite differences of the loss.
void expect_parameter_and_input_gradients_match(Sequential& model, Matrix& x, const Targets& y, const Workspace& ws,
                                                Gradients& grads) {
  expect_gradients_match(model, x, ws.input_gradient(), grads, piecewise_loss(model, x, y));
}

TEST_P(SequentialGradient, WholeThreeLayerModelMatchesFiniteDifferences) {
  Sequential model = small_model(3, GetParam());
  const auto data = test_support::separable_classes(6, 5, 4, 17);
  const Targets y(data.y);
  Workspace ws = model.make_workspace();
  Gradients grads = model.make_gradients();
  model.forward(data.x, ws);
  model.backward(ws, y, grads);
  const auto params = model.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    Index skipped = 0;
    const Matrix numeric =
        test_support::numeric_gradient_off_kinks(*params[i], piecewise_loss(model, data.x, y), 1e-2f, grads.tensors[i], skipped);
    EXPECT_LE(skipped, params[i]->size() / 4 + 1) << "too many kinks for a meaningful check";
    test_support::expect_gradient_matches(grads.tensors[i], numeric, 1e-3, ("parameter " + std::to_string(i)).c_str());
  }
}

TEST_P(SequentialGradient, SeparateSoftmaxLayerAndMseAlsoMatch) {
  Sequential model({.seed = 4, .backend = GetParam()});
  model.add(Dense(6, Activation::none, 3));
  model.add(ReLU());
  model.add(Dense(3));
  model.add(Softmax());
  model.compile(SGD(), MeanSquaredError());
  Matrix x = test_support::random_matrix(5, 3, 40);
  const Targets y(Matrix(test_support::random_matrix(5, 3, 41)));
  Workspace ws = model.make_workspace();
  Gradients grads = model.make_gradients();
  model.forward(x, ws);
  model.backward(ws, y, grads, true);
  expect_parameter_and_input_gradients_match(model, x, y, ws, grads);
}

// Separate ReLU and Softmax layers under the fused cross-entropy: the Dense
// above differentiates the ReLU, the loss the softmax, and both layers only
// hand their gradient on.
TEST_P(SequentialGradient, SeparateReluAndSoftmaxLayersUnderFusedCrossEntropyMatch) {
  Sequential model({.seed = 5, .backend = GetParam()});
  model.add(Dense(6, Activation::none, 3));
  model.add(ReLU());
  model.add(Dense(4));
  model.add(Softmax());
  model.compile(Adam(), SparseCategoricalCrossentropy());
  Matrix x = test_support::random_matrix(5, 3, 42);
  Labels labels(5);
  labels << 0, 3, 1, 2, 3;
  const Targets y(labels);
  Workspace ws = model.make_workspace();
  Gradients grads = model.make_gradients();
  for (int repeat = 0; repeat < 2; ++repeat) {  // the second pass reuses the swapped buffers
    model.forward(x, ws);
    model.backward(ws, y, grads, true);
  }
  expect_parameter_and_input_gradients_match(model, x, y, ws, grads);
}

// A layer written against Layer's hooks alone, declaring no fusion:
// y = 2x + 1 element-wise.
class AffineWithoutFusion final : public Layer {
 public:
  std::string kind() const override { return "affine_without_fusion"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<AffineWithoutFusion>(*this); }
  nlohmann::json config() const override { return {{"type", kind()}}; }

 private:
  Index output_size_for(Index input_size) const override { return input_size; }
  void forward_impl(const Backend&, ConstMatrixRef x, LayerState& state) const override {
    state.output = (2.0f * x.array() + 1.0f).matrix();
  }
  void backward_impl(const Backend&, ConstMatrixRef, LayerState& state, std::span<Matrix>,
                     const BackwardPlan& plan) const override {
    if (plan.need_input_gradient) state.grad_input = 2.0f * state.grad_output;
  }
};

// New layers need not know about fusion: between Dense layers that fuse
// ReLU backwards and a softmax fused with its loss, such a layer still gets,
// and hands on, the right gradients.
TEST_P(SequentialGradient, ALayerThatKnowsNothingOfFusionGetsRightGradientsBetweenFusingLayers) {
  Sequential model({.seed = 6, .backend = GetParam()});
  model.add(Dense(6, Activation::relu, 3));
  model.add(AffineWithoutFusion());
  model.add(Dense(5, Activation::relu));
  model.add(ReLU());
  model.add(AffineWithoutFusion());
  model.add(Dense(4, Activation::softmax));
  model.compile(Adam(), SparseCategoricalCrossentropy());
  Matrix x = test_support::random_matrix(5, 3, 43);
  Labels labels(5);
  labels << 1, 0, 3, 2, 1;
  const Targets y(labels);
  Workspace ws = model.make_workspace();
  Gradients grads = model.make_gradients();
  model.forward(x, ws);
  model.backward(ws, y, grads, true);
  expect_parameter_and_input_gradients_match(model, x, y, ws, grads);
}

// backward_from_output(G) is the gradient of sum(G .* output): through the
// final softmax (no loss to fuse it with) and the ReLU, to every parameter
// and the input.
TEST_P(SequentialGradient, BackwardFromOutputMatchesFiniteDifferencesOfAWeightedOutput) {
  Sequential model({.seed = 6, .backend = GetParam()});
  model.add(Dense(6, Activation::relu, 3));
  model.add(Dense(4, Activation::softmax));
  model.compile(Adam(), SparseCategoricalCrossentropy());
  Matrix x = test_support::random_matrix(5, 3, 43);
  const Matrix weights = test_support::random_matrix(5, 4, 44);
  Workspace ws = model.make_workspace();
  Gradients grads = model.make_gradients();
  model.forward(x, ws);
  model.backward_from_output(ws, weights, grads, true);
  auto probe = std::make_shared<Workspace>(model.make_workspace());
  const auto weighted_output = [&model, &x, &weights, probe] {
    const Matrix& out = model.forward(x, *probe);
    return test_support::PiecewiseValue{test_support::weighted_sum(out, weights),
                                   test_support::sign_signature(probe->layers.front().output)};
  };
  expect_gradients_match(model, x, ws.input_gradient(), grads, weighted_output);
  EXPECT_THROW(model.backward_from_output(ws, Matrix::Zero(5, 3), grads), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, SequentialGradient, test_support::all_backends());

class SequentialNanInput : public ::testing::TestWithParam<BackendKind> {};

// A NaN input gives NaN outputs for its sample, batched or alone: no ReLU
// turns it into a plausible 0 and so a confident answer. The other samples of
// the batch are not touched. Not on oneDNN, whose ReLU fused into its matmul
// maps NaN to 0 (docs/architecture.md says so).
TEST_P(SequentialNanInput, GivesNanOutputForItsSampleOnly) {
  const Sequential model = classic_model(3, GetParam());
  Matrix x = test_support::separable_classes(40, 784, 10, 45).x;
  x(5, 300) = std::numeric_limits<float>::quiet_NaN();
  const Matrix out = model.predict(x);
  for (Index r = 0; r < x.rows(); ++r) {
    if (r == 5) {
      EXPECT_TRUE(out.row(r).array().isNaN().all()) << out.row(r);
    } else {
      EXPECT_TRUE(out.row(r).allFinite()) << "row " << r;
    }
  }
  EXPECT_TRUE(model.predict(x.row(5)).array().isNaN().all());
}

INSTANTIATE_TEST_SUITE_P(Backends, SequentialNanInput, ::testing::Values(BackendKind::eigen, BackendKind::native));

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

TEST(Sequential, SameSeedDataAndThreadsGiveBitIdenticalWeights) {
  const auto data = test_support::separable_classes(500, 784, 10, 9);
  auto train = [&] {
    Sequential model = classic_model(11);
    model.fit(data.x, data.y, {.epochs = 2, .batch_size = 64, .seed = 3});
    return model;
  };
  const Sequential a = train(), b = train();
  const auto pa = a.parameters(), pb = b.parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i)
    EXPECT_EQ(0, std::memcmp(pa[i]->data(), pb[i]->data(), sizeof(float) * pa[i]->size())) << "parameter " << i;
  const Sequential c = classic_model(12);
  EXPECT_NE(*a.parameters()[0], *c.parameters()[0]);
}

TEST(Sequential, PredictFromEightThreadsEqualsSerial) {
  const auto data = test_support::separable_classes(400, 784, 10, 13);
  Sequential model = classic_model(5);
  model.fit(data.x, data.y, {.epochs = 1, .batch_size = 64});
  const Sequential& frozen = model;
  const Matrix serial = frozen.predict(data.x);
  std::vector<Matrix> results(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 5; ++repeat) results[t] = frozen.predict(data.x, 1 + 37 * t);
    });
  for (auto& thread : threads) thread.join();
  for (const Matrix& r : results) test_support::expect_close(r, serial, 1e-5, "threaded predict", 1e-6);
}

// A caller's own OpenMP region: the library's parallel regions inside it run
// on one thread each (nested parallelism is off by default), which must
// still finish, with the same results. (Before its GEMM let any thread pack
// any group, this hung: each thread waited for the others' packing.)
TEST(Sequential, PredictAndTrainInsideTheCallersOpenMpRegion) {
  const auto data = test_support::separable_classes(200, 784, 10, 14);
  Sequential model = classic_model(6), twin = classic_model(6);
  const Matrix serial = std::as_const(model).predict(data.x);
  std::vector<Matrix> inside(2);
#pragma omp parallel num_threads(2)
  inside[static_cast<std::size_t>(omp_get_thread_num())] = std::as_const(model).predict(data.x);
  for (const Matrix& m : inside) test_support::expect_close(m, serial, 1e-5, "predict inside a parallel region", 1e-6);
  const Targets y(data.y);
  model.train_on_batch(data.x, y);
#pragma omp parallel num_threads(2)
#pragma omp single
  twin.train_on_batch(data.x, y);
  test_support::expect_close(*twin.parameters()[0], *model.parameters()[0], 1e-5, "training inside a parallel region", 1e-6);
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

TEST(Sequential, SaveLoadRoundTripGivesBitIdenticalPredictions) {
  const auto data = test_support::separable_classes(200, 784, 10, 25);
  Sequential model = classic_model(8);
  model.fit(data.x, data.y, {.epochs = 1, .batch_size = 32});
  const auto path = temp_path("roundtrip.model");
  model.save(path);
  Sequential loaded = Sequential::load(path);
  std::filesystem::remove(path);
  // The backend is a property of the process, not of the file.
  loaded.set_backend(model.backend_kind());
  const Matrix before = model.predict(data.x), after = loaded.predict(data.x);
  ASSERT_EQ(before.size(), after.size());
  EXPECT_EQ(0, std::memcmp(before.data(), after.data(), sizeof(float) * before.size()));
  EXPECT_EQ(loaded.optimizer()->config(), model.optimizer()->config());
  EXPECT_EQ(loaded.loss_function()->config(), model.loss_function()->config());
  EXPECT_EQ(loaded.training_config().at("batch_size"), 32);
  EXPECT_EQ(loaded.evaluate(data.x, data.y).metrics.at("accuracy"), model.evaluate(data.x, data.y).metrics.at("accuracy"));
}

TEST(Sequential, BackendCanBeChosenPerModel) {
  Sequential model = classic_model(1, BackendKind::eigen);
  EXPECT_EQ(model.backend_kind(), BackendKind::eigen);
  model.set_backend(BackendKind::onednn);
  EXPECT_EQ(model.backend_kind(), BackendKind::onednn);
  EXPECT_THROW(backend_kind_from_string("cuda"), Error);
}

TEST(Sequential, ClearErrorsForMisuse) {
  Sequential empty;
  EXPECT_THROW(empty.compile(Adam(), SparseCategoricalCrossentropy()), Error);
  Sequential no_input;
  EXPECT_THROW(no_input.add(Dense(3)), Error);
  Sequential model = classic_model(1);
  try {
    model.predict(Matrix::Zero(2, 783));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2 x 783]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(model.fit(Matrix::Zero(4, 784), Labels(Labels::Zero(3))), Error);
  EXPECT_THROW(model.fit(Matrix::Zero(4, 784), Labels(Labels::Constant(4, 10))), Error);
  EXPECT_THROW(model.fit(Matrix::Zero(4, 784), Labels(Labels::Zero(4)), {.batch_size = 0}), Error);
  Sequential uncompiled({.seed = 1});
  uncompiled.add(Dense(2, Activation::none, 2));
  EXPECT_THROW(uncompiled.predict(Matrix::Zero(1, 2)), Error);
}

// With a loss that is not fused with the output layer, backward is
// backward_from_output of the loss's own gradient: the same bits.
TEST(Sequential, BackwardEqualsBackwardFromTheLossGradient) {
  Sequential model({.seed = 9});
  model.add(Dense(6, Activation::relu, 3));
  model.add(Dense(2));
  model.compile(SGD(), MeanSquaredError());
  const Matrix x = test_support::random_matrix(7, 3, 45);
  const Targets y(Matrix(test_support::random_matrix(7, 2, 46)));
  Workspace ws = model.make_workspace();
  Gradients by_loss = model.make_gradients(), by_output = model.make_gradients();
  model.forward(x, ws);
  model.backward(ws, y, by_loss);
  Matrix output_gradient;
  model.loss_function()->gradient(ws.output(), y, output_gradient);
  model.backward_from_output(ws, output_gradient, by_output);
  ASSERT_EQ(by_loss.tensors.size(), by_output.tensors.size());
  for (std::size_t i = 0; i < by_loss.tensors.size(); ++i) EXPECT_EQ(by_loss.tensors[i], by_output.tensors[i]) << i;
}

bool same_bits(const Matrix& a, const Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0;
}

std::vector<Matrix> copy_of_parameters(const Sequential& model) {
  std::vector<Matrix> copies;
  for (const Matrix* p : model.parameters()) copies.push_back(*p);
  return copies;
}

bool parameters_are(const Sequential& model, const std::vector<Matrix>& expected) {
  const auto params = model.parameters();
  for (std::size_t i = 0; i < params.size(); ++i)
    if (!same_bits(*params[i], expected[i])) return false;
  return true;
}

// A copy is a separate model with the same weights, optimizer state and
// settings: trained alike, the two stay equal bit for bit; trained apart, the
// original does not move.
TEST(Sequential, CopyKeepsOptimizerStateAndIsIndependent) {
  const auto data = test_support::separable_classes(96, 5, 4, 31);
  const Targets y(data.y);
  Sequential model = small_model(3, default_backend());
  model.fit(data.x, data.y, {.epochs = 1, .batch_size = 16});
  Sequential copy(model);
  EXPECT_TRUE(same_bits(copy.predict(data.x), model.predict(data.x)));
  EXPECT_EQ(copy.optimizer()->iterations(), model.optimizer()->iterations());
  EXPECT_EQ(copy.training_config(), model.training_config());

  // Adam's moments and step count came along: a fresh Adam would step differently.
  model.train_on_batch(data.x, y);
  copy.train_on_batch(data.x, y);
  EXPECT_TRUE(same_bits(copy.predict(data.x), model.predict(data.x)));

  const Matrix before = model.predict(data.x);
  for (int i = 0; i < 3; ++i) copy.train_on_batch(data.x, y);
  EXPECT_TRUE(same_bits(model.predict(data.x), before));
  EXPECT_FALSE(same_bits(copy.predict(data.x), before));

  Sequential assigned = small_model(99, default_backend());
  assigned = model;
  EXPECT_TRUE(same_bits(assigned.predict(data.x), before));
  const Sequential& alias = assigned;
  assigned = alias;
  EXPECT_TRUE(same_bits(assigned.predict(data.x), before));
  assigned.train_on_batch(data.x, y);
  EXPECT_TRUE(same_bits(model.predict(data.x), before));
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

TEST(Sequential, SummaryListsLayersAndParameterCounts) {
  const std::string summary = classic_model(1).summary();
  for (const char* expected : {"0: ", "1: ", "2: ", "params 100480", "params 16512", "params 1290",
                               "total parameters: 118282", "\"dense\""})
    EXPECT_NE(summary.find(expected), std::string::npos) << expected << " not in\n" << summary;
}

TEST(Sequential, ProgressBarStyleDrawsALiveBar) {
  const auto data = test_support::separable_classes(64, 5, 4, 37);
  Sequential model = small_model(4, default_backend());
  std::ostringstream log;
  auto progress = std::make_shared<ProgressLogger>(log, ProgressOptions{.style = ProgressOptions::Style::bar});
  model.fit(data.x, data.y, {.epochs = 2, .batch_size = 16, .callbacks = {progress}});
  const std::string text = log.str();
  // The last batch of an epoch is always drawn, however soon after the last draw.
  EXPECT_NE(text.find("\rEpoch 1/2 [" + std::string(30, '=') + "] 4/4"), std::string::npos) << text;
  EXPECT_NE(text.find("\rEpoch 2/2 [" + std::string(30, '=') + "] 4/4"), std::string::npos) << text;
  EXPECT_NE(text.find("samples/s  ETA "), std::string::npos) << text;
}

// Separate ReLU and Softmax layers, an MSE loss and Nesterov SGD survive a
// save and load: the same layers, settings and predictions, bit for bit.
TEST(Sequential, SaveLoadKeepsSeparateActivationLayersLossAndOptimizer) {
  Sequential model({.seed = 15});
  model.add(Dense(6, Activation::none, 4));
  model.add(ReLU());
  model.add(Dense(3));
  model.add(Softmax());
  model.compile(SGD({.learning_rate = 0.05f, .momentum = 0.8f, .nesterov = true}), MeanSquaredError());
  const Matrix x = test_support::random_matrix(9, 4, 47);
  model.train_on_batch(x, Targets(Matrix(test_support::random_matrix(9, 3, 48))));
  const auto path = temp_path("activations.model");
  model.save(path);
  const Sequential loaded = Sequential::load(path);
  std::filesystem::remove(path);
  ASSERT_EQ(loaded.layer_count(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(loaded.layer(i).config(), model.layer(i).config()) << i;
  EXPECT_EQ(loaded.optimizer()->config(), model.optimizer()->config());
  EXPECT_EQ(loaded.loss_function()->config(), model.loss_function()->config());
  EXPECT_TRUE(same_bits(loaded.predict(x), model.predict(x)));
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
