#pragma once

// Kernels shared by the rec models (private to the library).

#include "aisle/core/tensor.hpp"
#include "aisle/rec/histories.hpp"

namespace aisle::rec::detail {

// out = X W, where X is the binary rows x W.rows() matrix of histories: each
// output row is the sum of the weight rows of its history's items. Parallel
// over rows; this is the whole cost of scoring a batch for a linear model.
void multiply_histories(const Histories& histories, const Matrix& weights, Matrix& out);

// The same with a sparse, row-major W.
void multiply_histories(const Histories& histories, const SparseMatrix& weights, Matrix& out);

// For every item, the rows holding it (the transpose of histories).
Histories item_rows(const Histories& histories, Index item_count);

// The dense item x item co-occurrence matrix X^T X of the binary matrix of
// rows; by_item is item_rows(rows, item_count).
Matrix gram_matrix(const Histories& rows, const Histories& by_item, Index item_count);
Matrix gram_matrix(const Histories& rows, Index item_count);

}  // namespace aisle::rec::detail
