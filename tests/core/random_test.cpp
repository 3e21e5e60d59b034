#include <gtest/gtest.h>

#include <vector>

#include "aisle/core/random.hpp"

TEST(Rng, SameSeedSameSequence) {
  aisle::Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const auto va = a.next_u64();
    EXPECT_EQ(va, b.next_u64());
    differs = differs || va != c.next_u64();
  }
  EXPECT_TRUE(differs);
}

TEST(Rng, UniformStaysInRangeAndBelowIsUnbiasedEnough) {
  aisle::Rng rng(7);
  std::vector<int> counts(5, 0);
  for (int i = 0; i < 50000; ++i) {
    const float u = rng.uniform();
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    ++counts[rng.below(5)];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
}

TEST(Rng, NormalHasUnitVariance) {
  aisle::Rng rng(3);
  double sum = 0, sum_sq = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const double x = rng.normal();
    sum += x;
    sum_sq += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.02);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.02);
}
