// MaxPool2D against hand-computed windows, its gradient against central
// differences (inputs without ties), Flatten as the identity, and both
// layers' configs through the registry.

#include <gtest/gtest.h>

#include "aisle/core/error.hpp"
#include "aisle/nn/flatten.hpp"
#include "aisle/nn/max_pool2d.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

MaxPool2D built(const MaxPool2DOptions& options) {
  MaxPool2D pool(options);
  Rng rng(0);
  pool.build(options.input.size(), rng);
  return pool;
}

TEST(MaxPool2D, TakesEachWindowsMaximumPerChannel) {
  // A 4x4 image of 2 channels: channel 0 counts up, channel 1 down.
  const MaxPool2D pool = built({.input = {4, 4, 2}, .pool = 2});
  Matrix x(1, 32);
  for (Index p = 0; p < 16; ++p) {
    x(0, 2 * p) = static_cast<float>(p);
    x(0, 2 * p + 1) = static_cast<float>(-p);
  }
  LayerState state;
  pool.forward(backend(BackendKind::native), x, state);
  ASSERT_EQ(pool.output_shape(), (ImageShape{2, 2, 2}));
  Matrix expected(1, 8);
  expected << 5, 0, 7, -2, 13, -8, 15, -10;
  EXPECT_EQ(state.output, expected);
}

TEST(MaxPool2D, GradientMatchesFiniteDifferences) {
  for (const auto& options : {MaxPool2DOptions{.input = {6, 5, 3}, .pool = 2}, MaxPool2DOptions{.input = {7, 7, 2}, .pool = 3, .stride = 2}}) {
    const MaxPool2D pool = built(options);
    Matrix x = test_support::random_matrix(2, options.input.size(), 41);
    const Matrix r = test_support::random_matrix(2, pool.output_shape().size(), 42);
    const Backend& be = backend(BackendKind::native);
    LayerState scratch;
    const auto objective = [&] {
      pool.forward(be, x, scratch);
      return test_support::weighted_sum(scratch.output, r);
    };
    LayerState state;
    pool.forward(be, x, state);
    state.grad_output = r;
    pool.backward(be, x, state, {});
    // Random normals have no ties, and a 1e-3 step does not change which one is largest.
    test_support::expect_gradient_matches(state.grad_input, test_support::numeric_gradient(x, objective, 1e-3f), 2e-3,
                                          "dx");
  }
}

// Over a ReLU's output (zeros included, whole windows of them), the fused
// backward is the plain one with the ReLU's backward applied after it.
TEST(MaxPool2D, FusedReluBackwardIsThePlainOneMaskedWhereTheInputIsZero) {
  for (const auto& options : {MaxPool2DOptions{.input = {6, 5, 3}, .pool = 2}, MaxPool2DOptions{.input = {7, 7, 2}, .pool = 3, .stride = 2}}) {
    const MaxPool2D pool = built(options);
    ASSERT_TRUE(pool.fusion().masks_input_gradient_with_relu);
    Matrix x = test_support::random_matrix(2, options.input.size(), 43).cwiseMax(0.0f);
    x.row(1).head(options.input.width * options.input.channels * 3).setZero();  // whole windows of zeros
    const Backend& be = backend(BackendKind::native);
    LayerState plain, fused;
    pool.forward(be, x, plain);
    pool.forward(be, x, fused);
    plain.grad_output = fused.grad_output = test_support::random_matrix(2, pool.output_shape().size(), 44);
    pool.backward(be, x, plain, {});
    pool.backward(be, x, fused, {}, {.mask_input_gradient_with_relu = true});
    const Matrix expected = (x.array() > 0.0f).select(plain.grad_input, 0.0f);
    EXPECT_EQ(fused.grad_input, expected);
    EXPECT_GT((plain.grad_input.array() != 0.0f).count(), (fused.grad_input.array() != 0.0f).count());
  }
}

TEST(MaxPool2D, ConfigRoundTripsAndRefusesPoolsThatDoNotFit) {
  const MaxPool2D pool({.input = {28, 28, 32}, .pool = 2});
  const auto restored = Layer::from_config(pool.config());
  EXPECT_EQ(restored->config(), pool.config());
  EXPECT_EQ(dynamic_cast<const MaxPool2D&>(*restored).output_shape(), (ImageShape{14, 14, 32}));
  EXPECT_THROW(MaxPool2D({.input = {1, 4, 1}, .pool = 2}), Error);
  EXPECT_THROW(MaxPool2D({.input = {4, 4, 1}, .pool = 0}), Error);
}

TEST(Flatten, PassesValuesAndGradientsThrough) {
  Flatten flatten;
  Rng rng(0);
  flatten.build(6, rng);
  const Matrix x = test_support::random_matrix(3, 6, 51);
  LayerState state;
  flatten.forward(backend(BackendKind::native), x, state);
  EXPECT_EQ(state.output, x);
  state.grad_output = test_support::random_matrix(3, 6, 52);
  flatten.backward(backend(BackendKind::native), x, state, {});
  EXPECT_EQ(state.grad_input, state.grad_output);
  EXPECT_EQ(Layer::from_config(flatten.config())->kind(), "flatten");
}

}  // namespace
}  // namespace aisle
