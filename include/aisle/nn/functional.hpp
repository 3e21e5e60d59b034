#pragma once

#include "aisle/core/tensor.hpp"

// The maths of the layers and losses as free functions on the Eigen
// reference path, so that tests and the backends can call them directly.
namespace aisle::functional {

// Row-wise softmax, max-subtracted.
void softmax(ConstMatrixRef logits, Matrix& out);
// Row-wise log(sum(exp(x))), max-subtracted: finite for any finite input.
float log_sum_exp(const Eigen::Ref<const RowVector>& row);
// The index of each row's largest value (the first on ties).
Labels argmax_rows(ConstMatrixRef m);

}  // namespace aisle::functional
