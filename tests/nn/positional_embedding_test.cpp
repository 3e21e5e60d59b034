// PositionalEmbedding: positions counted from each sequence's end, padding
// left alone; its gradient against finite differences; bad shapes refused.

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/nn/positional_embedding.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

using test_support::random_matrix;

const std::vector<std::uint8_t> kValid{1, 1, 1, 0, 1, 1};
const SequenceBatch kBatch{3, kValid};  // two sequences of 3, the second padded once

TEST(PositionalEmbedding, AddsPositionsCountedFromEachSequencesEnd) {
  const PositionalEmbedding positions(random_matrix(5, 2, 1));
  const Matrix x = random_matrix(6, 2, 2);
  Matrix y = x;
  positions.forward(kBatch, y);
  // Sequences of 3 among 5 positions: rows take P[2], P[3], P[4].
  EXPECT_EQ(y.row(0), (x.row(0) + positions.table().row(2)).eval());
  EXPECT_EQ(y.row(1), (x.row(1) + positions.table().row(3)).eval());
  EXPECT_EQ(y.row(2), (x.row(2) + positions.table().row(4)).eval());
  EXPECT_EQ(y.row(3), x.row(3));  // padding
  EXPECT_EQ(y.row(4), (x.row(4) + positions.table().row(3)).eval());
  EXPECT_EQ(y.row(5), (x.row(5) + positions.table().row(4)).eval());
}

TEST(PositionalEmbedding, GradientMatchesFiniteDifferences) {
  PositionalEmbedding positions(random_matrix(4, 3, 3));
  const Matrix x = random_matrix(6, 3, 4), r = random_matrix(6, 3, 5);
  const auto objective = [&] {
    Matrix y = x;
    positions.forward(kBatch, y);
    return test_support::weighted_sum(y, r);
  };
  Matrix grad;
  positions.backward(kBatch, r, grad);
  test_support::expect_gradient_matches(grad, test_support::numeric_gradient(positions.table(), objective, 1e-2f), 1e-4,
                                        "dP");
  EXPECT_TRUE(grad.row(0).isZero(0));  // no sequence reaches the first position
}

TEST(PositionalEmbedding, RefusesLongSequencesAndBadShapes) {
  Rng rng(6);
  const PositionalEmbedding positions({.max_length = 2, .dim = 3}, rng);
  Matrix x = random_matrix(6, 3, 7);
  EXPECT_THROW(positions.forward(kBatch, x), Error);  // 3 rows a sequence, 2 positions
  const PositionalEmbedding wide({.max_length = 4, .dim = 4}, rng);
  EXPECT_THROW(wide.forward(kBatch, x), Error);  // width 3, not 4
  Matrix grad;
  EXPECT_THROW(wide.backward(kBatch, random_matrix(5, 4, 8), grad), Error);  // 5 rows for 6 slots
  EXPECT_THROW(PositionalEmbedding({.max_length = 0, .dim = 3}, rng), Error);
}

}  // namespace
}  // namespace aisle
