// adam_update against the formula in double precision: every tail length of
// the vector loop, gradients from 1e-30 to 1e30 (the second moment then
// overflows to infinity, as in the exact float formula), zeros, and the same
// bits however the elements are shared out.

#include "backend/adam_kernel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "support/gradient_check.hpp"

namespace aisle::detail {
namespace {

struct State {
  std::vector<float> p, m, v, g;
};

State random_state(Index n, std::uint64_t seed) {
  const Matrix r = test_support::random_matrix(4, n, seed);
  State s{std::vector<float>(r.data(), r.data() + n), std::vector<float>(r.data() + n, r.data() + 2 * n),
          std::vector<float>(r.data() + 2 * n, r.data() + 3 * n), std::vector<float>(r.data() + 3 * n, r.data() + 4 * n)};
  for (Index i = 0; i < n; ++i) {
    s.m[i] *= 1e-2f;
    s.v[i] = s.v[i] * s.v[i] * 1e-4f;  // a second moment is not negative
    s.g[i] *= std::pow(10.0f, static_cast<float>(i % 13) - 8.0f);
    if (i % 11 == 0) s.g[i] = 0.0f;
  }
  return s;
}

const AdamStep kStep{.beta1 = 0.9f,
                     .beta2 = 0.999f,
                     .step_size = 0.5f,
                     .inv_sqrt_correction2 = 1.3f,
                     .epsilon = 1e-7f,
                     .decay = 0.01f};

// The formula in double precision, from the same float inputs.
State reference(State s, const AdamStep& c) {
  for (std::size_t i = 0; i < s.p.size(); ++i) {
    const double g = s.g[i];
    const double m = c.beta1 * double{s.m[i]} + (1.0 - c.beta1) * g;
    const double v = c.beta2 * double{s.v[i]} + (1.0 - c.beta2) * g * g;
    const double p = s.p[i] - (c.step_size * m / (std::sqrt(v) * c.inv_sqrt_correction2 + c.epsilon) + c.decay * s.p[i]);
    s.m[i] = static_cast<float>(m);
    s.v[i] = static_cast<float>(v);
    s.p[i] = static_cast<float>(p);
  }
  return s;
}

void update(State& s, Index begin, Index end) {
  adam_update(s.p.data(), s.m.data(), s.v.data(), s.g.data(), begin, end, kStep);
}

// |got - expected| / max(|expected|, floor): relative, or absolute below the
// floor (a parameter that lands near zero is the difference of two larger
// floats and cannot be closer than their rounding).
double worst_error(const std::vector<float>& got, const std::vector<float>& expected, double floor) {
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::abs(double{got[i]} - expected[i]) / std::max(floor, std::abs(double{expected[i]})));
  return worst;
}

TEST(AdamKernel, MatchesTheFormulaForEveryTailLength) {
  for (Index n : {1, 5, 8, 15, 16, 17, 31, 33, 1000}) {
    State s = random_state(n, 7);
    const State expected = reference(s, kStep);
    update(s, 0, n);
    EXPECT_LT(worst_error(s.p, expected.p, 1.0), 2e-6) << n << " elements";
    EXPECT_LT(worst_error(s.m, expected.m, 1e-30), 1e-6) << n << " elements";
    EXPECT_LT(worst_error(s.v, expected.v, 1e-30), 1e-6) << n << " elements";
  }
}

TEST(AdamKernel, ZeroMomentsAndInfiniteSecondMomentStayFinite) {
  // g = 0 on fresh moments: v = 0, sqrt(v) = 0, the step is 0 / epsilon = 0.
  // g = 1e30: g^2 overflows, v = inf, the step is m / inf = 0.
  State s{{1.0f, 2.0f, 3.0f}, {0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f}, {0.0f, 1e30f, -1e30f}};
  update(s, 0, 3);
  EXPECT_FLOAT_EQ(s.p[0], 1.0f - kStep.decay * 1.0f);
  EXPECT_EQ(s.v[1], std::numeric_limits<float>::infinity());
  EXPECT_FLOAT_EQ(s.p[1], 2.0f - kStep.decay * 2.0f);
  EXPECT_FLOAT_EQ(s.p[2], 3.0f - kStep.decay * 3.0f);
}

TEST(AdamKernel, SameBitsHoweverTheElementsAreShared) {
  const Index n = 1003;
  const State start = random_state(n, 9);
  State whole = start;
  update(whole, 0, n);
  for (const std::vector<Index>& cuts : {std::vector<Index>{0, 1, n}, {0, 7, 500, 501, n}, {0, 333, 666, n}}) {
    State pieces = start;
    for (std::size_t i = 0; i + 1 < cuts.size(); ++i) update(pieces, cuts[i], cuts[i + 1]);
    EXPECT_EQ(std::memcmp(whole.p.data(), pieces.p.data(), sizeof(float) * n), 0);
    EXPECT_EQ(std::memcmp(whole.m.data(), pieces.m.data(), sizeof(float) * n), 0);
    EXPECT_EQ(std::memcmp(whole.v.data(), pieces.v.data(), sizeof(float) * n), 0);
  }
}

TEST(AdamKernel, TouchesOnlyItsRange) {
  State s = random_state(40, 11);
  const State start = s;
  update(s, 10, 27);
  for (Index i = 0; i < 40; ++i) {
    const bool inside = i >= 10 && i < 27;
    EXPECT_EQ(s.p[i] != start.p[i], inside) << i;
    EXPECT_EQ(s.m[i] != start.m[i], inside) << i;
    EXPECT_EQ(s.v[i] != start.v[i], inside) << i;
  }
}

}  // namespace
}  // namespace aisle::detail
