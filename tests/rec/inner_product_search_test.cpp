#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/core/random.hpp"
#include "aisle/rec/inner_product_search.hpp"
#include "aisle/rec/topk.hpp"

using aisle::Index;
using aisle::Matrix;
using namespace aisle::rec;

namespace {

// Small whole numbers: every inner product is exact in float whatever the
// order of summation, and many scores tie, so the tie rule is exercised.
Matrix whole_numbers(Index rows, Index cols, std::uint64_t seed) {
  aisle::Rng rng(seed);
  Matrix m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(static_cast<int>(rng.below(7)) - 3);
  return m;
}

// The full-score ranking: every item scored, then topk.hpp's top_k.
std::vector<ScoredIndex> reference(const Matrix& items, const Matrix& queries, Index q, Index k,
                                   const std::vector<std::uint8_t>& allowed, const std::vector<Index>& exclude) {
  const aisle::RowVector scores = queries.row(q) * items.transpose();
  const auto top = top_k(std::span<const float>(scores.data(), static_cast<std::size_t>(scores.size())), k, [&](Index i) {
    return (allowed.empty() || allowed[static_cast<std::size_t>(i)] != 0) &&
           !std::binary_search(exclude.begin(), exclude.end(), i);
  });
  std::vector<ScoredIndex> out;
  for (const auto i : top) out.push_back({i, scores(i)});
  return out;
}

void expect_equal(const std::vector<ScoredIndex>& got, const std::vector<ScoredIndex>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t r = 0; r < got.size(); ++r) {
    EXPECT_EQ(got[r].index, want[r].index) << "rank " << r;
    EXPECT_EQ(got[r].score, want[r].score) << "rank " << r;
  }
}

}  // namespace

TEST(RecInnerProductSearch, EqualsTheFullScoreRankingForOneQueryAndForBatches) {
  const auto items = whole_numbers(3000, 24, 1);  // large enough for every thread and many blocks
  for (const Index query_count : {1, 3, 150}) {
    const auto queries = whole_numbers(query_count, 24, 2 + static_cast<std::uint64_t>(query_count));
    for (const Index k : {1, 10, 257}) {
      SCOPED_TRACE(testing::Message() << query_count << " queries, k " << k);
      const auto found = exact_top_k(items, queries, k);
      ASSERT_EQ(static_cast<Index>(found.size()), query_count);
      for (Index q = 0; q < query_count; ++q) expect_equal(found[static_cast<std::size_t>(q)], reference(items, queries, q, k, {}, {}));
    }
  }
}

TEST(RecInnerProductSearch, HonoursTheAllowMaskAndEachQuerysExclusions) {
  const auto items = whole_numbers(2500, 32, 5);
  const auto queries = whole_numbers(70, 32, 6);
  aisle::Rng rng(7);
  std::vector<std::uint8_t> allowed(2500);
  for (auto& a : allowed) a = rng.below(10) == 0;  // a tenth of the catalogue, as a category is
  std::vector<std::vector<Index>> exclude(70);
  for (auto& list : exclude) {
    for (int n = 0; n < 40; ++n) list.push_back(static_cast<Index>(rng.below(2500)));
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
  }
  const SearchRestriction restriction{allowed, exclude};
  const auto found = exact_top_k(items, queries, 20, restriction);
  for (Index q = 0; q < 70; ++q) {
    const auto& got = found[static_cast<std::size_t>(q)];
    expect_equal(got, reference(items, queries, q, 20, allowed, exclude[static_cast<std::size_t>(q)]));
    for (const auto& hit : got) EXPECT_TRUE(allowed[static_cast<std::size_t>(hit.index)]);
  }
  // Fewer eligible items than k: all of them.
  std::vector<std::uint8_t> three(2500, 0);
  three[7] = three[1200] = three[2499] = 1;
  const auto few = exact_top_k(items, queries.topRows(1), 10, {three, {}});
  ASSERT_EQ(few[0].size(), 3u);
}

TEST(RecInnerProductSearch, NanScoresRankLast) {
  Matrix items = whole_numbers(100, 4, 9);
  items(10, 0) = std::numeric_limits<float>::quiet_NaN();
  items(20, 0) = std::numeric_limits<float>::quiet_NaN();
  const Matrix query = Matrix::Ones(1, 4);
  const auto all = exact_top_k(items, query, 100)[0];
  ASSERT_EQ(all.size(), 100u);
  EXPECT_EQ(all[98].index, 10);
  EXPECT_EQ(all[99].index, 20);
  expect_equal(exact_top_k(items, query, 5)[0], reference(items, query, 0, 5, {}, {}));
}

TEST(RecInnerProductSearch, RefusesMismatchedShapes) {
  const Matrix items = Matrix::Zero(10, 4);
  EXPECT_THROW(exact_top_k(items, Matrix::Zero(1, 5), 3), aisle::Error);
  const std::vector<std::uint8_t> short_mask(9, 1);
  EXPECT_THROW(exact_top_k(items, Matrix::Zero(1, 4), 3, {short_mask, {}}), aisle::Error);
  const std::vector<std::vector<Index>> two_lists(2);
  EXPECT_THROW(exact_top_k(items, Matrix::Zero(1, 4), 3, {{}, two_lists}), aisle::Error);
  EXPECT_TRUE(exact_top_k(items, Matrix::Zero(2, 4), 0)[1].empty());
}
