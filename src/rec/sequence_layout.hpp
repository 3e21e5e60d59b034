#pragma once

// How the transformer recommender lays a batch of sequences out for its
// encoder: the rows, their items and their targets.

#include <cstdint>
#include <span>
#include <vector>

#include "aisle/core/tensor.hpp"
#include "aisle/nn/self_attention.hpp"

namespace aisle::rec::detail {

// A batch of sequences laid out for the blocks: `length` rows each, the
// newest item last (left-padded), and in training each row's target (the
// item after it; -1 for none).
struct SequenceLayout {
  Index length = 0;
  std::vector<std::uint8_t> valid;
  std::vector<Index> items;    // each row's item, -1 for padding
  std::vector<Index> targets;  // each row's next item, -1 for none

  Index rows() const { return static_cast<Index>(items.size()); }
  SequenceBatch batch() const { return {length, valid}; }
};

// The last `max_length` items of each sequence as inputs; with targets, each
// input's next item (a row of n items gives n - 1 inputs).
SequenceLayout lay_out(const std::vector<std::span<const Index>>& sequences, Index max_length, bool with_targets);

}  // namespace aisle::rec::detail
