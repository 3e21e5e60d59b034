// FitShare: fits on the same rows build the item index and the Gram matrix
// once, the shared results equal the unshared ones, and a Gram matrix is not
// kept when memory is short.

#include "aisle/rec/fit_share.hpp"

#include <gtest/gtest.h>

#include "aisle/core/memory.hpp"
#include "aisle/rec/blend.hpp"
#include "aisle/rec/ease.hpp"
#include "aisle/rec/item_knn.hpp"
#include "aisle/rec/model_registry.hpp"
#include "rec/scoring.hpp"
#include "support/random_histories.hpp"

namespace aisle::rec {
namespace {

using test_support::random_rows;

TEST(FitShare, FindsWhatAnEarlierCallOnTheSameRowsBuilt) {
  const auto rows = random_rows(200, 30, 4);
  FitShare share;
  const auto first = share.gram(rows, 30);
  const Histories same_rows = rows;  // another object, the same rows
  EXPECT_EQ(share.gram(same_rows, 30), first);
  EXPECT_EQ(share.item_rows(same_rows, 30), share.item_rows(rows, 30));
  EXPECT_EQ(share.built().grams, 1);
  EXPECT_EQ(share.built().item_rows, 1);
  EXPECT_EQ(*first, detail::gram_matrix(rows, 30));

  auto other = rows.items();
  other.back() = (other.back() + 1) % 30;
  const auto changed = Histories::from_arrays(rows.offsets(), other, 30);
  EXPECT_NE(share.gram(changed, 30), first) << "one item differs: other rows";
  share.gram(rows, 31);  // another catalogue size
  EXPECT_EQ(share.built().grams, 3);
}

// A blend's parts share one FitShare: item-item neighbours build the item
// index, EASE finds it and builds the Gram matrix; a second blend with the
// same share builds nothing; every part equals the same model fitted alone.
TEST(FitShare, ABlendsPartsBuildEachStructureOnceAndFitAsAlone) {
  const auto rows = random_rows(300, 40, 24);
  FitContext context;
  context.share = std::make_shared<FitShare>();
  auto blend = make_model("blend", {{"models", {"itemknn", "ease"}}, {"weights", {0.5, 0.5}}});
  blend->fit(rows, 40, context);
  EXPECT_EQ(context.share->built().item_rows, 1);
  EXPECT_EQ(context.share->built().grams, 1);
  auto again = make_model("blend", {{"models", {"ease", "itemknn"}}, {"weights", {0.5, 0.5}}});
  again->fit(rows, 40, context);
  EXPECT_EQ(context.share->built().item_rows, 1);
  EXPECT_EQ(context.share->built().grams, 1);

  const auto& parts = dynamic_cast<const BlendModel&>(*blend).parts();
  ItemKnnModel knn;
  knn.fit(rows, 40);
  EaseModel ease;
  ease.fit(rows, 40);
  Matrix shared_scores, alone_scores;
  parts[0]->score_batch(rows, shared_scores);
  knn.score_batch(rows, alone_scores);
  EXPECT_EQ(shared_scores, alone_scores);
  EXPECT_EQ(dynamic_cast<const EaseModel&>(*parts[1]).weights(), ease.weights());
}

TEST(FitShare, KeepsNoGramMatrixWhenMemoryIsShort) {
  const auto rows = random_rows(100, 50, 8);
  FitShare share;
  set_memory_limit(2 * 50 * 50 * sizeof(float));  // under three more matrices
  share.gram(rows, 50);
  share.gram(rows, 50);
  set_memory_limit(std::nullopt);
  EXPECT_EQ(share.built().grams, 2);
  EXPECT_EQ(share.built().item_rows, 1);
}

}  // namespace
}  // namespace aisle::rec
