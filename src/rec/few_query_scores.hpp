#pragma once

// Scores of a few queries against an item matrix, one dot product an item
// row. That streams the items past once at the memory's speed, where a
// general matrix product would first copy them into packed panels: for a
// handful of queries the packing costs more than the arithmetic it saves.
// Exact search and the models that score their own item tables share it,
// so both switch at the same number of queries.

#include "aisle/core/tensor.hpp"
#include "core/parallel_for.hpp"

namespace aisle::rec::detail {

// Fewer queries than this are scored by score_by_item_rows, not a matrix
// product.
inline constexpr Index kFewQueries = 4;

// An item matrix of at least this many floats is split over a team: below
// it, waking the threads costs more than the scan.
inline constexpr Index kParallelItemFloats = Index{1} << 16;

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

// score_by_item_rows with each thread of a team taking its share of the
// item rows (and of the scores' columns).
template <class Queries, class Items, class Scores>
void score_by_item_rows_in_parallel(const Queries& queries, const Items& items, Scores& scores,
                                    const float* bias = nullptr) {
  aisle::detail::parallel_team(items.size() >= kParallelItemFloats, [&] {
    const auto share = aisle::detail::this_threads_share(items.rows());
    const auto rows = share.end - share.begin;
    score_by_item_rows(queries, items.middleRows(share.begin, rows), scores.middleCols(share.begin, rows),
                       bias == nullptr ? nullptr : bias + share.begin);
  });
}

}  // namespace aisle::rec::detail
