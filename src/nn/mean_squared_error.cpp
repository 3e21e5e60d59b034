#include "aisle/nn/mean_squared_error.hpp"

namespace aisle {

float MeanSquaredError::value_impl(ConstMatrixRef predictions, const Targets& targets) const {
  const double sum = (predictions - targets.dense()).cast<double>().squaredNorm();
  return static_cast<float>(sum / static_cast<double>(predictions.size()));
}

void MeanSquaredError::gradient_impl(ConstMatrixRef predictions, const Targets& targets, Matrix& grad) const {
  grad = (predictions - targets.dense()) * (2.0f / static_cast<float>(predictions.size()));
}

}  // namespace aisle
