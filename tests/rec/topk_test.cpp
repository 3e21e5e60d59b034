#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
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

// Long score lists take the block-skipping path: its answer must be the
// full sort's, with ties by index, NaN last and ineligible items skipped.
TEST(RecTopK, LongListsEqualAFullSortWithTiesNanAndFilters) {
  std::uint32_t state = 12345;
  const auto next = [&] { return state = state * 1664525u + 1013904223u; };
  for (const Index n : {Index{31}, Index{32}, Index{33}, Index{100}, Index{1000}, Index{4099}}) {
    std::vector<float> scores(static_cast<std::size_t>(n));
    for (auto& s : scores) {
      const auto r = next() >> 8;
      s = r % 17 == 0 ? NAN : static_cast<float>(r % 50);  // many ties, some NaN
    }
    const auto eligible = [](Index i) { return i % 7 != 3; };
    std::vector<Index> order;
    for (Index i = 0; i < n; ++i)
      if (eligible(i)) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) {
      return aisle::rec::ranks_before(scores[static_cast<std::size_t>(a)], a, scores[static_cast<std::size_t>(b)], b);
    });
    for (const Index k : {Index{1}, Index{10}, Index{64}, n}) {
      const auto expected = std::vector<Index>(order.begin(), order.begin() + std::min<Index>(k, static_cast<Index>(order.size())));
      EXPECT_EQ(top_k(std::span<const float>(scores), k, eligible), expected) << "n " << n << ", k " << k;
    }
  }
  // All NaN: the first k by index.
  const std::vector<float> nans(100, NAN);
  EXPECT_EQ(top_k(std::span<const float>(nans), 3, [](Index) { return true; }), (std::vector<Index>{0, 1, 2}));
}
