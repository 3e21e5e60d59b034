#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "aisle/core/error.hpp"
#include "aisle/rec/neural.hpp"
#include "aisle/rec/recommender.hpp"
#include "aisle/rec/synthetic.hpp"
#include "support/synthetic_store.hpp"
#include "support/test_files.hpp"

using aisle::Index;
using aisle::Matrix;
using namespace aisle::rec;

namespace {

const Interactions& store() {
  static const Interactions data = aisle::test_support::synthetic_store(400, 150, 5);
  return data;
}

Recommender fitted_neural() {
  return Recommender::fit(store(), make_model("neural", {{"hidden", 24}, {"epochs", 2}}));
}

std::vector<std::string> ids(const Recommendations& r) {
  std::vector<std::string> out;
  for (const auto& s : r.items) out.push_back(s.item);
  return out;
}

// What every ranking must agree on: users, histories, filters, similar items.
struct Answers {
  std::vector<std::vector<std::string>> lists;
};

Answers answers(const Recommender& rec) {
  Answers out;
  const auto& items = store().items();
  for (Index u = 0; u < 30; ++u) out.lists.push_back(ids(rec.recommend(store().users().id(u), 10)));
  const std::vector<std::string> history{items.id(3), items.id(40), items.id(77)};
  out.lists.push_back(ids(rec.recommend(history, 10)));
  Filter filter;
  filter.allow = rec.items_with_feature("category:c02");
  filter.deny = {filter.allow->front()};
  out.lists.push_back(ids(rec.recommend(history, 5, filter)));
  out.lists.push_back(ids(rec.similar_items(items.id(12), 8)));
  out.lists.push_back(ids(rec.recommend("no such user", 4)));
  const std::vector<Query> batch{Query::for_user(store().users().id(5)), Query::for_history(history),
                                 Query::for_user("nobody")};
  for (const auto& r : rec.recommend_batch(batch, 6)) out.lists.push_back(ids(r));
  return out;
}

}  // namespace

TEST(RecVectorRanking, NeuralLogitsAreTheInnerProductsOfItsVectors) {
  const auto rec = fitted_neural();
  const auto& model = rec.model();
  ASSERT_EQ(model.vector_dim(), 25);
  const Matrix items = model.item_vectors();
  ASSERT_EQ(items.rows(), store().item_count());
  Histories histories;
  for (Index u = 0; u < 20; ++u) histories.add(store().history(u));
  Matrix queries, probabilities;
  model.query_vectors(histories, queries);
  model.score_batch(histories, probabilities);
  const Matrix logits = queries * items.transpose();
  // softmax(logits) = probabilities: log p - logits is one constant a row.
  for (Index r = 0; r < logits.rows(); ++r) {
    const double shift = std::log(probabilities(r, 0)) - logits(r, 0);
    for (Index i = 0; i < logits.cols(); ++i) ASSERT_NEAR(std::log(probabilities(r, i)) - logits(r, i), shift, 1e-3);
  }
  EXPECT_EQ(make_model("ease", {{"l2", 10}})->vector_dim(), 0);
}

TEST(RecVectorRanking, ExactVectorSearchAndAnExhaustiveIndexRankAsTheDenseScores) {
  auto rec = fitted_neural();
  EXPECT_EQ(rec.ranking(), "dense");  // a catalogue this small stays dense
  const auto dense = answers(rec);
  rec.use_exact_vector_search();
  EXPECT_EQ(rec.ranking(), "exact-vectors");
  EXPECT_EQ(answers(rec).lists, dense.lists);
  // ef_search above the catalogue's size: the graph search visits every item.
  rec.build_index({.ef_search = 400});
  EXPECT_EQ(rec.ranking(), "hnsw");
  EXPECT_EQ(answers(rec).lists, dense.lists);
  // A predicate runs item by item: such queries rank densely.
  Filter odd;
  odd.predicate = [](std::string_view id) { return (id.back() - '0') % 2 == 1; };
  for (const auto& hit : rec.recommend(store().users().id(0), 10, odd).items) EXPECT_EQ((hit.item.back() - '0') % 2, 1);
}

TEST(RecVectorRanking, TheIndexIsSavedBesideTheModelAndRebuiltWhenMissingOrStale) {
  aisle::test_support::TempDir dir;
  auto rec = fitted_neural();
  rec.build_index({.ef_search = 400});
  const auto expected = answers(rec).lists;
  const auto path = dir / "shop.model";
  rec.save(path);
  ASSERT_TRUE(std::filesystem::exists(dir / "shop.model.hnsw"));
  const auto loaded = Recommender::load(path);
  EXPECT_EQ(loaded.ranking(), "hnsw");
  EXPECT_EQ(answers(loaded).lists, expected);

  std::filesystem::remove(dir / "shop.model.hnsw");
  const auto rebuilt = Recommender::load(path);
  EXPECT_EQ(rebuilt.ranking(), "hnsw");
  EXPECT_EQ(answers(rebuilt).lists, expected);

  std::ofstream(dir / "shop.model.hnsw", std::ios::binary) << "not an index";
  const auto from_stale = Recommender::load(path);
  EXPECT_EQ(from_stale.ranking(), "hnsw");
  EXPECT_EQ(answers(from_stale).lists, expected);

  auto plain = fitted_neural();
  plain.save(dir / "plain.model");
  EXPECT_FALSE(std::filesystem::exists(dir / "plain.model.hnsw"));
  EXPECT_EQ(Recommender::load(dir / "plain.model").ranking(), "dense");
}

TEST(RecVectorRanking, ModelsOfOtherFormsRefuseVectorSearch) {
  auto rec = Recommender::fit(store(), make_model("ease", {{"l2", 10}}));
  EXPECT_THROW(rec.build_index(), aisle::Error);
  EXPECT_THROW(rec.use_exact_vector_search(), aisle::Error);
  EXPECT_THROW(rec.model().item_vectors(), aisle::Error);
  EXPECT_EQ(rec.ranking(), "dense");
}
