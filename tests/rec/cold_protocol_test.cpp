// The cold protocol of docs/evaluation.md and its two baselines, featpop and
// featknn, against hand-computed tiny cases.

#include <gtest/gtest.h>

#include <cmath>

#include "aisle/core/error.hpp"
#include "aisle/io/model_file.hpp"
#include "aisle/rec/evaluation.hpp"
#include "aisle/rec/feature_knn.hpp"
#include "aisle/rec/feature_popularity.hpp"
#include "aisle/rec/model_registry.hpp"
#include "aisle/rec/protocols.hpp"
#include "aisle/rec/recommender.hpp"
#include "support/interactions_csv.hpp"
#include "support/test_files.hpp"

using aisle::Index;
using namespace aisle::rec;

namespace {

// Items whose ids hash to 1 mod 5 (FNV-1a-64): a, k, l, v, x. With features,
// a, k and v are cold; l has none and stays warm.
//   features: a g1 | k g2 | v g1 g2 | b g1 | c g1 | d g2 | e g2 g3 | l none
//   u1: b c a d   history b c d, target a
//   u2: b k a     history b, targets k a
//   u3: a k v     no warm item: neither fitted nor evaluated
//   u4: b c       under 3 items: dropped
//   u5: l d e     all warm: fitted only
//   u6: d e k     history d e, target k
const char* kFeatures =
    "item,feature\na,g1\nk,g2\nv,g1\nv,g2\nb,g1\nc,g1\nd,g2\ne,g2\ne,g3\n";

Interactions tiny_store(const aisle::test_support::TempDir& dir) {
  dir.write("interactions.csv", aisle::test_support::interactions_csv({{"u1", {"b", "c", "a", "d"}},
                                                                        {"u2", {"b", "k", "a"}},
                                                                        {"u3", {"a", "k", "v"}},
                                                                        {"u4", {"b", "c"}},
                                                                        {"u5", {"l", "d", "e"}},
                                                                        {"u6", {"d", "e", "k"}}}));
  dir.write("items.csv", kFeatures);
  return read_dataset(dir.path());
}

std::vector<std::string> ids(const Interactions& data, std::span<const Index> items) {
  std::vector<std::string> out;
  for (const Index i : items) out.push_back(data.items().id(i));
  return out;
}

FitContext features_of(const Interactions& data) { return with_item_features({}, data); }

const double kIdcg2 = 1.0 + 1.0 / std::log2(3.0);  // two targets

}  // namespace

TEST(RecColdProtocol, ItemHashes) {
  for (const char* id : {"a", "k", "l", "v", "x"}) EXPECT_TRUE(cold_item_hash(id)) << id;
  for (const char* id : {"b", "c", "d", "e", "f"}) EXPECT_FALSE(cold_item_hash(id)) << id;
  EXPECT_EQ(parse_protocol("cold"), Protocol::cold);
  EXPECT_EQ(protocol_name(Protocol::cold), "cold");
  EXPECT_EQ(min_user_items(Protocol::cold), 3);
}

TEST(RecColdProtocol, SplitByHand) {
  aisle::test_support::TempDir dir;
  const auto data = tiny_store(dir);
  const auto split = make_split(data, Protocol::cold);
  EXPECT_EQ(split.dropped_users, 1);
  ASSERT_EQ(split.queries.size(), 3);
  EXPECT_EQ(ids(data, split.queries[0]), (std::vector<std::string>{"b", "c", "d"}));
  EXPECT_EQ(ids(data, split.targets[0]), (std::vector<std::string>{"a"}));
  EXPECT_EQ(ids(data, split.queries[1]), (std::vector<std::string>{"b"}));
  EXPECT_EQ(ids(data, split.targets[1]), (std::vector<std::string>{"k", "a"}));
  EXPECT_EQ(ids(data, split.queries[2]), (std::vector<std::string>{"d", "e"}));
  EXPECT_EQ(ids(data, split.targets[2]), (std::vector<std::string>{"k"}));
  EXPECT_EQ(split.query_users, (std::vector<Index>{0, 1, 5}));
  // Fitted: u1 b c d, u2 b, u5 l d e, u6 d e; never a row of a cold item.
  ASSERT_EQ(split.fitted.size(), 4);
  EXPECT_EQ(ids(data, split.fitted[2]), (std::vector<std::string>{"l", "d", "e"}));
  std::vector<std::string> candidates;
  for (Index i = 0; i < data.item_count(); ++i) {
    if (split.candidate_items[static_cast<std::size_t>(i)]) candidates.push_back(data.items().id(i));
  }
  EXPECT_EQ(candidates, (std::vector<std::string>{"a", "k", "v"}));
  EXPECT_EQ(protocol_metrics(Protocol::cold)[1].name(), "NDCG@20");
}

TEST(RecColdProtocol, NeedsFeatures) {
  aisle::test_support::TempDir dir;
  const auto data = read_interactions(dir.write("i.csv", aisle::test_support::interactions_csv({{"u", {"a", "b", "c"}}})));
  EXPECT_NE(aisle::test_support::error_message<aisle::Error>([&] { make_split(data, Protocol::cold); }).find("items.csv"),
            std::string::npos);
  EXPECT_THROW(make_split(data.histories(), data.item_count(), Protocol::cold, data.users().ids()), aisle::Error);
  FeaturePopularityModel featpop;
  EXPECT_NE(aisle::test_support::error_message<aisle::Error>([&] { featpop.fit(data.histories(), data.item_count()); })
                .find("featpop needs item features"),
            std::string::npos);
  FeatureKnnModel featknn;
  EXPECT_THROW(featknn.fit(data.histories(), data.item_count()), aisle::Error);
}

// Feature popularity over the fitted rows (b 2, c 1, d 3, e 2, l 1):
// g1 = 3 (b, c), g2 = 5 (d, e), g3 = 2; a 3, k 5, v (3 + 5) / 2 = 4.
// Ranked k, v, a:  u1 a at 3;  u2 k at 1, a at 3;  u6 k at 1.
TEST(RecColdProtocol, FeaturePopularityByHand) {
  aisle::test_support::TempDir dir;
  const auto data = tiny_store(dir);
  const auto split = make_split(data, Protocol::cold);
  FeaturePopularityModel model;
  model.fit(split.fitted, split.item_count, features_of(data));
  const auto score = [&](const char* id) { return model.item_scores()[*data.items().find(id)]; };
  EXPECT_EQ(score("a"), 3.0f);
  EXPECT_EQ(score("k"), 5.0f);
  EXPECT_EQ(score("v"), 4.0f);
  EXPECT_EQ(score("l"), 0.0f);
  const auto result = evaluate(model, split);
  EXPECT_EQ(result.users, 3);
  EXPECT_NEAR(result.metric("Recall@20"), 1.0, 1e-12);
  EXPECT_NEAR(result.metric("NDCG@20"), (0.5 + 1.5 / kIdcg2 + 1.0) / 3.0, 1e-12);
  EvalOptions at_two;
  at_two.metrics = {MetricSpec::parse("Recall@2")};
  EXPECT_NEAR(evaluate(model, split, at_two).metric("Recall@2"), (0.0 + 0.5 + 1.0) / 3.0, 1e-12);
}

// Unit vectors over (g1, g2, g3): a (1,0,0), k (0,1,0), v (1,1,0)/sqrt 2.
//   u1: profile b + c + d = (2,1,0): a 2/sqrt 5, k 1/sqrt 5, v 3/sqrt 10; ranked v a k: a at 2
//   u2: profile (1,0,0): a 1, v 1/sqrt 2, k 0; ranked a v k: a at 1, k at 3
//   u6: profile d + e = (0, 1 + 1/sqrt 2, 1/sqrt 2): k first
TEST(RecColdProtocol, FeatureKnnByHand) {
  aisle::test_support::TempDir dir;
  const auto data = tiny_store(dir);
  const auto split = make_split(data, Protocol::cold);
  FeatureKnnModel model;
  model.fit(split.fitted, split.item_count, features_of(data));
  const auto scores = model.score(split.queries[0]);
  const auto score = [&](const char* id) { return scores[*data.items().find(id)]; };
  EXPECT_NEAR(score("a"), 2.0 / std::sqrt(5.0), 1e-6);
  EXPECT_NEAR(score("k"), 1.0 / std::sqrt(5.0), 1e-6);
  EXPECT_NEAR(score("v"), 3.0 / std::sqrt(10.0), 1e-6);
  EXPECT_EQ(score("l"), 0.0f);
  const auto result = evaluate(model, split);
  EXPECT_NEAR(result.metric("NDCG@20"), (1.0 / std::log2(3.0) + 1.5 / kIdcg2 + 1.0) / 3.0, 1e-12);
  EXPECT_EQ(model.score(std::vector<Index>{*data.items().find("l")}), aisle::RowVector(aisle::RowVector::Zero(data.item_count())));
}

TEST(RecColdProtocol, BaselinesSaveAndLoadBitForBit) {
  aisle::test_support::TempDir dir;
  const auto data = tiny_store(dir);
  for (const char* kind : {"featpop", "featknn"}) {
    const auto rec = Recommender::fit(data, make_model(kind));
    const auto path = dir / (std::string(kind) + ".aisle");
    rec.save(path);
    const auto loaded = Recommender::load(path);
    EXPECT_EQ(loaded.model().kind(), kind);
    for (Index u = 0; u < data.user_count(); ++u)
      EXPECT_EQ(loaded.model().score(data.history(u)), rec.model().score(data.history(u))) << kind << " user " << u;
  }
}

TEST(RecColdProtocol, DamagedFeatureListsAreRefused) {
  aisle::test_support::TempDir dir;
  const auto data = tiny_store(dir);
  FeatureKnnModel model;
  model.fit(data.histories(), data.item_count(), features_of(data));
  aisle::io::ModelFile file;
  model.save(file);
  file.header["featknn_item_features"]["features"][0] = 99;  // beyond the feature count
  FeatureKnnModel loaded;
  EXPECT_NE(aisle::test_support::error_message<aisle::Error>([&] { loaded.load(file, "m.aisle"); }).find("m.aisle"),
            std::string::npos);
}
