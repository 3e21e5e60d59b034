#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "aisle/rec/topk.hpp"

using aisle::Index;
using aisle::rec::top_k;

TEST(RecTopK, HighestFirstTiesByLowerIndex) {
  const std::vector<float> scores{0.5f, 2.0f, 0.5f, 3.0f, 2.0f, -1.0f};
  const auto all = [](Index) { return true; };
  EXPECT_EQ(top_k(std::span<const float>(scores), 4, all), (std::vector<Index>{3, 1, 4, 0}));
  EXPECT_EQ(top_k(std::span<const float>(scores), 10, all), (std::vector<Index>{3, 1, 4, 0, 2, 5}));
  EXPECT_TRUE(top_k(std::span<const float>(scores), 0, all).empty());
}

TEST(RecTopK, SkipsIneligibleAndRanksNanLast) {
  const std::vector<float> scores{1.0f, NAN, 5.0f, 4.0f};
  const auto not_two = [](Index i) { return i != 2; };
  EXPECT_EQ(top_k(std::span<const float>(scores), 3, not_two), (std::vector<Index>{3, 0, 1}));
}

TEST(RecTopK, AsksEligibilityOnlyOfContenders) {
  std::vector<float> scores(1000);
  for (std::size_t i = 0; i < scores.size(); ++i) scores[i] = static_cast<float>(i);
  int asked = 0;
  const auto top = top_k(std::span<const float>(scores), 5, [&](Index) {
    ++asked;
    return true;
  });
  EXPECT_EQ(top, (std::vector<Index>{999, 998, 997, 996, 995}));
  EXPECT_EQ(asked, 1000);  // ascending scores: every item is a contender
  asked = 0;
  std::vector<float> descending(scores.rbegin(), scores.rend());
  top_k(std::span<const float>(descending), 5, [&](Index) {
    ++asked;
    return true;
  });
  EXPECT_EQ(asked, 5);
}
