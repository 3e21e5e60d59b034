#pragma once

#include "aisle/core/random.hpp"
#include "aisle/core/tensor.hpp"

namespace aisle {

// Inverted dropout: in training each element is zeroed with chance `rate`
// and the others scaled by 1 / (1 - rate), so inference is the identity.
// The mask comes from the caller's generator (seeded per fit, drawn in row
// order on one thread): the same seed gives the same masks on any team.
class Dropout {
 public:
  explicit Dropout(float rate = 0.0f);
  float rate() const { return rate_; }

  // Training: y = x * mask, the mask drawn from rng and kept for backward.
  void forward_training(ConstMatrixRef x, Rng& rng, Matrix& mask, Matrix& y) const;
  // dx = dy * mask (dx may be dy).
  static void backward(const Matrix& mask, ConstMatrixRef dy, Matrix& dx);

 private:
  float rate_;
};

}  // namespace aisle
