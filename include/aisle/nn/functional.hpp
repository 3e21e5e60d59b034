#pragma once

#include <span>

#include "aisle/core/tensor.hpp"

// The maths of the layers and losses as free functions on the Eigen
// reference path, so that tests and the backends can call them directly.
namespace aisle::functional {

// Row-wise softmax, max-subtracted.
void softmax(ConstMatrixRef logits, Matrix& out);
// Row-wise log(sum(exp(x))), max-subtracted: finite for any finite input.
float log_sum_exp(const Eigen::Ref<const RowVector>& row);
// log_sum_exp of every row of logits into out (logits.rows() floats). Short
// rows are done in blocks, with one vectorised exp over many rows at once.
void log_sum_exp_rows(ConstMatrixRef logits, std::span<float> out);
// The index of each row's largest value (the first on ties).
Labels argmax_rows(ConstMatrixRef m);

}  // namespace aisle::functional
