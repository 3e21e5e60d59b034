#include <gtest/gtest.h>

#include "aisle/core/error.hpp"
#include "aisle/nn/dense.hpp"
#include "aisle/nn/relu.hpp"
#include "support/backends.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

using test_support::numeric_gradient;
using test_support::random_matrix;
using test_support::weighted_sum;

Dense built_dense(Index units, Activation act, Index inputs, std::uint64_t seed = 1) {
  Dense dense(units, act, inputs);
  Rng rng(seed);
  dense.build(inputs, rng);
  // Non-zero bias so its gradient path is exercised.
  dense.parameters()[1] = random_matrix(1, units, seed + 100, 0.1f);
  return dense;
}

class DenseGradient : public ::testing::TestWithParam<std::tuple<BackendKind, Activation>> {};

TEST_P(DenseGradient, MatchesFiniteDifferences) {
  const auto [kind, act] = GetParam();
  const Backend& be = backend(kind);
  Dense dense = built_dense(5, act, 4);
  Matrix x = random_matrix(3, 4, 7);
  const Matrix r = random_matrix(3, 5, 9);
  LayerState state;
  LayerState s;  // reused: kernels are made once
  auto objective = [&] {
    dense.forward(be, x, s);
    return weighted_sum(s.output, r);
  };
  dense.forward(be, x, state);
  if (act == Activation::relu) {
    // Keep away from the kink, where finite differences are meaningless.
    ASSERT_GT((state.output.array() > 0).count(), 0);
  }
  state.grad_output = r;
  std::vector<Matrix> grads(2);
  dense.backward(be, x, state, grads);
  const Matrix dx = state.grad_input;
  test_support::expect_gradient_matches(grads[0], numeric_gradient(dense.parameters()[0], objective, 1e-2f), 1e-3, "dW");
  test_support::expect_gradient_matches(grads[1], numeric_gradient(dense.parameters()[1], objective, 1e-2f), 1e-3, "db");
  test_support::expect_gradient_matches(dx, numeric_gradient(x, objective, 1e-2f), 1e-3, "dx");
}

class DenseSoftmaxGradient : public ::testing::TestWithParam<BackendKind> {};

TEST_P(DenseSoftmaxGradient, MatchesFiniteDifferences) {
  const Backend& be = backend(GetParam());
  Dense dense = built_dense(4, Activation::softmax, 3);
  Matrix x = random_matrix(2, 3, 11);
  const Matrix r = random_matrix(2, 4, 12);
  LayerState s;  // reused: kernels are made once
  auto objective = [&] {
    dense.forward(be, x, s);
    return weighted_sum(s.output, r);
  };
  LayerState state;
  dense.forward(be, x, state);
  state.grad_output = r;
  std::vector<Matrix> grads(2);
  dense.backward(be, x, state, grads);
  const Matrix dx = state.grad_input;
  test_support::expect_gradient_matches(grads[0], numeric_gradient(dense.parameters()[0], objective, 1e-2f), 1e-3, "dW");
  test_support::expect_gradient_matches(dx, numeric_gradient(x, objective, 1e-2f), 1e-3, "dx");
}

INSTANTIATE_TEST_SUITE_P(Backends, DenseSoftmaxGradient, test_support::all_backends());

INSTANTIATE_TEST_SUITE_P(Backends, DenseGradient,
                         ::testing::Combine(test_support::all_backends(),
                                            ::testing::Values(Activation::none, Activation::relu)));

// The layer below's ReLU backward fused into the input gradient gives the
// same bits as that ReLU's own backward pass after the product.
class DenseInputReluMask : public ::testing::TestWithParam<std::tuple<BackendKind, Index>> {};

TEST_P(DenseInputReluMask, EqualsReluBackwardAfterTheProduct) {
  const auto [kind, batch] = GetParam();
  const Backend& be = backend(kind);
  const Dense dense = built_dense(40, Activation::relu, 37);
  const Matrix below_output = random_matrix(batch, 37, 21).cwiseMax(0.0f);  // a ReLU's output: half zeros
  const Matrix r = random_matrix(batch, 40, 22);
  LayerState fused, separate;
  dense.forward(be, below_output, fused);
  dense.forward(be, below_output, separate);
  fused.grad_output = separate.grad_output = r;
  std::vector<Matrix> fused_grads(2), separate_grads(2);
  dense.backward(be, below_output, fused, fused_grads, {.mask_input_gradient_with_relu = true});
  dense.backward(be, below_output, separate, separate_grads);
  Matrix expected;
  KernelSlot slot;
  be.relu_backward(below_output, separate.grad_input, expected, slot);
  EXPECT_EQ(fused.grad_input, expected);
  EXPECT_EQ(fused_grads[0], separate_grads[0]);
  EXPECT_EQ(fused_grads[1], separate_grads[1]);
  EXPECT_GT((fused.grad_input.array() == 0.0f).count(), fused.grad_input.size() / 4);
}

INSTANTIATE_TEST_SUITE_P(BackendsAndBatches, DenseInputReluMask,
                         ::testing::Combine(test_support::all_backends(),
                                            ::testing::Values(Index{1}, Index{7}, Index{128})));

// The mask is the layer's own input, so its shape always fits; a layer that
// cannot fuse the ReLU backward below refuses a plan that asks it to.
TEST(Dense, LayersThatCannotFuseTheReluBelowRefuseToMaskTheirInputGradient) {
  const Backend& be = backend(BackendKind::eigen);
  const Matrix x = random_matrix(3, 4, 7);
  ReLU relu;
  Rng rng(1);
  relu.build(4, rng);
  LayerState relu_state;
  relu.forward(be, x, relu_state);
  relu_state.grad_output = x;
  std::vector<Matrix> none;
  try {
    relu.backward(be, x, relu_state, none, {.mask_input_gradient_with_relu = true});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("relu layer: backward cannot fuse the ReLU backward"), std::string::npos)
        << e.what();
  }
}

TEST(Dense, ForwardIsXTimesWPlusB) {
  Dense dense = built_dense(2, Activation::none, 3);
  dense.parameters()[0] << 1, 2, 3, 4, 5, 6;
  dense.parameters()[1] << 0.5f, -1;
  Matrix x(1, 3);
  x << 1, -1, 2;
  LayerState state;
  dense.forward(backend(BackendKind::onednn), x, state);
  EXPECT_FLOAT_EQ(state.output(0, 0), 1 - 3 + 10 + 0.5f);
  EXPECT_FLOAT_EQ(state.output(0, 1), 2 - 4 + 12 - 1);
}

TEST(Dense, GlorotInitialisationIsSeededAndBounded) {
  const Dense a = built_dense(128, Activation::relu, 784, 5);
  const Dense b = built_dense(128, Activation::relu, 784, 5);
  const Dense c = built_dense(128, Activation::relu, 784, 6);
  EXPECT_EQ(a.weight(), b.weight());
  EXPECT_NE(a.weight(), c.weight());
  const float limit = std::sqrt(6.0f / (784 + 128));
  EXPECT_LE(a.weight().cwiseAbs().maxCoeff(), limit);
  EXPECT_GT(a.weight().cwiseAbs().maxCoeff(), 0.9f * limit);
  EXPECT_NEAR(a.weight().mean(), 0.0f, 0.01f);
}

TEST(Dense, HeNormalHasTheRightSpread) {
  Dense dense({.units = 256, .activation = Activation::relu, .input_size = 512, .init = Init::he_normal});
  Rng rng(3);
  dense.build(512, rng);
  const double variance = dense.weight().cast<double>().array().square().mean();
  EXPECT_NEAR(variance, 2.0 / 512, 0.1 * 2.0 / 512);
}

TEST(Dense, ConfigRoundTripsEveryInitialiserAndActivation) {
  for (const Init init : {Init::glorot_uniform, Init::he_uniform, Init::he_normal})
    for (const Activation activation : {Activation::none, Activation::relu, Activation::softmax}) {
      const Dense dense({.units = 3, .activation = activation, .input_size = 4, .init = init});
      EXPECT_EQ(Layer::from_config(dense.config())->config(), dense.config());
    }
  nlohmann::json config = Dense(3, Activation::relu, 4).config();
  config["init"] = "lecun_normal";
  EXPECT_THROW(Layer::from_config(config), Error);
  config["init"] = "he_normal";
  config["activation"] = "tanh";
  EXPECT_THROW(Layer::from_config(config), Error);
}

TEST(Dense, RejectsWrongInputWidthNamingShapes) {
  const Dense dense = built_dense(2, Activation::none, 3);
  LayerState state;
  try {
    dense.forward(backend(BackendKind::eigen), Matrix::Zero(4, 5), state);
    FAIL() << "expected aisle::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[4 x 5]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Dense(0), Error);
}

TEST(Dense, AcceptsMapOfCallerMemoryWithoutCopy) {
  const Dense dense = built_dense(2, Activation::none, 3);
  std::vector<float> buffer = {1, 2, 3, 4, 5, 6};
  const ConstMatrixMap view(buffer.data(), 2, 3);
  LayerState a, b;
  dense.forward(backend(BackendKind::onednn), view, a);
  dense.forward(backend(BackendKind::onednn), Matrix(view), b);
  EXPECT_EQ(a.output, b.output);
  // A Ref bound to the map points at the caller's buffer.
  const ConstMatrixRef ref(view);
  EXPECT_EQ(ref.data(), buffer.data());
}

}  // namespace
}  // namespace aisle
