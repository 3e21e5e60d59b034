// The transformer recommender: it learns order (not only the set of a
// history), is seeded, round-trips through the model file bit for bit,
// serves many threads, and its scores are inner products of its vectors.

#include <gtest/gtest.h>

#include <limits>

#include <thread>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/core/random.hpp"
#include "aisle/io/model_file.hpp"
#include "aisle/rec/model_registry.hpp"
#include "aisle/rec/recommender.hpp"
#include "aisle/rec/transformer.hpp"
#include "support/synthetic_store.hpp"
#include "support/test_files.hpp"

namespace aisle::rec {
namespace {

constexpr Index kItems = 24;

// Half the shoppers walk the catalogue upwards (i, i + 1, ...), half
// downwards, from random starts: the same set of items comes next in
// opposite directions, which only the order tells apart.
Histories two_way_walks(Index users, Index length, std::uint64_t seed) {
  Rng rng(seed);
  Histories rows;
  std::vector<Index> row;
  for (Index u = 0; u < users; ++u) {
    const auto start = static_cast<Index>(rng.below(kItems));
    const Index step = u % 2 == 0 ? 1 : kItems - 1;
    row.clear();
    for (Index i = 0; i < length; ++i) row.push_back((start + i * step) % kItems);
    rows.add(row);
  }
  return rows;
}

TransformerOptions tiny_options(int epochs = 30) {
  TransformerOptions o;
  o.max_length = 6;
  o.dim = 16;
  o.blocks = 1;
  o.heads = 2;
  o.dropout = 0.1f;
  o.epochs = epochs;
  o.batch_size = 32;
  o.learning_rate = 1e-2f;
  o.validate = false;  // exactly `epochs`: the tests below are not about choosing them
  return o;
}

// The best item outside the history, as recommendations rank (the model
// trains each position's softmax without the items before it, so the
// history's own scores mean nothing).
Index top_item(const Model& model, const std::vector<Index>& history) {
  Index best = 0;
  RowVector scores = model.score(history);
  for (const Index item : history) scores(item) = -std::numeric_limits<float>::infinity();
  scores.maxCoeff(&best);
  return best;
}

const TransformerModel& trained_walker() {
  static const TransformerModel model = [] {
    TransformerModel m(tiny_options());
    m.fit(two_way_walks(400, 8, 1), kItems);
    return m;
  }();
  return model;
}

TEST(RecTransformer, LearnsTheOrderNotOnlyTheSet) {
  const auto& model = trained_walker();
  EXPECT_EQ(top_item(model, {3, 4, 5}), 6);
  EXPECT_EQ(top_item(model, {5, 4, 3}), 2);
  EXPECT_EQ(top_item(model, {20, 21, 22, 23}), 0);  // around the end
  EXPECT_EQ(top_item(model, {1, 0}), 23);
  EXPECT_LT(model.epoch_losses().back(), model.epoch_losses().front());
}

TEST(RecTransformer, ReadsOnlyTheNewestMaxLengthItems) {
  const auto& model = trained_walker();
  const std::vector<Index> long_history{9, 9, 9, 2, 3, 4, 5, 6, 7};
  const std::vector<Index> newest(long_history.end() - 6, long_history.end());
  EXPECT_EQ(model.score(long_history), model.score(newest));
}

TEST(RecTransformer, ScoresAreInnerProductsOfItsVectors) {
  const auto& model = trained_walker();
  Histories queries;
  queries.add(std::vector<Index>{3, 4, 5});
  queries.add(std::vector<Index>{7});
  queries.add(std::vector<Index>{});
  Matrix scores, vectors;
  model.score_batch(queries, scores);
  model.query_vectors(queries, vectors);
  ASSERT_EQ(vectors.cols(), model.vector_dim());
  const Matrix products = vectors * model.item_vectors().transpose();
  EXPECT_TRUE(products.isApprox(scores, 1e-5f));
}

// A few histories are scored by dot products, a batch by a matrix product:
// the same scores, to rounding.
TEST(RecTransformer, ScoringOneHistoryAgreesWithABatch) {
  const auto& model = trained_walker();
  Histories batch;
  for (Index h = 0; h < 6; ++h) batch.add(std::vector<Index>{h, h + 1, h + 2});
  Matrix batch_scores;
  model.score_batch(batch, batch_scores);
  for (Index h = 0; h < 6; ++h) {
    const RowVector one = model.score(batch[h]);
    EXPECT_TRUE(one.isApprox(batch_scores.row(h), 1e-5f)) << h;
  }
}

TEST(RecTransformer, SameSeedSameModelAndTheFileRoundTripsBitForBit) {
  const Interactions data = test_support::synthetic_store(120, 30, 3);
  auto a = Recommender::fit(data, std::make_unique<TransformerModel>(tiny_options(3)));
  auto b = Recommender::fit(data, std::make_unique<TransformerModel>(tiny_options(3)));
  const auto& first = static_cast<const TransformerModel&>(a.model());
  EXPECT_EQ(first.epoch_losses(), static_cast<const TransformerModel&>(b.model()).epoch_losses());
  test_support::TempDir dir;
  a.save(dir / "transformer.aisle");
  const auto loaded = Recommender::load(dir / "transformer.aisle");
  EXPECT_EQ(loaded.model().kind(), "transformer");
  EXPECT_EQ(loaded.model().params().at("dim"), 16);
  Histories queries;
  queries.add(std::vector<Index>{1, 2, 3});
  queries.add(std::vector<Index>{4});
  Matrix x, y, z;
  a.model().score_batch(queries, x);
  b.model().score_batch(queries, y);
  loaded.model().score_batch(queries, z);
  EXPECT_EQ(x, y);
  EXPECT_EQ(x, z);
}

// --validate: the epoch count chosen on a validation split, the curve in
// params, both kept by the model file.
TEST(RecTransformer, ChoosesEpochsOnValidationAndKeepsTheCurve) {
  const Interactions data = test_support::synthetic_store(120, 30, 3);
  auto options = tiny_options(3);
  options.validate = true;
  auto fitted = Recommender::fit(data, std::make_unique<TransformerModel>(options));
  const auto params = fitted.model().params();
  ASSERT_EQ(params.at("epochs_validation").size(), 3u);
  const int chosen = params.at("epochs_trained").get<int>();
  EXPECT_GE(chosen, 1);
  EXPECT_LE(chosen, 3);
  EXPECT_EQ(static_cast<const TransformerModel&>(fitted.model()).epoch_losses().size(), static_cast<std::size_t>(chosen));
  test_support::TempDir dir;
  fitted.save(dir / "validated.aisle");
  EXPECT_EQ(Recommender::load(dir / "validated.aisle").model().params(), params);
}

// Shoppers go from item 0 to item 1, and around a ring of items 4 to 11;
// items 2, 3 and 12 to 15 are in no history. Item 2 shares item 1's feature,
// the others have features of their own: with features, what was learnt
// about item 1 lifts item 2 next after it, above the ring's items too
// (without features it ranked below five of them).
TEST(RecTransformer, ItemsBorrowFromTheFeaturesTheyShare) {
  constexpr Index items = 16;
  Histories rows;
  for (Index u = 0; u < 200; ++u) {
    rows.add(std::vector<Index>{0, 1});
    rows.add(std::vector<Index>{4 + u % 8, 4 + (u + 1) % 8});
  }
  Histories features;  // item i has feature i, but item 2 has item 1's
  for (Index i = 0; i < items; ++i) features.add(std::vector<Index>{i == 2 ? 1 : i});
  FitContext context;
  context.item_features = &features;
  context.feature_count = items;
  auto options = tiny_options(20);
  TransformerModel with_features(options);
  with_features.fit(rows, items, context);
  const RowVector scores = with_features.score(std::vector<Index>{0});
  EXPECT_EQ(top_item(with_features, {0}), 1);
  for (Index other = 3; other < items; ++other) EXPECT_GT(scores(2), scores(other)) << "item " << other;

  options.ignore_features = true;  // the switch: no feature table at all
  TransformerModel without(options);
  without.fit(rows, items, context);
  EXPECT_EQ(without.params().at("ignore_features"), true);
  EXPECT_EQ(without.item_vectors().rows(), items);
  test_support::TempDir dir;
  io::ModelFile file;
  with_features.save(file);
  io::write_model_file(dir / "features.aisle", file);
  io::ModelFile read = io::read_model_file(dir / "features.aisle");
  TransformerModel loaded;
  loaded.load(read, dir / "features.aisle");
  EXPECT_EQ(loaded.score(std::vector<Index>{0}), scores);
  EXPECT_EQ(loaded.item_vectors(), with_features.item_vectors());
  ASSERT_TRUE(read.header.contains("transformer_item_features"));
  auto& offsets = read.header["transformer_item_features"]["offsets"];
  offsets.erase(offsets.size() - 1);  // one item's features short
  TransformerModel refused;
  EXPECT_THROW(refused.load(read, dir / "features.aisle"), Error);
  context.feature_count = 1;  // item 2's feature 1 is then out of range
  TransformerModel out_of_range(tiny_options(1));
  EXPECT_THROW(out_of_range.fit(rows, items, context), Error);
}

TEST(RecTransformer, ThreadsQueryingEqualSerial) {
  const auto& model = trained_walker();
  Histories queries;
  for (Index i = 0; i < 40; ++i) queries.add(std::vector<Index>{i % kItems, (i + 1) % kItems, (i + 2) % kItems});
  Matrix serial;
  model.score_batch(queries, serial);
  std::vector<Matrix> results(8);
  std::vector<std::thread> threads;
  for (auto& result : results) threads.emplace_back([&] { model.score_batch(queries, result); });
  for (auto& thread : threads) thread.join();
  for (const auto& result : results) EXPECT_EQ(result, serial);
}

TEST(RecTransformer, MadeByNameAndRefusesBadOptions) {
  const auto model = make_model("transformer", {{"dim", 8}, {"heads", 2}, {"epochs", 1}});
  EXPECT_EQ(model->kind(), "transformer");
  EXPECT_THROW(make_model("transformer", {{"dim", 6}, {"heads", 4}}), Error);
  EXPECT_THROW(make_model("transformer", {{"dropout", 1.0}}), Error);
  EXPECT_THROW(make_model("transformer", {{"max_length", 0}}), Error);
  EXPECT_THROW(make_model("transformer", {{"weight_decay", -0.1}}), Error);
  TransformerModel unfitted(tiny_options());
  EXPECT_THROW(unfitted.score(std::vector<Index>{1}), Error);
  TransformerModel nothing_to_learn(tiny_options(1));
  Histories singles;
  singles.add(std::vector<Index>{1});
  EXPECT_THROW(nothing_to_learn.fit(singles, 4), Error);
}

}  // namespace
}  // namespace aisle::rec
