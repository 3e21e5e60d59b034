// Sequential's calls: backend choice, errors for misuse, backward variants, copies and summaries.

#include "support/sequential_helpers.hpp"

namespace aisle {
namespace {

using namespace test_support;

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

TEST(Sequential, SummaryListsLayersAndParameterCounts) {
  const std::string summary = classic_model(1).summary();
  for (const char* expected : {"0: ", "1: ", "2: ", "params 100480", "params 16512", "params 1290",
                               "total parameters: 118282", "\"dense\""})
    EXPECT_NE(summary.find(expected), std::string::npos) << expected << " not in\n" << summary;
}

}  // namespace
}  // namespace aisle
