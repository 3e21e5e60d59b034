#pragma once

#include <cstdint>
#include <span>

namespace aisle {

// A small, seedable generator (xoshiro256**, seeded through splitmix64) whose
// sequence is the same on every platform and standard library, so that a seed
// gives the same weights and the same shuffles everywhere.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0);

  std::uint64_t next_u64();
  // Uniform in [0, 1).
  float uniform();
  // Uniform in [low, high).
  float uniform(float low, float high);
  // Standard normal (Box-Muller).
  float normal();
  // Uniform integer in [0, bound), without modulo bias. bound must be > 0.
  std::uint64_t below(std::uint64_t bound);

  // A derived generator for an independent stream (e.g. one per layer).
  Rng split();

 private:
  std::uint64_t state_[4];
};

// Fisher-Yates shuffle driven by rng.
template <class T>
void shuffle(std::span<T> values, Rng& rng) {
  for (std::size_t i = values.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng.below(i));
    T tmp = values[i - 1];
    values[i - 1] = values[j];
    values[j] = tmp;
  }
}

}  // namespace aisle
