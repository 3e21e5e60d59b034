#include <gtest/gtest.h>

#include "aisle/rec/evaluation.hpp"
#include "aisle/rec/popularity.hpp"
#include "aisle/rec/protocols.hpp"
#include "support/interactions_csv.hpp"
#include "support/test_files.hpp"

using aisle::Index;
using namespace aisle::rec;

namespace {

std::vector<std::string> ids(const Interactions& data, std::span<const Index> items) {
  std::vector<std::string> out;
  for (const Index i : items) out.push_back(data.items().id(i));
  return out;
}

Interactions tiny(const std::vector<std::pair<std::string, std::vector<std::string>>>& users) {
  static int n = 0;
  aisle::test_support::TempDir dir;
  return read_interactions(dir.write("interactions" + std::to_string(n++) + ".csv", aisle::test_support::interactions_csv(users)));
}

}  // namespace

TEST(RecProtocols, FnvTestVectors) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("1"), 0xaf63ac4c86019afcULL);
  EXPECT_TRUE(held_out_user("u4"));
  EXPECT_FALSE(held_out_user("u0"));
}

TEST(RecProtocols, LeaveLastOutSplit) {
  const auto data = tiny({{"u1", {"a", "b", "c", "d", "e", "f"}},
                          {"u2", {"b", "c", "g"}},
                          {"u3", {"c", "a", "d"}},
                          {"u4", {"x", "y"}}});
  const auto split = make_split(data, Protocol::loo);
  EXPECT_EQ(split.dropped_users, 1);  // u4: 2 items < 3
  ASSERT_EQ(split.queries.size(), 3);
  EXPECT_EQ(ids(data, split.queries[0]), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(ids(data, split.targets[0]), (std::vector<std::string>{"f"}));
  EXPECT_EQ(ids(data, split.targets[2]), (std::vector<std::string>{"d"}));
  EXPECT_EQ(split.fitted.size(), 3);
  // f and g appear only as test items, x and y only in a dropped user.
  for (const auto& [id, fitted] : std::vector<std::pair<std::string, int>>{
           {"a", 1}, {"d", 1}, {"f", 0}, {"g", 0}, {"x", 0}})
    EXPECT_EQ(split.candidate_items[static_cast<std::size_t>(*data.items().find(id))], fitted) << id;
}

// Popularity over the fitted rows: c 3, a 2, b 2, d 1, e 1.
//   u1: no candidate left (f is not a candidate): miss
//   u2: candidates a, d, e; g is not a candidate: miss
//   u3: candidates b, d, e ranked b (2), d (1), e (1, after d by id): d at rank 2
// HR@10 = 1/3, NDCG@10 = (1/log2 3) / 3 = 0.2103099178571525, HR@1 = 0.
TEST(RecProtocols, LooMetricsByHand) {
  const auto data = tiny({{"u1", {"a", "b", "c", "d", "e", "f"}},
                          {"u2", {"b", "c", "g"}},
                          {"u3", {"c", "a", "d"}},
                          {"u4", {"x", "y"}}});
  const auto split = make_split(data, Protocol::loo);
  PopularityModel pop;
  pop.fit(split.fitted, split.item_count);
  const auto result = evaluate(pop, split);
  EXPECT_EQ(result.users, 3);
  EXPECT_NEAR(result.metric("HR@10"), 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(result.metric("NDCG@10"), 0.2103099178571525, 1e-12);
  EvalOptions at_one;
  at_one.metrics = {MetricSpec::parse("HR@1")};
  EXPECT_DOUBLE_EQ(evaluate(pop, split, at_one).metric("HR@1"), 0.0);
}

// u4 and u17 are held out (FNV-1a-64 % 5 == 0), u9 too but with 2 items it is dropped.
// Popularity over u0, u1, u2: b 3, a 2, c 2, then d..k 1 each.
//   u4: history a c d f, targets x b (x is no candidate); b ranks 1:
//       Recall@20 = 1 / min(20, 2) = 0.5, NDCG@100 = 1 / (1 + 1/log2 3) = 0.6131471927654584
//   u17: history e g k h, target j; candidates b a c d f i j: j ranks 7:
//       Recall@20 = 1, NDCG@100 = 1/log2 8 = 1/3
TEST(RecProtocols, UsersSplitAndMetricsByHand) {
  const auto data = tiny({{"u0", {"a", "b", "c", "d", "e"}},
                          {"u1", {"a", "b", "c", "f", "g"}},
                          {"u2", {"b", "h", "i", "j", "k"}},
                          {"u4", {"a", "c", "d", "f", "x", "b"}},
                          {"u17", {"e", "g", "k", "h", "j"}},
                          {"u9", {"a", "b"}}});
  const auto split = make_split(data, Protocol::users);
  EXPECT_EQ(split.dropped_users, 1);
  EXPECT_EQ(split.fitted.size(), 3);
  ASSERT_EQ(split.queries.size(), 2);
  EXPECT_EQ(ids(data, split.queries[1]), (std::vector<std::string>{"a", "c", "d", "f"}));  // u4 (ids sort: u17 < u4)
  EXPECT_EQ(ids(data, split.targets[1]), (std::vector<std::string>{"x", "b"}));
  PopularityModel pop;
  pop.fit(split.fitted, split.item_count);
  const auto result = evaluate(pop, split);
  EXPECT_EQ(result.users, 2);
  EXPECT_NEAR(result.metric("Recall@20"), 0.75, 1e-12);
  EXPECT_NEAR(result.metric("NDCG@100"), (0.6131471927654584 + 1.0 / 3.0) / 2, 1e-12);
}

TEST(RecProtocols, ValidationSplitUsesFittedRowsOnly) {
  Histories rows;
  for (Index r = 0; r < 50; ++r) {
    const std::vector<Index> h{r % 7, 7 + r % 5, 12 + r % 3, 15 + r % 2, 17};
    rows.add(h);
  }
  rows.add(std::vector<Index>{1, 2});  // too short to hold out: fitted whole
  const auto loo = make_validation_split(rows, 18, Protocol::loo);
  EXPECT_EQ(loo.queries.size(), 50);
  EXPECT_EQ(loo.fitted.size(), 51);
  EXPECT_EQ(loo.fitted.total(), 50 * 4 + 2);
  const auto users = make_validation_split(rows, 18, Protocol::users);
  EXPECT_GT(users.queries.size(), 0);
  EXPECT_EQ(users.queries.size() + users.fitted.size(), 51);
  EXPECT_EQ(users.queries[0].size(), 4u);
  EXPECT_EQ(users.targets[0].size(), 1u);
}
