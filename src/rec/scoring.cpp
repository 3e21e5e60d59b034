#include "rec/scoring.hpp"

#include <algorithm>
#include <numeric>

#include "core/parallel_for.hpp"

namespace aisle::rec::detail {

void multiply_histories(const Histories& histories, const Matrix& weights, Matrix& out) {
  out.setZero(histories.size(), weights.cols());
  // The sum of a history's rows of weights, a slice of columns at a time:
  // the slice of the output stays in L1 while each weight row streams by
  // once, instead of the whole output row going through L2 per history item.
  constexpr Index kSlice = 1024;
  const Index cols = weights.cols();
  aisle::detail::parallel_for(histories.size(), {.uneven = true, .chunk = 8}, [&](Index r) {
    for (Index c = 0; c < cols; c += kSlice) {
      const Index width = std::min(kSlice, cols - c);
      auto slice = out.row(r).segment(c, width);
      for (const Index item : histories[r]) slice += weights.row(item).segment(c, width);
    }
  });
}

void multiply_histories(const Histories& histories, const SparseMatrix& weights, Matrix& out) {
  out.setZero(histories.size(), weights.cols());
  aisle::detail::parallel_for(histories.size(), {.uneven = true, .chunk = 8}, [&](Index r) {
    float* const row = out.row(r).data();
    for (const Index item : histories[r]) {
      for (SparseMatrix::InnerIterator it(weights, item); it; ++it) row[it.col()] += it.value();
    }
  });
}

Histories item_rows(const Histories& histories, Index item_count) {
  std::vector<Index> offsets(static_cast<std::size_t>(item_count) + 1, 0);
  for (const Index item : histories.items()) ++offsets[static_cast<std::size_t>(item) + 1];
  std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
  std::vector<Index> cursor(offsets.begin(), offsets.end() - 1);
  std::vector<Index> rows(histories.items().size());
  for (Index r = 0; r < histories.size(); ++r) {
    for (const Index item : histories[r]) rows[static_cast<std::size_t>(cursor[static_cast<std::size_t>(item)]++)] = r;
  }
  return Histories::from_arrays(std::move(offsets), std::move(rows), histories.size());
}

Matrix gram_matrix(const Histories& rows, Index item_count) {
  return gram_matrix(rows, item_rows(rows, item_count), item_count);
}

Matrix gram_matrix(const Histories& rows, const Histories& by_item, Index item_count) {
  Matrix gram = Matrix::Zero(item_count, item_count);
  // Row i of X^T X counts, over the rows holding i, their items: each thread owns whole rows.
  aisle::detail::parallel_for(item_count, {.uneven = true, .chunk = 16}, [&](Index i) {
    float* const out = gram.row(i).data();
    for (const Index r : by_item[i]) {
      for (const Index j : rows[r]) out[j] += 1.0f;
    }
  });
  return gram;
}

}  // namespace aisle::rec::detail
