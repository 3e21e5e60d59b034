// The hybrid model: its training gradients against finite differences, new
// items scored from their features alone, save/load and threads.

#include <gtest/gtest.h>

#include <thread>

#include "aisle/rec/evaluation.hpp"
#include "aisle/rec/feature_popularity.hpp"
#include "aisle/rec/hybrid.hpp"
#include "aisle/rec/model_registry.hpp"
#include "aisle/rec/protocols.hpp"
#include "aisle/rec/recommender.hpp"
#include "rec/hybrid_trainer.hpp"
#include "support/gradient_check.hpp"
#include "support/synthetic_store.hpp"
#include "support/test_files.hpp"

using aisle::Index;
using aisle::Matrix;
using namespace aisle::rec;

namespace {

// 6 items, 3 features; items 0-4 have ids, item 5 only features; item 2 has no feature.
struct TinyHybrid {
  HybridModel::Parameters params;
  std::vector<std::uint8_t> has_id{1, 1, 1, 1, 1, 0};
  Histories item_features;
  detail::CutBatch batch;

  TinyHybrid() {
    for (const std::vector<Index>& f : std::vector<std::vector<Index>>{{0}, {0, 1}, {}, {2}, {1, 2}, {0, 2}})
      item_features.add(f);
    constexpr Index d = 4;
    aisle::Rng rng(11);
    detail::draw_table(params.item_in, 6, d, 0.5f, rng);
    params.bias_in = Matrix::Constant(1, d, 0.3f);
    detail::draw_table(params.hidden_weight, d, d, 0.6f, rng);
    params.hidden_bias = Matrix::Constant(1, d, 0.2f);
    detail::draw_table(params.item_out, 6, d + 1, 0.5f, rng);
    detail::draw_table(params.feature_out, 3, d + 1, 0.5f, rng);
    params.feature_match = Matrix{{0.8f, 1.3f, -0.4f}};
    // Three examples; the last input holds the item without an id.
    for (const std::vector<Index>& input : std::vector<std::vector<Index>>{{0, 1}, {2}, {3, 5}}) batch.inputs.add(input);
    batch.weights = {0.6f, 0.8f, 1.0f, 0.8f, 0.6f};
    batch.targets = {{.example = 0, .item = 2, .weight = 1.0f},
                     {.example = 0, .item = 3, .weight = 0.5f},
                     {.example = 1, .item = 4, .weight = 1.0f},
                     {.example = 2, .item = 1, .weight = 1.0f}};
    batch.target_totals = {1.5f, 1.0f, 1.0f};
  }

  std::array<Matrix*, 7> tensors() {
    return {&params.item_in,  &params.bias_in,     &params.hidden_weight, &params.hidden_bias,
            &params.item_out, &params.feature_out, &params.feature_match};
  }
};

const char* kTensorNames[] = {"item_in", "bias_in", "hidden_weight", "hidden_bias", "item_out", "feature_out",
                              "feature_match"};

}  // namespace

// The encoder's tensors (the first four) get the id head's gradient only; the
// id rows, the feature rows and the match get that of the whole loss.
TEST(RecHybrid, GradientsMatchFiniteDifferences) {
  TinyHybrid tiny;
  detail::HybridTrainer trainer(tiny.params, tiny.has_id, tiny.item_features, 3, HybridOptions{});
  trainer.loss_and_gradients(tiny.batch);
  std::vector<Matrix> analytic;
  for (const Matrix* g : trainer.gradients()) analytic.push_back(*g);
  auto tensors = tiny.tensors();
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    const auto heads = k < 4 ? detail::HybridTrainer::Heads::id_only : detail::HybridTrainer::Heads::both;
    const Matrix numeric = aisle::test_support::numeric_gradient(
        *tensors[k], [&] { return static_cast<double>(trainer.loss(tiny.batch, heads)); }, 1e-2f);
    aisle::test_support::expect_gradient_matches(analytic[k], numeric, 2e-2, kTensorNames[k]);
  }
  // The item without an id gets no id gradient on either side.
  EXPECT_EQ(analytic[0].row(5).norm(), 0.0f);
  EXPECT_EQ(analytic[4].row(5).norm(), 0.0f);
  EXPECT_GT(analytic[6].norm(), 0.0f);
}

namespace {

const Interactions& store() {
  static const Interactions data = aisle::test_support::synthetic_store(400, 80, 4);
  return data;
}

HybridOptions small_options() {
  HybridOptions options;
  options.hidden = 32;
  options.epochs = 8;
  options.batch_size = 64;
  options.learning_rate = 3e-3f;
  return options;
}

}  // namespace


TEST(RecHybrid, NewItemsAreScoredFromTheirFeaturesAlone) {
  const auto split = make_split(store(), Protocol::cold);
  HybridModel model(small_options());
  model.fit(split.fitted, split.item_count, with_item_features({}, store()));
  ASSERT_TRUE(model.uses_features());
  const auto& p = model.parameters();
  const auto vectors = model.item_vectors();
  Index cold = 0;
  for (Index item = 0; item < store().item_count(); ++item) {
    EXPECT_EQ(model.has_id(item), split.candidate_items[static_cast<std::size_t>(item)] == 0) << item;
    if (model.has_id(item)) continue;
    ++cold;
    // r_out = the mean of the item's feature rows, nothing of its own.
    Matrix expected = Matrix::Zero(1, p.feature_out.cols());
    const auto features = store().item_features()[item];
    for (const Index f : features) expected += p.feature_out.row(f);
    expected /= static_cast<float>(features.size());
    aisle::test_support::expect_close(vectors.row(item).head(expected.cols()), expected, 1e-5, "cold item vector");
    EXPECT_GT(vectors.row(item).tail(p.feature_match.cols()).norm(), 0.99f);  // its unit feature vector: the match
  }
  EXPECT_GT(cold, 5);
  for (Index item = 0; item < store().item_count(); ++item) {
    if (model.has_id(item)) {
      EXPECT_EQ(vectors.row(item).tail(p.feature_match.cols()).norm(), 0.0f) << item;
    }
  }
  // Scores are inner products of the query and item vectors, the feature match included.
  Matrix queries;
  const Histories history = select_rows(split.queries, std::vector<Index>{0});
  model.query_vectors(history, queries);
  const aisle::RowVector by_vectors = queries.row(0) * vectors.transpose();
  aisle::test_support::expect_close(by_vectors, model.score(history[0]), 1e-4, "vector scores", 1e-2);
}

// On the synthetic store, shoppers keep to categories: a new item's category
// says who will buy it, which featpop (one list for everyone) cannot use.
TEST(RecHybrid, RanksNewItemsBetterThanFeaturePopularity) {
  const auto split = make_split(store(), Protocol::cold);
  const auto context = with_item_features({}, store());
  HybridModel hybrid(small_options());
  hybrid.fit(split.fitted, split.item_count, context);
  FeaturePopularityModel featpop;
  featpop.fit(split.fitted, split.item_count, context);
  const double hybrid_ndcg = evaluate(hybrid, split).metric("NDCG@20");
  const double featpop_ndcg = evaluate(featpop, split).metric("NDCG@20");
  EXPECT_GT(hybrid_ndcg, 1.2 * featpop_ndcg) << "hybrid " << hybrid_ndcg << ", featpop " << featpop_ndcg;
}

TEST(RecHybrid, SaveLoadThreadsAndNoFeatures) {
  aisle::test_support::TempDir dir;
  auto options = small_options();
  options.epochs = 2;
  const auto rec = Recommender::fit(store(), std::make_unique<HybridModel>(options));
  rec.save(dir / "hybrid.aisle");
  const auto loaded = Recommender::load(dir / "hybrid.aisle");
  EXPECT_EQ(loaded.model().params(), rec.model().params());
  std::vector<aisle::RowVector> serial;
  for (Index u = 0; u < 40; ++u) {
    serial.push_back(rec.model().score(store().history(u)));
    EXPECT_EQ(loaded.model().score(store().history(u)), serial.back()) << u;
  }
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (Index u = 0; u < 40; ++u) mismatches[t] += loaded.model().score(store().history(u)) != serial[u];
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
  // Without item features it is an id-only model and still fits and scores.
  HybridModel plain(options);
  plain.fit(store().histories(), store().item_count());
  EXPECT_FALSE(plain.uses_features());
  EXPECT_TRUE(plain.score(store().history(0)).allFinite());
}
