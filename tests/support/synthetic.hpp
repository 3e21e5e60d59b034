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

// Vectors shaped like a recommender's embeddings rather than uniform noise
// (in which no index finds neighbours faster than a scan): a few hundred
// tastes in a 32-dimensional latent space, spread into `cols` dimensions by
// a fixed random map, with a little noise of their own. Items and queries
// come from the same tastes (seed picks the rows, never the tastes).
inline Matrix embedding_like(Index rows, Index cols, std::uint64_t seed) {
  constexpr Index kLatent = 32, kTastes = 256;
  Rng shared(12345);
  Matrix tastes(kTastes, kLatent), map(kLatent, cols);
  for (Index i = 0; i < tastes.size(); ++i) tastes.data()[i] = shared.uniform(-1.0f, 1.0f);
  for (Index i = 0; i < map.size(); ++i) map.data()[i] = shared.uniform(-1.0f, 1.0f) / 4.0f;
  Matrix m(rows, cols);
  for (Index r = 0; r < rows; ++r) {
    Rng rng(seed * 1000003 + static_cast<std::uint64_t>(r));
    RowVector latent = tastes.row(static_cast<Index>(rng.below(kTastes)));
    for (Index c = 0; c < kLatent; ++c) latent(c) += 0.5f * rng.uniform(-1.0f, 1.0f);
    m.row(r) = latent * map;
    for (Index c = 0; c < cols; ++c) m(r, c) += 0.05f * rng.uniform(-1.0f, 1.0f);
  }
  return m;
}

}  // namespace aisle::test_support
