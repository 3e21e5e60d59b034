#include "rec/hnsw_storage.hpp"

#include <faiss/IndexHNSW.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "aisle/core/random.hpp"
#include "aisle/core/tensor.hpp"

using aisle::Index;
using aisle::Matrix;
using aisle::rec::detail::native_storage_from;
using aisle::rec::detail::NativeFlatInnerProduct;

namespace {

// An odd width: the vector loop's tail is exercised too.
constexpr Index kDim = 37;
constexpr Index kCount = 50;

Matrix random_rows(Index rows, std::uint64_t seed) {
  aisle::Rng rng(seed);
  Matrix m(rows, kDim);
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < kDim; ++c) m(r, c) = rng.normal();
  return m;
}

}  // namespace

TEST(RecHnswStorage, DistancesAreTheInnerProductsOfTheEigenReference) {
  const Matrix items = random_rows(kCount, 1);
  const Matrix query = random_rows(1, 2);
  NativeFlatInnerProduct storage(kDim);
  storage.add(kCount, items.data());
  std::unique_ptr<faiss::DistanceComputer> distance(storage.get_distance_computer());
  distance->set_query(query.data());
  for (Index i = 0; i < kCount; ++i) {
    EXPECT_NEAR((*distance)(i), items.row(i).dot(query.row(0)), 1e-4f) << "item " << i;
    const Index j = (i * 7 + 3) % kCount;
    EXPECT_NEAR(distance->symmetric_dis(i, j), items.row(i).dot(items.row(j)), 1e-4f) << i << ", " << j;
  }
}

TEST(RecHnswStorage, TakesTheVectorsOfFaissFlatStorage) {
  const Matrix items = random_rows(kCount, 3);
  faiss::IndexFlatIP flat(kDim);
  flat.add(kCount, items.data());
  const auto native = native_storage_from(flat);
  ASSERT_EQ(native->ntotal, kCount);
  EXPECT_EQ(flat.ntotal, 0);
  EXPECT_EQ(native->metric_type, faiss::METRIC_INNER_PRODUCT);
  EXPECT_EQ(0, std::memcmp(native->get_xb(), items.data(), sizeof(float) * kCount * kDim));
}

TEST(RecHnswStorage, FaissGraphSearchFindsTheBestItemThroughIt) {
  const Matrix items = random_rows(kCount, 4);
  faiss::IndexHNSWFlat index(kDim, 8, faiss::METRIC_INNER_PRODUCT);
  delete index.storage;
  index.storage = new NativeFlatInnerProduct(kDim);
  index.hnsw.efSearch = 64;
  index.add(kCount, items.data());
  for (Index q = 0; q < 5; ++q) {
    const Matrix query = random_rows(1, 10 + static_cast<std::uint64_t>(q));
    Index best = 0;
    for (Index i = 1; i < kCount; ++i)
      if (items.row(i).dot(query.row(0)) > items.row(best).dot(query.row(0))) best = i;
    float score = 0;
    faiss::Index::idx_t found = -1;
    index.search(1, query.data(), 1, &score, &found);
    EXPECT_EQ(found, best) << "query " << q;
    EXPECT_NEAR(score, items.row(best).dot(query.row(0)), 1e-4f);
  }
}
