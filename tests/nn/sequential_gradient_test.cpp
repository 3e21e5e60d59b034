// Sequential's gradients against finite differences, through every fusion, and NaN inputs.

#include <functional>
#include <limits>

#include "support/sequential_helpers.hpp"

namespace aisle {
namespace {

using namespace test_support;

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

// forward and backward (passes times over the same workspace), then every
// parameter's and the input's gradient against finite differences of the loss.
void expect_backward_matches_finite_differences(Sequential& model, Matrix& x, const Targets& y, int passes = 1) {
  Workspace ws = model.make_workspace();
  Gradients grads = model.make_gradients();
  for (int pass = 0; pass < passes; ++pass) {
    model.forward(x, ws);
    model.backward(ws, y, grads, true);
  }
  expect_parameter_and_input_gradients_match(model, x, y, ws, grads);
}

// 3 inputs -> Dense(6) -> ReLU -> Dense(outputs) -> Softmax, its activations as layers of their own.
template <class OptimizerType, class LossType>
Sequential separate_activations_model(std::uint64_t seed, BackendKind kind, Index outputs, OptimizerType optimizer,
                                      LossType loss) {
  Sequential model({.seed = seed, .backend = kind});
  model.add(Dense(6, Activation::none, 3));
  model.add(ReLU());
  model.add(Dense(outputs));
  model.add(Softmax());
  model.compile(std::move(optimizer), std::move(loss));
  return model;
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
  Sequential model = separate_activations_model(4, GetParam(), 3, SGD(), MeanSquaredError());
  Matrix x = test_support::random_matrix(5, 3, 40);
  expect_backward_matches_finite_differences(model, x, Targets(Matrix(test_support::random_matrix(5, 3, 41))));
}

// Separate ReLU and Softmax layers under the fused cross-entropy: the Dense
// above differentiates the ReLU, the loss the softmax, and both layers only
// hand their gradient on.
TEST_P(SequentialGradient, SeparateReluAndSoftmaxLayersUnderFusedCrossEntropyMatch) {
  Sequential model = separate_activations_model(5, GetParam(), 4, Adam(), SparseCategoricalCrossentropy());
  Matrix x = test_support::random_matrix(5, 3, 42);
  Labels labels(5);
  labels << 0, 3, 1, 2, 3;
  // Two passes: the second reuses the swapped buffers.
  expect_backward_matches_finite_differences(model, x, Targets(labels), 2);
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
  expect_backward_matches_finite_differences(model, x, Targets(labels));
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

}  // namespace
}  // namespace aisle
