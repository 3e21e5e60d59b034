#pragma once

// The transformer recommender's loss: a softmax over the whole catalogue at
// every position that has a next item.

#include <span>

#include "aisle/core/tensor.hpp"
#include "rec/sequence_layout.hpp"

namespace aisle::rec::detail {

// Mean cross-entropy of the rows of logits against their target items, and
// its gradient in place of the logits: softmax - one-hot, over the rows.
float softmax_cross_entropy_in_place(Eigen::Map<Matrix> logits, std::span<const Index> targets);

// Leaves out of each scored row's softmax the items at or before its
// position in its sequence (their logits set to -inf), except its target:
// the ranking never offers a shopper their own items, so the training
// spends nothing on pushing them down. (A target that repeats an earlier
// item, in data that has repeats, stays in.)
// scored[i] is the layout's row of logits' row i, targets[i] its target.
void exclude_earlier_items(const SequenceLayout& layout, std::span<const Index> scored, std::span<const Index> targets,
                           Eigen::Map<Matrix> logits);

}  // namespace aisle::rec::detail
