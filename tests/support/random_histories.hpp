#pragma once

// Random item histories for the recommender tests.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "aisle/core/random.hpp"
#include "aisle/rec/histories.hpp"

namespace aisle::test_support {

// Random rows over item_count items, each of 2..8 distinct items, with a bias
// towards low item indices so that items co-occur.
inline rec::Histories random_rows(Index rows, Index item_count, std::uint64_t seed) {
  Rng rng(seed);
  rec::Histories h;
  for (Index r = 0; r < rows; ++r) {
    std::vector<Index> items;
    const auto length = 2 + static_cast<Index>(rng.below(7));
    while (static_cast<Index>(items.size()) < length) {
      const auto a = static_cast<Index>(rng.below(static_cast<std::uint64_t>(item_count)));
      const auto b = static_cast<Index>(rng.below(static_cast<std::uint64_t>(item_count)));
      const Index item = std::min(a, b);
      if (std::find(items.begin(), items.end(), item) == items.end()) items.push_back(item);
    }
    h.add(items);
  }
  return h;
}

}  // namespace aisle::test_support
