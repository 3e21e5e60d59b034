#include <gtest/gtest.h>

#include "aisle/nn/softmax.hpp"
#include "support/backends.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

class SoftmaxTest : public ::testing::TestWithParam<BackendKind> {};

TEST_P(SoftmaxTest, ForwardMatchesHandComputedValues) {
  Softmax softmax;
  Rng rng(0);
  softmax.build(3, rng);
  Matrix x(1, 3);
  x << 1, 2, 3;
  LayerState state;
  softmax.forward(backend(GetParam()), x, state);
  // exp(1,2,3) / (e + e^2 + e^3)
  EXPECT_NEAR(state.output(0, 0), 0.09003057f, 1e-6f);
  EXPECT_NEAR(state.output(0, 1), 0.24472847f, 1e-6f);
  EXPECT_NEAR(state.output(0, 2), 0.66524096f, 1e-6f);
}

TEST_P(SoftmaxTest, StaysFiniteForHugeLogits) {
  Softmax softmax;
  Rng rng(0);
  softmax.build(3, rng);
  Matrix x(2, 3);
  x << 1e4f, -1e4f, 0, -1e4f, -1e4f, -1e4f;
  LayerState state;
  softmax.forward(backend(GetParam()), x, state);
  EXPECT_TRUE(state.output.allFinite());
  EXPECT_NEAR(state.output(0, 0), 1.0f, 1e-6f);
  EXPECT_NEAR(state.output(1, 2), 1.0f / 3, 1e-6f);
}

TEST_P(SoftmaxTest, GradientMatchesFiniteDifferences) {
  Softmax softmax;
  Rng rng(0);
  softmax.build(5, rng);
  Matrix x = testing::random_matrix(3, 5, 31);
  const Matrix r = testing::random_matrix(3, 5, 32);
  const Backend& be = backend(GetParam());
  LayerState s;  // reused: kernels are made once
  auto objective = [&] {
    softmax.forward(be, x, s);
    return testing::weighted_sum(s.output, r);
  };
  LayerState state;
  softmax.forward(be, x, state);
  state.grad_output = r;
  softmax.backward(be, x, state, {}, true);
  testing::expect_gradient_matches(state.grad_input, testing::numeric_gradient(x, objective, 1e-2f), 1e-3, "dx");
}

INSTANTIATE_TEST_SUITE_P(Backends, SoftmaxTest, testing::all_backends());

}  // namespace
}  // namespace aisle
