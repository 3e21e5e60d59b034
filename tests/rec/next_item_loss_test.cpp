// The transformer recommender's training pieces: how sequences are laid
// out (left-padded, the newest max_length items, each row's next item), the
// softmax cross-entropy against hand-computed values, and the history left
// out of each position's softmax.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "rec/next_item_loss.hpp"
#include "rec/sequence_layout.hpp"

namespace aisle::rec::detail {
namespace {

TEST(SequenceLayout, LeftPadsTheNewestItemsWithTheirNextItems) {
  const std::vector<Index> a{1, 2, 3, 4, 7}, b{5, 6};
  const SequenceLayout layout = lay_out({a, b}, 3, /*with_targets=*/true);
  ASSERT_EQ(layout.length, 3);
  EXPECT_EQ(layout.items, (std::vector<Index>{2, 3, 4, -1, -1, 5}));
  EXPECT_EQ(layout.targets, (std::vector<Index>{3, 4, 7, -1, -1, 6}));
  EXPECT_EQ(layout.valid, (std::vector<std::uint8_t>{1, 1, 1, 0, 0, 1}));
  const SequenceLayout served = lay_out({b}, 3, /*with_targets=*/false);
  EXPECT_EQ(served.items, (std::vector<Index>{5, 6}));
  EXPECT_EQ(served.targets, (std::vector<Index>{-1, -1}));
}

TEST(NextItemLoss, SoftmaxCrossEntropyIsTheHandComputedOneAndItsGradient) {
  Matrix values(2, 3);
  values << 0.0f, std::log(2.0f), 0.0f,  // target 1: p = 2 / 4
      1.0f, 1.0f, 1.0f;                 // target 2: p = 1 / 3
  const std::vector<Index> targets{1, 2};
  Eigen::Map<Matrix> logits(values.data(), 2, 3);
  const float loss = softmax_cross_entropy_in_place(logits, targets);
  EXPECT_NEAR(loss, (std::log(2.0) + std::log(3.0)) / 2, 1e-6);
  // (softmax - one-hot) / rows
  EXPECT_NEAR(values(0, 0), 0.25 / 2, 1e-6);
  EXPECT_NEAR(values(0, 1), (0.5 - 1) / 2, 1e-6);
  EXPECT_NEAR(values(1, 2), (1.0 / 3 - 1) / 2, 1e-6);
}

// One sequence 0, 1, 2 over four items: row 0 (input 0, target 1) leaves
// out item 0; row 1 (input 1, target 2) items 0 and 1.
TEST(NextItemLoss, EachPositionsSoftmaxLeavesOutTheItemsBeforeIt) {
  const std::vector<Index> sequence{0, 1, 2};
  const SequenceLayout layout = lay_out({sequence}, 5, /*with_targets=*/true);
  const std::vector<Index> scored{0, 1}, targets{1, 2};
  Matrix values = Matrix::Zero(2, 4);
  Eigen::Map<Matrix> logits(values.data(), 2, 4);
  exclude_earlier_items(layout, scored, targets, logits);
  EXPECT_EQ(values(0, 0), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(values(1, 1), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(values(0, 1), 0.0f);
  const float loss = softmax_cross_entropy_in_place(logits, targets);
  EXPECT_NEAR(loss, (std::log(3.0) + std::log(2.0)) / 2, 1e-6);  // 3 and 2 candidates left
  for (const auto& [row, item] : {std::pair{0, 0}, std::pair{1, 0}, std::pair{1, 1}})
    EXPECT_LT(std::abs(values(row, item)), 1e-30) << row << " " << item;  // no gradient
  EXPECT_NEAR(values(1, 3), 0.5 / 2, 1e-6);
}

// In data with repeats, a target that is also an earlier item stays in.
TEST(NextItemLoss, ARepeatedTargetIsNeverLeftOut) {
  const std::vector<Index> sequence{0, 1, 0};
  const SequenceLayout layout = lay_out({sequence}, 5, /*with_targets=*/true);
  const std::vector<Index> scored{1}, targets{0};
  Matrix values = Matrix::Zero(1, 3);
  Eigen::Map<Matrix> logits(values.data(), 1, 3);
  exclude_earlier_items(layout, scored, targets, logits);
  EXPECT_EQ(values(0, 0), 0.0f);
  EXPECT_EQ(values(0, 1), -std::numeric_limits<float>::infinity());
  EXPECT_NEAR(softmax_cross_entropy_in_place(logits, targets), std::log(2.0), 1e-6);
}

}  // namespace
}  // namespace aisle::rec::detail
