// GELU, exact and tanh-approximated: values against the scalar formulas,
// gradients against central differences.

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/nn/gelu.hpp"
#include "aisle/nn/layer.hpp"
#include "support/backends.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

double exact_gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

double tanh_gelu(double x) {
  const double pi = std::acos(-1.0);
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / pi) * (x + 0.044715 * x * x * x)));
}

GELU built_gelu(GeluApproximation approximation, Index width) {
  GELU gelu(approximation);
  Rng rng(0);
  gelu.build(width, rng);
  return gelu;
}

class GeluTest : public ::testing::TestWithParam<GeluApproximation> {};

TEST_P(GeluTest, MatchesTheScalarFormula) {
  const GELU gelu = built_gelu(GetParam(), 9);
  Matrix x(2, 9);
  x << -6, -3, -1.5f, -0.5f, 0, 0.25f, 1, 2.5f, 7,  //
      -0.01f, 0.01f, -2, 3, -4, 4, 0.75f, -0.75f, 1.25f;
  LayerState state;
  gelu.forward(backend(BackendKind::native), x, state);
  for (Index i = 0; i < x.size(); ++i) {
    const double v = x.data()[i];
    const double expected = GetParam() == GeluApproximation::tanh ? tanh_gelu(v) : exact_gelu(v);
    EXPECT_NEAR(state.output.data()[i], expected, 2e-6 * std::max(1.0, std::abs(expected))) << v;
  }
}

TEST_P(GeluTest, GradientMatchesFiniteDifferences) {
  const GELU gelu = built_gelu(GetParam(), 6);
  Matrix x = test_support::random_matrix(5, 6, 31, 3.0f);
  const Matrix r = test_support::random_matrix(5, 6, 32);
  const Backend& be = backend(BackendKind::native);
  LayerState scratch;
  const auto objective = [&] {
    gelu.forward(be, x, scratch);
    return test_support::weighted_sum(scratch.output, r);
  };
  LayerState state;
  gelu.forward(be, x, state);
  state.grad_output = r;
  gelu.backward(be, x, state, {});
  test_support::expect_gradient_matches(state.grad_input, test_support::numeric_gradient(x, objective, 1e-2f), 1e-3,
                                        "dx");
}

// The approximation travels in the layer's config, as a model file keeps it.
TEST_P(GeluTest, ConfigRoundTrips) {
  const GELU gelu(GetParam());
  const auto restored = Layer::from_config(gelu.config());
  ASSERT_EQ(restored->kind(), "gelu");
  EXPECT_EQ(dynamic_cast<const GELU&>(*restored).approximation(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Approximations, GeluTest,
                         ::testing::Values(GeluApproximation::none, GeluApproximation::tanh));

TEST(Gelu, RefusesAnUnknownApproximation) {
  EXPECT_THROW(Layer::from_config({{"type", "gelu"}, {"approximation", "sigmoid"}}), Error);
}

}  // namespace
}  // namespace aisle
