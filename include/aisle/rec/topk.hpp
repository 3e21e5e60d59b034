#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "aisle/core/tensor.hpp"

namespace aisle::rec {

// Ranking order: higher score first, equal scores by lower index (item indices
// follow the byte order of item ids). NaN ranks last.
inline bool ranks_before(float score_a, Index a, float score_b, Index b) {
  constexpr float lowest = -std::numeric_limits<float>::infinity();
  const float sa = std::isnan(score_a) ? lowest : score_a;
  const float sb = std::isnan(score_b) ? lowest : score_b;
  return sa > sb || (sa == sb && a < b);
}

// The k best eligible indices of scores, best first. eligible(i) is asked
// only of items that would enter the current top k, so an expensive test
// (a caller's predicate) runs on few items.
template <class Eligible>
std::vector<Index> top_k(std::span<const float> scores, Index k, Eligible&& eligible) {
  std::vector<Index> heap;  // the worst of the kept items at the front
  if (k <= 0) return heap;
  heap.reserve(static_cast<std::size_t>(k));
  const auto worse = [&](Index a, Index b) { return ranks_before(scores[a], a, scores[b], b); };
  const auto n = static_cast<Index>(scores.size());
  const auto consider = [&](Index i) {
    const bool full = static_cast<Index>(heap.size()) == k;
    if (full && !ranks_before(scores[i], i, scores[heap.front()], heap.front())) return;
    if (!eligible(i)) return;
    if (full) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      heap.back() = i;
    } else {
      heap.push_back(i);
    }
    std::push_heap(heap.begin(), heap.end(), worse);
  };
  // Once the heap is full, most blocks hold no score that reaches its worst
  // kept one: a branch-free test a block (vectorised by the compiler) skips
  // them, and only the blocks with a candidate go item by item.
  constexpr Index kBlock = 32;
  Index i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    if (static_cast<Index>(heap.size()) == k) {
      const float threshold = scores[static_cast<std::size_t>(heap.front())];
      bool any = false;
      for (Index j = 0; j < kBlock; ++j) any |= scores[static_cast<std::size_t>(i + j)] >= threshold;
      // NaN kept at the front ranks last: anything but NaN beats it.
      if (!any && !std::isnan(threshold)) continue;
    }
    for (Index j = i; j < i + kBlock; ++j) consider(j);
  }
  for (; i < n; ++i) consider(i);
  std::sort_heap(heap.begin(), heap.end(), worse);
  return heap;
}

}  // namespace aisle::rec
