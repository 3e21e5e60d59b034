// The oneDNN and native kernels against the plain Eigen reference: forward
// and backward of every layer and one full training step, at batch 1, 7 and
// 128.

#include <gtest/gtest.h>

#include "aisle/aisle.hpp"
#include "support/classic_model.hpp"
#include "support/gradient_check.hpp"
#include "support/synthetic.hpp"

namespace aisle {
namespace {

// Relative error of the whole result, ||tested - eigen|| / ||eigen||: element
// by element, sums that cancel would compare rounding noise.
constexpr double kTolerance = 1e-4;

void expect_agree(const Matrix& tested, const Matrix& eigen, const char* what) {
  ASSERT_EQ(tested.rows(), eigen.rows()) << what;
  ASSERT_EQ(tested.cols(), eigen.cols()) << what;
  EXPECT_LT(test_support::relative_error(tested, eigen), kTolerance) << what;
}

class BackendVsEigen : public ::testing::TestWithParam<std::tuple<BackendKind, Index>> {
 protected:
  BackendKind kind() const { return std::get<0>(GetParam()); }
  Index batch() const { return std::get<1>(GetParam()); }
};

void compare_layer(const Layer& layer, BackendKind kind, Index batch, std::uint64_t seed) {
  const Matrix x = test_support::random_matrix(batch, layer.input_size(), seed);
  const Matrix dy = test_support::random_matrix(batch, layer.output_size(), seed + 1);
  LayerState eigen_state, tested_state;
  layer.forward(backend(BackendKind::eigen), x, eigen_state);
  layer.forward(backend(kind), x, tested_state);
  expect_agree(tested_state.output, eigen_state.output, "forward");
  eigen_state.grad_output = dy;
  tested_state.grad_output = dy;
  std::vector<Matrix> eigen_grads(layer.parameters().size()), tested_grads(layer.parameters().size());
  layer.backward(backend(BackendKind::eigen), x, eigen_state, eigen_grads);
  layer.backward(backend(kind), x, tested_state, tested_grads);
  expect_agree(tested_state.grad_input, eigen_state.grad_input, "input gradient");
  for (std::size_t i = 0; i < eigen_grads.size(); ++i)
    expect_agree(tested_grads[i], eigen_grads[i], "parameter gradient");
}

TEST_P(BackendVsEigen, DenseLayers) {
  for (Activation act : {Activation::none, Activation::relu, Activation::softmax}) {
    Dense dense(33, act, 50);
    Rng rng(1);
    dense.build(50, rng);
    dense.parameters()[1] = test_support::random_matrix(1, 33, 2, 0.1f);
    compare_layer(dense, kind(), batch(), 10);
  }
}

// The single-row kernel: full 64-wide output blocks and a tail, inputs half
// zeros (blank pixels) that it skips.
TEST_P(BackendVsEigen, SingleRowDenseWithZeroInputs) {
  for (Activation act : {Activation::none, Activation::relu}) {
    Dense dense(130, act, 96);
    Rng rng(3);
    dense.build(96, rng);
    dense.parameters()[1] = test_support::random_matrix(1, 130, 4, 0.1f);
    Matrix x = test_support::random_matrix(1, 96, 5);
    for (Index i = 0; i < x.cols(); i += 2) x(0, i) = 0.0f;
    LayerState eigen_state, tested_state;
    dense.forward(backend(BackendKind::eigen), x, eigen_state);
    dense.forward(backend(kind()), x, tested_state);
    expect_agree(tested_state.output, eigen_state.output, "single-row forward");
  }
}

TEST_P(BackendVsEigen, ReLUAndSoftmax) {
  ReLU relu;
  Softmax softmax;
  Rng rng(1);
  relu.build(40, rng);
  softmax.build(10, rng);
  compare_layer(relu, kind(), batch(), 20);
  compare_layer(softmax, kind(), batch(), 30);
}

TEST_P(BackendVsEigen, FullTrainingStep) {
  const Index batch = this->batch();
  const auto data = test_support::separable_classes(batch, 784, 10, 99);
  auto make = [](BackendKind kind) { return test_support::classic_model(5, kind, SGD({.learning_rate = 0.1f})); };
  Sequential eigen_model = make(BackendKind::eigen), tested_model = make(kind());
  const Targets y(data.y);
  Workspace eigen_ws = eigen_model.make_workspace(), tested_ws = tested_model.make_workspace();
  Gradients eigen_grads = eigen_model.make_gradients(), tested_grads = tested_model.make_gradients();
  eigen_model.forward(data.x, eigen_ws);
  tested_model.forward(data.x, tested_ws);
  expect_agree(tested_ws.output(), eigen_ws.output(), "model output");
  EXPECT_NEAR(tested_model.loss(tested_ws, y), eigen_model.loss(eigen_ws, y), 1e-5);
  eigen_model.backward(eigen_ws, y, eigen_grads);
  tested_model.backward(tested_ws, y, tested_grads);
  for (std::size_t i = 0; i < eigen_grads.tensors.size(); ++i)
    expect_agree(tested_grads.tensors[i], eigen_grads.tensors[i], "gradient");
  eigen_model.apply_gradients(eigen_grads);
  tested_model.apply_gradients(tested_grads);
  for (std::size_t i = 0; i < eigen_grads.tensors.size(); ++i)
    expect_agree(*tested_model.parameters()[i], *eigen_model.parameters()[i], "updated weights");
}

INSTANTIATE_TEST_SUITE_P(BackendsAndBatches, BackendVsEigen,
                         ::testing::Combine(::testing::Values(BackendKind::onednn, BackendKind::native),
                                            ::testing::Values(1, 7, 128)),
                         [](const auto& info) {
                           return std::string(to_string(std::get<0>(info.param))) + "_batch" +
                                  std::to_string(std::get<1>(info.param));
                         });

// oneDNN primitives and packing buffers cached in a layer's state stay
// right when the batch size changes back and forth.
TEST(BackendCaches, ReusedAcrossCallsAndBatchSizes) {
  Dense dense(40, Activation::relu, 8);
  Rng rng(1);
  dense.build(8, rng);
  for (BackendKind kind : {BackendKind::onednn, BackendKind::native}) {
    LayerState state;
    for (Index batch : {4, 9, 300, 4, 9}) {
      const Matrix x = test_support::random_matrix(batch, 8, static_cast<std::uint64_t>(batch));
      dense.forward(backend(kind), x, state);
      LayerState fresh;
      dense.forward(backend(BackendKind::eigen), x, fresh);
      expect_agree(state.output, fresh.output, "cached kernel state");
    }
  }
}

}  // namespace
}  // namespace aisle
