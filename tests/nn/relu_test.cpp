#include <gtest/gtest.h>

#include "aisle/nn/relu.hpp"
#include "support/backends.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

class ReLUTest : public ::testing::TestWithParam<BackendKind> {};

TEST_P(ReLUTest, ForwardClampsNegatives) {
  ReLU relu;
  Rng rng(0);
  relu.build(3, rng);
  Matrix x(2, 3);
  x << -1, 0, 2, 3, -0.5f, 0.25f;
  LayerState state;
  relu.forward(backend(GetParam()), x, state);
  Matrix expected(2, 3);
  expected << 0, 0, 2, 3, 0, 0.25f;
  EXPECT_EQ(state.output, expected);
}

TEST_P(ReLUTest, GradientMatchesFiniteDifferences) {
  ReLU relu;
  Rng rng(0);
  relu.build(6, rng);
  Matrix x = test_support::random_matrix(4, 6, 21);
  // Keep every input away from the kink at 0.
  x = x.unaryExpr([](float v) { return std::abs(v) < 0.1f ? v + (v < 0 ? -0.2f : 0.2f) : v; });
  const Matrix r = test_support::random_matrix(4, 6, 22);
  const Backend& be = backend(GetParam());
  LayerState s;  // reused: kernels are made once
  auto objective = [&] {
    relu.forward(be, x, s);
    return test_support::weighted_sum(s.output, r);
  };
  LayerState state;
  relu.forward(be, x, state);
  state.grad_output = r;
  relu.backward(be, x, state, {});
  test_support::expect_gradient_matches(state.grad_input, test_support::numeric_gradient(x, objective, 1e-2f), 1e-3, "dx");
}

INSTANTIATE_TEST_SUITE_P(Backends, ReLUTest, test_support::all_backends());

}  // namespace
}  // namespace aisle
