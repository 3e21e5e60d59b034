#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/core/random.hpp"
#include "aisle/rec/hnsw_index.hpp"
#include "aisle/rec/inner_product_search.hpp"
#include "support/synthetic.hpp"

using aisle::Index;
using aisle::Matrix;
using namespace aisle::rec;

namespace {

// The share of the exact top k that the approximate lists found.
double recall(const std::vector<std::vector<ScoredIndex>>& approximate,
              const std::vector<std::vector<ScoredIndex>>& exact) {
  double found = 0, total = 0;
  for (std::size_t q = 0; q < exact.size(); ++q) {
    std::set<Index> got;
    for (const auto& hit : approximate[q]) got.insert(hit.index);
    for (const auto& hit : exact[q]) found += got.count(hit.index);
    total += static_cast<double>(exact[q].size());
  }
  return found / total;
}

class RecHnswIndex : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    items_ = new Matrix(aisle::test_support::embedding_like(6000, 32, 1));
    queries_ = new Matrix(aisle::test_support::embedding_like(100, 32, 2));
    // A wider search than the default: the recall bounds below then hold
    // with room (0.986 measured here), whichever order threads linked the graph in.
    index_ = new HnswIndex(HnswIndex::build(*items_, {.ef_search = 256}));
  }
  static void TearDownTestSuite() {
    delete index_;
    delete queries_;
    delete items_;
  }
  static Matrix* items_;
  static Matrix* queries_;
  static HnswIndex* index_;
};
Matrix* RecHnswIndex::items_ = nullptr;
Matrix* RecHnswIndex::queries_ = nullptr;
HnswIndex* RecHnswIndex::index_ = nullptr;

}  // namespace

TEST_F(RecHnswIndex, FindsAlmostAllOfTheExactTopKBestFirst) {
  EXPECT_EQ(index_->size(), 6000);
  EXPECT_EQ(index_->dim(), 32);
  const auto approximate = index_->search(*queries_, 10);
  const auto exact = exact_top_k(*items_, *queries_, 10);
  const auto wide = recall(approximate, exact);
  EXPECT_GE(wide, 0.95);
  // The setting counts: a narrower search finds less.
  auto narrow = HnswIndex::from_bytes(index_->to_bytes(), {.ef_search = 10}, "narrow");
  EXPECT_LT(recall(narrow.search(*queries_, 10), exact), wide);
  for (const auto& list : approximate) {
    ASSERT_EQ(list.size(), 10u);
    for (std::size_t r = 1; r < list.size(); ++r) EXPECT_GE(list[r - 1].score, list[r].score);
    // Scores are the inner products themselves.
    EXPECT_NEAR(list[0].score, items_->row(list[0].index).dot(queries_->row(&list - approximate.data())), 1e-4);
  }
}

TEST_F(RecHnswIndex, AppliesAnAllowListInsideTheSearchNotByDroppingResults) {
  aisle::Rng rng(3);
  std::vector<std::uint8_t> tenth(6000);
  for (auto& a : tenth) a = rng.below(10) == 0;
  const SearchRestriction restriction{tenth, {}};
  const auto approximate = index_->search(*queries_, 10, restriction);
  for (const auto& list : approximate) {
    ASSERT_EQ(list.size(), 10u);  // fetching 10 and dropping 90% would leave about one
    for (const auto& hit : list) EXPECT_TRUE(tenth[static_cast<std::size_t>(hit.index)]);
  }
  EXPECT_GE(recall(approximate, exact_top_k(*items_, *queries_, 10, restriction)), 0.9);
}

TEST_F(RecHnswIndex, HonoursEachQuerysExclusions) {
  const auto unrestricted = index_->search(*queries_, 10);
  std::vector<std::vector<Index>> exclude(static_cast<std::size_t>(queries_->rows()));
  for (std::size_t q = 0; q < exclude.size(); ++q) {
    for (std::size_t r = 0; r < 5; ++r) exclude[q].push_back(unrestricted[q][r].index);  // its best five
    std::sort(exclude[q].begin(), exclude[q].end());
  }
  const auto found = index_->search(*queries_, 10, {{}, exclude});
  for (std::size_t q = 0; q < exclude.size(); ++q) {
    ASSERT_EQ(found[q].size(), 10u);
    for (const auto& hit : found[q]) EXPECT_FALSE(std::binary_search(exclude[q].begin(), exclude[q].end(), hit.index));
  }
}

TEST_F(RecHnswIndex, SavedBytesLoadToAnIndexThatAnswersTheSame) {
  const auto bytes = index_->to_bytes();
  const auto loaded = HnswIndex::from_bytes(bytes, index_->options(), "test index");
  EXPECT_EQ(loaded.size(), 6000);
  const auto a = index_->search(*queries_, 10), b = loaded.search(*queries_, 10);
  for (std::size_t q = 0; q < a.size(); ++q) {
    ASSERT_EQ(a[q].size(), b[q].size());
    for (std::size_t r = 0; r < a[q].size(); ++r) {
      EXPECT_EQ(a[q][r].index, b[q][r].index);
      EXPECT_EQ(a[q][r].score, b[q][r].score);
    }
  }
  auto damaged = bytes;
  damaged.resize(damaged.size() / 2);
  EXPECT_THROW(HnswIndex::from_bytes(damaged, index_->options(), "test index"), aisle::Error);
  EXPECT_THROW(HnswIndex::from_bytes(std::vector<std::uint8_t>{1, 2, 3}, index_->options(), "x"), aisle::Error);
}

TEST_F(RecHnswIndex, RefusesBadShapesAndSettings) {
  EXPECT_THROW(index_->search(Matrix::Zero(1, 31), 10), aisle::Error);
  const std::vector<std::uint8_t> short_mask(10, 1);
  EXPECT_THROW(index_->search(*queries_, 10, {short_mask, {}}), aisle::Error);
  EXPECT_THROW(HnswIndex::build(*items_, {.links = 1}), aisle::Error);
  EXPECT_THROW(HnswIndex::build(Matrix::Zero(0, 4)), aisle::Error);
  Matrix with_nan = Matrix::Ones(3, 2);
  with_nan(1, 1) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(HnswIndex::build(with_nan), aisle::Error);
  EXPECT_THROW(HnswIndex().search(*queries_, 10), aisle::Error);
}
