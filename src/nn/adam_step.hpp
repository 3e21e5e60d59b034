#pragma once

#include <cmath>
#include <cstdint>

#include "aisle/nn/adam.hpp"
#include "backend/adam_kernel.hpp"

namespace aisle::detail {

// The scalars of Adam's step number t (from 1): m_hat / (sqrt(v_hat) + eps)
// with the bias corrections folded into two of them, so the kernel does one
// square root and one division per element. Adam and LazyAdam share it.
inline AdamStep adam_step(const AdamOptions& options, std::int64_t t) {
  const auto steps = static_cast<double>(t);
  const auto correction1 = static_cast<float>(1.0 - std::pow(static_cast<double>(options.beta1), steps));
  const auto correction2 = static_cast<float>(1.0 - std::pow(static_cast<double>(options.beta2), steps));
  return {.beta1 = options.beta1,
          .beta2 = options.beta2,
          .step_size = options.learning_rate / correction1,
          .inv_sqrt_correction2 = 1.0f / std::sqrt(correction2),
          .epsilon = options.epsilon,
          .decay = options.learning_rate * options.weight_decay};
}

}  // namespace aisle::detail
