#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "aisle/core/tensor.hpp"

namespace aisle::rec {

struct ScoredIndex {
  Index index = 0;
  float score = 0;
};

// Which items a search may return.
struct SearchRestriction {
  // allowed[i] != 0: item i may be returned; empty: every item.
  std::span<const std::uint8_t> allowed;
  // exclude[q]: sorted items that query q may not return (its history);
  // empty: none, for every query.
  std::span<const std::vector<Index>> exclude;
};

// For each row q of queries, the k items i with the largest
// queries.row(q) . items.row(i), best first, in the ranking order of
// topk.hpp (equal scores by lower index, NaN last), among the items the
// restriction allows. Models whose scores are inner products (item vectors,
// a bias folded in as one more dimension) rank through this exactly.
//
// The item matrix is streamed once for the whole batch, in blocks that stay
// in cache while every query passes over them (a small matrix product a
// block), each thread taking its share of the items; no score vector over
// the catalogue is ever kept. Throws aisle::Error naming the shapes when
// they do not match.
std::vector<std::vector<ScoredIndex>> exact_top_k(ConstMatrixRef items, ConstMatrixRef queries, Index k,
                                                  const SearchRestriction& restriction = {});

}  // namespace aisle::rec
