#include <gtest/gtest.h>

#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/rec/metrics.hpp"

using aisle::Index;
using namespace aisle::rec;

// ranked = 5, 3, 8, 1 and targets = {3, 1, 9}: hits at ranks 2 and 4.
//   Recall@4 = 2 / min(4, 3) = 2/3
//   DCG@4    = 1/log2(3) + 1/log2(5)            = 1.0616063116448506
//   IDCG@4   = 1 + 1/log2(3) + 1/log2(4)        = 2.1309297535714578
//   NDCG@4   = 0.49818925746641285
TEST(RecMetrics, HandComputedRecallAndNdcg) {
  const std::vector<Index> ranked{5, 3, 8, 1};
  const std::vector<Index> targets{3, 1, 9};
  EXPECT_NEAR(recall_at_k(ranked, targets, 4), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(ndcg_at_k(ranked, targets, 4), 0.49818925746641285, 1e-12);
  EXPECT_DOUBLE_EQ(hit_rate_at_k(ranked, targets, 1), 0.0);
  EXPECT_DOUBLE_EQ(hit_rate_at_k(ranked, targets, 2), 1.0);
  // k = 1: no hit; k = 2: one hit over min(2, 3) = 2; NDCG@2 = (1/log2 3) / (1 + 1/log2 3).
  EXPECT_DOUBLE_EQ(recall_at_k(ranked, targets, 1), 0.0);
  EXPECT_DOUBLE_EQ(recall_at_k(ranked, targets, 2), 0.5);
  EXPECT_NEAR(ndcg_at_k(ranked, targets, 2), 0.6309297535714575 / 1.6309297535714575, 1e-12);
}

TEST(RecMetrics, OneTargetIsHitRateAndInverseLogRank) {
  const std::vector<Index> ranked{7, 2, 4};
  const std::vector<Index> target{4};
  EXPECT_DOUBLE_EQ(recall_at_k(ranked, target, 10), 1.0);
  EXPECT_NEAR(ndcg_at_k(ranked, target, 10), 0.5, 1e-12);  // rank 3: 1/log2(4)
  EXPECT_DOUBLE_EQ(ndcg_at_k(ranked, target, 2), 0.0);
}

TEST(RecMetrics, RecallDenominatorIsCappedAtK) {
  const std::vector<Index> ranked{1, 2};
  const std::vector<Index> targets{1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(recall_at_k(ranked, targets, 2), 1.0);  // 2 hits / min(2, 5)
  EXPECT_DOUBLE_EQ(ndcg_at_k(ranked, targets, 2), 1.0);
  EXPECT_DOUBLE_EQ(recall_at_k(ranked, {}, 2), 0.0);
}

TEST(RecMetrics, ParsesNames) {
  EXPECT_EQ(MetricSpec::parse("HR@10").name(), "HR@10");
  EXPECT_EQ(MetricSpec::parse("Recall@20").k, 20);
  EXPECT_EQ(MetricSpec::parse("NDCG@100").kind, MetricSpec::Kind::ndcg);
  EXPECT_THROW(MetricSpec::parse("MRR@10"), aisle::Error);
  EXPECT_THROW(MetricSpec::parse("NDCG@"), aisle::Error);
  EXPECT_THROW(MetricSpec::parse("NDCG@0"), aisle::Error);
}
