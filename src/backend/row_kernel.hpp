#pragma once

#include "aisle/core/tensor.hpp"

namespace aisle::detail {

// y = act(x w + b) for a single row x: the single-sample predict path. Walks
// w's rows once, skipping the zero entries of x (blank pixels, units that
// ReLU switched off), with a block of outputs held in registers. No
// allocation; y must hold w.cols() floats.
void dense_row_forward(const float* x, const Matrix& w, const Matrix& b, bool relu, float* y);

}  // namespace aisle::detail
