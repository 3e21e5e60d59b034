// The oneDNN kernels against the plain Eigen reference: forward and backward
// of every layer and one full training step, at batch 1, 7 and 128.

#include <gtest/gtest.h>

#include "aisle/aisle.hpp"
#include "support/gradient_check.hpp"
#include "support/synthetic.hpp"

namespace aisle {
namespace {

// Relative error of the whole result, ||onednn - eigen|| / ||eigen||: element
// by element, sums that cancel would compare rounding noise.
constexpr double kTolerance = 1e-4;

void expect_agree(const Matrix& onednn, const Matrix& eigen, const char* what) {
  ASSERT_EQ(onednn.rows(), eigen.rows()) << what;
  ASSERT_EQ(onednn.cols(), eigen.cols()) << what;
  EXPECT_LT(testing::relative_error(onednn, eigen), kTolerance) << what;
}

class OneDnnVsEigen : public ::testing::TestWithParam<Index> {};

void compare_layer(const Layer& layer, Index batch, std::uint64_t seed) {
  const Matrix x = testing::random_matrix(batch, layer.input_size(), seed);
  const Matrix dy = testing::random_matrix(batch, layer.output_size(), seed + 1);
  LayerState eigen_state, onednn_state;
  layer.forward(backend(BackendKind::eigen), x, eigen_state);
  layer.forward(backend(BackendKind::onednn), x, onednn_state);
  expect_agree(onednn_state.output, eigen_state.output, "forward");
  eigen_state.grad_output = dy;
  onednn_state.grad_output = dy;
  std::vector<Matrix> eigen_grads(layer.parameters().size()), onednn_grads(layer.parameters().size());
  layer.backward(backend(BackendKind::eigen), x, eigen_state, eigen_grads, true);
  layer.backward(backend(BackendKind::onednn), x, onednn_state, onednn_grads, true);
  expect_agree(onednn_state.grad_input, eigen_state.grad_input, "input gradient");
  for (std::size_t i = 0; i < eigen_grads.size(); ++i)
    expect_agree(onednn_grads[i], eigen_grads[i], "parameter gradient");
}

TEST_P(OneDnnVsEigen, DenseLayers) {
  for (Activation act : {Activation::none, Activation::relu, Activation::softmax}) {
    Dense dense(33, act, 50);
    Rng rng(1);
    dense.build(50, rng);
    dense.parameters()[1] = testing::random_matrix(1, 33, 2, 0.1f);
    compare_layer(dense, GetParam(), 10);
  }
}

// The single-row kernel: full 64-wide output blocks and a tail, inputs half
// zeros (blank pixels) that it skips.
TEST(OneDnnVsEigen, SingleRowDenseWithZeroInputs) {
  for (Activation act : {Activation::none, Activation::relu}) {
    Dense dense(130, act, 96);
    Rng rng(3);
    dense.build(96, rng);
    dense.parameters()[1] = testing::random_matrix(1, 130, 4, 0.1f);
    Matrix x = testing::random_matrix(1, 96, 5);
    for (Index i = 0; i < x.cols(); i += 2) x(0, i) = 0.0f;
    LayerState eigen_state, onednn_state;
    dense.forward(backend(BackendKind::eigen), x, eigen_state);
    dense.forward(backend(BackendKind::onednn), x, onednn_state);
    expect_agree(onednn_state.output, eigen_state.output, "single-row forward");
  }
}

TEST_P(OneDnnVsEigen, ReLUAndSoftmax) {
  ReLU relu;
  Softmax softmax;
  Rng rng(1);
  relu.build(40, rng);
  softmax.build(10, rng);
  compare_layer(relu, GetParam(), 20);
  compare_layer(softmax, GetParam(), 30);
}

TEST_P(OneDnnVsEigen, FullTrainingStep) {
  const Index batch = GetParam();
  const auto data = testing::separable_classes(batch, 784, 10, 99);
  auto make = [](BackendKind kind) {
    Sequential model({.seed = 5, .backend = kind});
    model.add(Dense(128, Activation::relu, 784));
    model.add(Dense(128, Activation::relu));
    model.add(Dense(10, Activation::softmax));
    model.compile(SGD({.learning_rate = 0.1f}), SparseCategoricalCrossentropy(), {Metric::accuracy});
    return model;
  };
  Sequential eigen_model = make(BackendKind::eigen), onednn_model = make(BackendKind::onednn);
  const Targets y(data.y);
  Workspace eigen_ws = eigen_model.make_workspace(), onednn_ws = onednn_model.make_workspace();
  Gradients eigen_grads = eigen_model.make_gradients(), onednn_grads = onednn_model.make_gradients();
  eigen_model.forward(data.x, eigen_ws);
  onednn_model.forward(data.x, onednn_ws);
  expect_agree(onednn_ws.output(), eigen_ws.output(), "model output");
  EXPECT_NEAR(onednn_model.loss(onednn_ws, y), eigen_model.loss(eigen_ws, y), 1e-5);
  eigen_model.backward(eigen_ws, y, eigen_grads);
  onednn_model.backward(onednn_ws, y, onednn_grads);
  for (std::size_t i = 0; i < eigen_grads.tensors.size(); ++i)
    expect_agree(onednn_grads.tensors[i], eigen_grads.tensors[i], "gradient");
  eigen_model.apply_gradients(eigen_grads);
  onednn_model.apply_gradients(onednn_grads);
  for (std::size_t i = 0; i < eigen_grads.tensors.size(); ++i)
    expect_agree(*onednn_model.parameters()[i], *eigen_model.parameters()[i], "updated weights");
}

INSTANTIATE_TEST_SUITE_P(Batches, OneDnnVsEigen, ::testing::Values(1, 7, 128));

TEST(OneDnnBackend, ReusesPrimitivesAcrossCallsAndBatchSizes) {
  Dense dense(16, Activation::relu, 8);
  Rng rng(1);
  dense.build(8, rng);
  LayerState state;
  const Backend& be = backend(BackendKind::onednn);
  for (Index batch : {4, 9, 4, 9}) {
    const Matrix x = testing::random_matrix(batch, 8, static_cast<std::uint64_t>(batch));
    dense.forward(be, x, state);
    LayerState fresh;
    dense.forward(backend(BackendKind::eigen), x, fresh);
    expect_agree(state.output, fresh.output, "cached primitive");
  }
}

}  // namespace
}  // namespace aisle
