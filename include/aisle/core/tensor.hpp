#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>

namespace aisle {

using Index = Eigen::Index;

// One sample per row, row-major, float32: the tensor of the public API.
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowVector = Eigen::Matrix<float, 1, Eigen::Dynamic, Eigen::RowMajor>;

// Views: an Eigen::Map over caller memory binds to these without a copy.
using MatrixRef = Eigen::Ref<Matrix>;
using ConstMatrixRef = Eigen::Ref<const Matrix>;
using MatrixMap = Eigen::Map<Matrix>;
using ConstMatrixMap = Eigen::Map<const Matrix>;

// Integer class labels, one per sample.
using Labels = Eigen::Matrix<std::int32_t, Eigen::Dynamic, 1>;
using ConstLabelsRef = Eigen::Ref<const Labels>;

// "[rows x cols]", for error messages.
std::string shape_string(Index rows, Index cols);

template <class Derived>
std::string shape_string(const Eigen::EigenBase<Derived>& m) {
  return shape_string(m.rows(), m.cols());
}

// "NaN", "inf", "-inf" or the number as %g prints it, for error messages.
std::string value_string(float value);

}  // namespace aisle
