#include "aisle/nn/dropout.hpp"

#include <string>

#include "aisle/core/error.hpp"

namespace aisle {

Dropout::Dropout(float rate) : rate_(rate) {
  if (!(rate >= 0.0f && rate < 1.0f)) throw Error("Dropout: rate must be in [0, 1), got " + std::to_string(rate));
}

void Dropout::forward_training(ConstMatrixRef x, Rng& rng, Matrix& mask, Matrix& y) const {
  mask.resize(x.rows(), x.cols());
  const float keep = 1.0f / (1.0f - rate_);
  for (Index i = 0; i < mask.size(); ++i) mask.data()[i] = rng.uniform() >= rate_ ? keep : 0.0f;
  y = x.cwiseProduct(mask);
}

void Dropout::backward(const Matrix& mask, ConstMatrixRef dy, Matrix& dx) {
  if (mask.rows() != dy.rows() || mask.cols() != dy.cols())
    throw Error("Dropout: gradient of shape " + shape_string(dy) + " for a mask of shape " + shape_string(mask));
  dx = dy.cwiseProduct(mask);
}

}  // namespace aisle
