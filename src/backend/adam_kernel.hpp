#pragma once

#include "aisle/core/tensor.hpp"

namespace aisle::detail {

// The scalars of one Adam step, bias corrections folded in.
struct AdamStep {
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float step_size = 1e-3f;             // learning rate / (1 - beta1^t)
  float inv_sqrt_correction2 = 1.0f;   // 1 / sqrt(1 - beta2^t)
  float epsilon = 1e-7f;
  float decay = 0.0f;                  // learning rate * weight decay
};

// Elements [begin, end) of one parameter tensor p, its gradient g and Adam's
// moments m and v:
//   m = beta1 m + (1 - beta1) g
//   v = beta2 v + (1 - beta2) g^2
//   p -= step_size m / (sqrt(v) inv_sqrt_correction2 + epsilon) + decay p
// With AVX2 or AVX-512 the square root and the division come from the CPU's
// estimates refined by a Newton step each (within about 1e-6 of the exact
// quotient, and 0, infinities and NaN as the exact formula gives them): the
// exact instructions made the step a quarter slower once its tensors sit in
// the core's L2. Every element is computed the same way wherever [begin, end)
// starts and stops, so sharing a tensor out between threads in any way gives
// the same bits.
void adam_update(float* p, float* m, float* v, const float* g, Index begin, Index end, const AdamStep& step);

}  // namespace aisle::detail
