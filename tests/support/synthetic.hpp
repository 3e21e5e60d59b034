#pragma once

// Small data sets the tests build themselves.

#include "aisle/core/random.hpp"
#include "aisle/core/tensor.hpp"

namespace aisle::test_support {

struct Classification {
  Matrix x;
  Labels y;
};

// `classes` random prototypes in [0, 1]^features; each sample is its class's
// prototype plus uniform noise, clamped to [0, 1]: separable, image-like.
inline Classification separable_classes(Index samples, Index features, int classes, std::uint64_t seed,
                                        float noise = 0.35f) {
  Rng rng(seed);
  Matrix prototypes(classes, features);
  for (Index i = 0; i < prototypes.size(); ++i) prototypes.data()[i] = rng.uniform();
  Classification data{Matrix(samples, features), Labels(samples)};
  for (Index s = 0; s < samples; ++s) {
    const auto label = static_cast<int>(rng.below(static_cast<std::uint64_t>(classes)));
    data.y(s) = label;
    for (Index f = 0; f < features; ++f)
      data.x(s, f) = std::clamp(prototypes(label, f) + rng.uniform(-noise, noise), 0.0f, 1.0f);
  }
  return data;
}

}  // namespace aisle::test_support
