#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

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

// 37 rows of 10 classes: the exp runs vectorised over the whole block, rows
// straddle vector boundaries, and a strided view is read in place.
TEST_P(SoftmaxTest, ManyShortRowsMatchDoublePrecision) {
  Softmax softmax;
  Rng rng(0);
  softmax.build(10, rng);
  const Matrix wide = test_support::random_matrix(37, 12, 3, 20.0f);
  const auto x = wide.leftCols(10);
  LayerState state;
  softmax.forward(backend(GetParam()), x, state);
  for (Index r = 0; r < x.rows(); ++r) {
    double max = x(r, 0), sum = 0;
    for (Index c = 0; c < 10; ++c) max = std::max(max, static_cast<double>(x(r, c)));
    for (Index c = 0; c < 10; ++c) sum += std::exp(x(r, c) - max);
    for (Index c = 0; c < 10; ++c)
      EXPECT_NEAR(state.output(r, c), std::exp(x(r, c) - max) / sum, 1e-6) << "row " << r << " class " << c;
  }
}

TEST_P(SoftmaxTest, GradientMatchesFiniteDifferences) {
  Softmax softmax;
  Rng rng(0);
  softmax.build(5, rng);
  Matrix x = test_support::random_matrix(3, 5, 31);
  const Matrix r = test_support::random_matrix(3, 5, 32);
  const Backend& be = backend(GetParam());
  LayerState s;  // reused: kernels are made once
  auto objective = [&] {
    softmax.forward(be, x, s);
    return test_support::weighted_sum(s.output, r);
  };
  LayerState state;
  softmax.forward(be, x, state);
  state.grad_output = r;
  softmax.backward(be, x, state, {});
  test_support::expect_gradient_matches(state.grad_input, test_support::numeric_gradient(x, objective, 1e-2f), 1e-3, "dx");
}

INSTANTIATE_TEST_SUITE_P(Backends, SoftmaxTest, test_support::all_backends());

}  // namespace
}  // namespace aisle
