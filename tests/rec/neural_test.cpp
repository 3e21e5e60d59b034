#include <gtest/gtest.h>

#include "aisle/core/error.hpp"
#include "aisle/core/memory.hpp"
#include "aisle/core/random.hpp"
#include "aisle/rec/evaluation.hpp"
#include "aisle/io/model_file.hpp"
#include "aisle/rec/neural.hpp"
#include "aisle/rec/recommender.hpp"
#include "aisle/rec/synthetic.hpp"
#include "support/synthetic_store.hpp"
#include "support/interactions_csv.hpp"
#include "support/test_files.hpp"

using aisle::Index;
using aisle::Matrix;
using namespace aisle::rec;

namespace {

const Interactions& small_store() {
  static const Interactions data = aisle::test_support::synthetic_store(200, 40, 4);
  return data;
}

NeuralOptions tiny_options(int epochs) {
  NeuralOptions o;
  o.hidden = 16;
  o.epochs = epochs;
  o.batch_size = 32;
  o.learning_rate = 5e-3f;
  o.cuts_per_row = 2;
  return o;
}

// The sparse first layer is the dense product of the input vector: the
// history's items weighted decay^age (newest age 0), scaled to unit length.
void expect_sparse_input_layer_equals_dense_product(float input_decay) {
  const auto& data = small_store();
  auto options = tiny_options(1);
  options.input_decay = input_decay;
  NeuralModel model(options);
  model.fit(data.histories(), data.item_count());
  Histories queries;
  queries.add(std::vector<Index>{0, 3, 7});
  queries.add(std::vector<Index>{5});
  Matrix scores;
  model.score_batch(queries, scores);
  const float d = input_decay, norm = std::sqrt(d * d * d * d + d * d + 1.0f);
  Matrix x = Matrix::Zero(2, data.item_count());
  x(0, 0) = d * d / norm;  // the oldest item
  x(0, 3) = d / norm;
  x(0, 7) = 1.0f / norm;  // the newest item
  x(1, 5) = 1.0f;
  const Matrix h = ((x * model.input_weight()).rowwise() + model.input_bias().row(0)).cwiseMax(0.0f);
  const Matrix expected = model.head().predict(h);
  ASSERT_EQ(scores.rows(), 2);
  ASSERT_EQ(scores.cols(), data.item_count());
  EXPECT_LT((scores - expected).cwiseAbs().maxCoeff(), 1e-6f);
  EXPECT_NEAR(scores.row(0).sum(), 1.0f, 1e-4f);  // softmax over the catalogue
}

}  // namespace

TEST(RecNeural, SparseInputLayerEqualsDenseProductOfRecencyWeights) {
  expect_sparse_input_layer_equals_dense_product(0.6f);
}

TEST(RecNeural, SparseInputLayerEqualsDenseProductOfNormalisedMultiHot) {
  expect_sparse_input_layer_equals_dense_product(1.0f);  // 1/sqrt(3) on each item
}

TEST(RecNeural, TrainingLowersTheLoss) {
  const auto& data = small_store();
  NeuralModel model(tiny_options(6));
  model.fit(data.histories(), data.item_count());
  ASSERT_EQ(model.epoch_losses().size(), 6u);
  EXPECT_LT(model.epoch_losses().back(), model.epoch_losses().front());
}

// A run that diverges stops with an error naming where, instead of
// finishing with NaN weights that recommend nothing sensible.
TEST(RecNeural, StopsWhenTheLossStopsBeingFinite) {
  const auto& data = small_store();
  auto options = tiny_options(3);
  options.learning_rate = 1e30f;
  NeuralModel model(options);
  const std::string message =
      aisle::test_support::error_message<aisle::Error>([&] { model.fit(data.histories(), data.item_count()); });
  EXPECT_NE(message.find("neural: the loss became"), std::string::npos) << message;
  EXPECT_NE(message.find("at epoch 1, batch 2 "), std::string::npos) << message;
}

TEST(RecNeural, BatchSaveLoadAndExplainThroughRecommender) {
  const auto& data = small_store();
  auto rec = Recommender::fit(data, std::make_unique<NeuralModel>(tiny_options(2)));
  aisle::test_support::TempDir dir;
  rec.save(dir / "neural.aisle");
  const auto loaded = Recommender::load(dir / "neural.aisle");
  EXPECT_EQ(loaded.model().params(), rec.model().params());
  const std::vector<std::string> history{data.items().id(1), data.items().id(2)};
  const auto a = rec.recommend(history, 5);
  const auto b = loaded.recommend(history, 5);
  ASSERT_EQ(a.items.size(), 5u);
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    EXPECT_EQ(a.items[i].item, b.items[i].item);
    EXPECT_EQ(a.items[i].score, b.items[i].score);
  }
  const auto batch = rec.recommend_batch(std::vector<Query>{Query::for_history(history), Query::for_user("x")}, 5);
  for (std::size_t i = 0; i < a.items.size(); ++i) EXPECT_EQ(batch[0].items[i].score, a.items[i].score);
  const auto e = rec.explain(history, a.items[0].item);
  EXPECT_EQ(e.contributions.size(), 2u);
}

// Files written before input_decay and validate existed lack both keys; they
// load as the plain normalised multi-hot model they were trained as.
TEST(RecNeural, LoadsFilesWithoutInputDecayOrValidate) {
  const auto& data = small_store();
  auto options = tiny_options(1);
  options.input_decay = 1.0f;
  auto rec = Recommender::fit(data, std::make_unique<NeuralModel>(options));
  aisle::test_support::TempDir dir;
  rec.save(dir / "new.aisle");
  auto file = aisle::io::read_model_file(dir / "new.aisle");
  auto& params = file.header.at("model").at("params");
  params.erase("input_decay");
  params.erase("validate");
  aisle::io::write_model_file(dir / "old.aisle", file);
  const auto loaded = Recommender::load(dir / "old.aisle");
  EXPECT_EQ(loaded.model().params(), rec.model().params());
  const std::vector<std::string> history{data.items().id(1), data.items().id(2)};
  const auto a = rec.recommend(history, 5), b = loaded.recommend(history, 5);
  ASSERT_EQ(a.items.size(), b.items.size());
  for (std::size_t i = 0; i < a.items.size(); ++i) EXPECT_EQ(a.items[i].score, b.items[i].score);
}

TEST(RecNeural, RefusesBadOptions) {
  EXPECT_THROW(make_model("neural", {{"dropout", 1.0}}), aisle::Error);
  EXPECT_THROW(make_model("neural", {{"hidden", 0}}), aisle::Error);
  EXPECT_THROW(make_model("neural", {{"input_decay", 0.0}}), aisle::Error);
  EXPECT_THROW(make_model("neural", {{"input_decay", 1.5}}), aisle::Error);
  EXPECT_THROW(make_model("neural", {{"l2", 3}}), aisle::Error);
  EXPECT_NO_THROW(make_model("neural", {{"epochs", 1}, {"hidden", 8}}));
}

TEST(RecNeural, ChoosesEpochsOnValidation) {
  const auto& data = small_store();
  auto options = tiny_options(3);
  options.validate = true;
  auto rec = Recommender::fit(data, std::make_unique<NeuralModel>(options));
  const auto params = rec.model().params();
  ASSERT_TRUE(params.contains("epochs_validation"));
  EXPECT_EQ(params.at("epochs_validation").size(), 3u);
  const int trained = params.at("epochs_trained").get<int>();
  EXPECT_GE(trained, 1);
  EXPECT_LE(trained, 3);
  aisle::test_support::TempDir dir;
  rec.save(dir / "validated.aisle");
  EXPECT_EQ(Recommender::load(dir / "validated.aisle").model().params(), params);
}

namespace {

// Shoppers walk the catalogue in order (item i, then i + 1, modulo the
// catalogue) from random starting points: the next item is certain, so a
// model that learns anything ranks it near the top.
Histories walks(Index users, Index items, Index length, std::uint64_t seed) {
  aisle::Rng rng(seed);
  Histories rows;
  std::vector<Index> row;
  for (Index u = 0; u < users; ++u) {
    const auto start = static_cast<Index>(rng.below(static_cast<std::uint64_t>(items)));
    row.clear();
    for (Index i = 0; i < length; ++i) row.push_back((start + i) % items);
    rows.add(row);
  }
  return rows;
}

double loo_hit_rate(const NeuralOptions& options, const Histories& rows, Index items) {
  const EvalSplit split = make_split(rows, items, Protocol::loo, {});
  NeuralModel model(options);
  model.fit(split.fitted, items);
  return evaluate(model, split).metric("HR@10");
}

}  // namespace

// The sampled softmax (8 negatives a batch over 120 items) learns the walk as
// the full softmax does; a random ranking would hit 10 of the ~117 left.
TEST(RecNeural, SampledSoftmaxLearnsWhatTheFullSoftmaxLearns) {
  const Index items = 120;
  const auto rows = walks(600, items, 6, 3);
  auto options = tiny_options(8);
  options.hidden = 32;
  options.cuts_per_row = 0;
  options.dropout = 0.2f;
  options.negatives = 0;
  const double full = loo_hit_rate(options, rows, items);
  options.negatives = 8;
  const double sampled = loo_hit_rate(options, rows, items);
  EXPECT_GT(full, 0.5);
  EXPECT_GT(sampled, 0.5);
  EXPECT_GT(sampled, 0.8 * full) << "full " << full << ", sampled " << sampled;
}

TEST(RecNeural, SampledFitIsSeededAndRoundTripsThroughTheModelFile) {
  const auto& data = small_store();
  auto options = tiny_options(2);
  options.negatives = 5;
  auto a = Recommender::fit(data, std::make_unique<NeuralModel>(options));
  auto b = Recommender::fit(data, std::make_unique<NeuralModel>(options));
  const auto& first = static_cast<const NeuralModel&>(a.model());
  const auto& second = static_cast<const NeuralModel&>(b.model());
  EXPECT_EQ(first.input_weight(), second.input_weight());
  EXPECT_EQ(first.epoch_losses(), second.epoch_losses());
  EXPECT_EQ(a.model().params().at("negatives"), 5);
  aisle::test_support::TempDir dir;
  a.save(dir / "sampled.aisle");
  const auto loaded = Recommender::load(dir / "sampled.aisle");
  const std::vector<std::string> history{data.items().id(1), data.items().id(2)};
  const auto x = a.recommend(history, 5), y = loaded.recommend(history, 5);
  ASSERT_EQ(x.items.size(), 5u);
  for (std::size_t i = 0; i < x.items.size(); ++i) {
    EXPECT_EQ(x.items[i].item, y.items[i].item);
    EXPECT_EQ(x.items[i].score, y.items[i].score);
  }
}

TEST(RecNeural, ChoosesTheSoftmaxByCatalogueSize) {
  NeuralOptions options;
  EXPECT_EQ(NeuralModel::negatives_for(options, NeuralModel::kSampledSoftmaxItems), 0);
  EXPECT_EQ(NeuralModel::negatives_for(options, NeuralModel::kSampledSoftmaxItems + 1),
            NeuralModel::kDefaultNegatives);
  options.negatives = 0;
  EXPECT_EQ(NeuralModel::negatives_for(options, 10'000'000), 0);
  options.negatives = 64;
  EXPECT_EQ(NeuralModel::negatives_for(options, 100), 64);
  EXPECT_THROW(make_model("neural", {{"negatives", -2}}), aisle::Error);
}

// A catalogue whose tables cannot fit is refused before anything is
// allocated, with what it needs.
TEST(RecNeural, RefusesACatalogueThatCannotFit) {
  aisle::set_memory_limit(64ull << 20);
  Histories rows;
  rows.add(std::vector<Index>{0, 1});
  auto options = tiny_options(1);
  options.hidden = 512;
  options.negatives = 16;
  NeuralModel model(options);
  const std::string message =
      aisle::test_support::error_message<aisle::Error>([&] { model.fit(rows, 1'000'000); });
  aisle::set_memory_limit(std::nullopt);
  EXPECT_NE(message.find("neural on 1000000 items needs"), std::string::npos) << message;
}
