#pragma once

// Scores of a few queries against an item matrix, one dot product an item
// row. That streams the items past once at the memory's speed, where a
// general matrix product would first copy them into packed panels: for a
// handful of queries the packing costs more than the arithmetic it saves.
// Exact search and the models that score their own item tables share it,
// so both switch at the same number of queries.

#include "aisle/core/tensor.hpp"

namespace aisle::rec::detail {

// Fewer queries than this are scored by score_by_item_rows, not a matrix
// product.
inline constexpr Index kFewQueries = 4;

// scores(q, i) = items.row(i) . queries.row(q) (+ bias[i] when bias is
// given) for every query q and item row i. scores must already have
// queries.rows() rows and items.rows() columns.
template <class Queries, class Items, class Scores>
void score_by_item_rows(const Queries& queries, const Items& items, Scores&& scores, const float* bias = nullptr) {
  for (Index i = 0; i < items.rows(); ++i) {
    const float offset = bias == nullptr ? 0.0f : bias[i];
    for (Index q = 0; q < queries.rows(); ++q) scores(q, i) = items.row(i).dot(queries.row(q)) + offset;
  }
}

}  // namespace aisle::rec::detail
