#include <gtest/gtest.h>

#include <cmath>

#include "aisle/core/error.hpp"
#include "aisle/io/model_file.hpp"
#include "aisle/rec/blend.hpp"
#include "aisle/rec/ease.hpp"
#include "aisle/rec/item_knn.hpp"
#include "aisle/rec/model_registry.hpp"
#include "support/random_histories.hpp"
#include "support/test_files.hpp"

using aisle::Index;
using aisle::Matrix;
using aisle::RowVector;
using namespace aisle::rec;
using aisle::test_support::random_rows;

namespace {

std::shared_ptr<Model> fitted(std::unique_ptr<Model> model, const Histories& rows, Index items) {
  model->fit(rows, items);
  return model;
}

RowVector standardised(RowVector scores) {
  Matrix m = scores;
  standardise_rows(m);
  return m.row(0);
}

Histories some_queries() {
  Histories queries;
  queries.add(std::vector<Index>{0, 3});
  queries.add(std::vector<Index>{5});
  queries.add(std::vector<Index>{1, 2, 7, 9});
  return queries;
}

}  // namespace

TEST(Blend, StandardisesRowsByHand) {
  Matrix scores(2, 3);
  scores << 1, 2, 3,  //
      4, 4, 4;
  const auto deviations = standardise_rows(scores);
  const float z = 1.0f / std::sqrt(2.0f / 3.0f);  // mean 2, deviation sqrt(2/3)
  EXPECT_FLOAT_EQ(scores(0, 0), -z);
  EXPECT_FLOAT_EQ(scores(0, 1), 0.0f);
  EXPECT_FLOAT_EQ(scores(0, 2), z);
  EXPECT_FLOAT_EQ(deviations[0], std::sqrt(2.0f / 3.0f));
  // A constant row has no deviation: zero scores, deviation 1.
  EXPECT_EQ(scores.row(1), RowVector::Zero(3));
  EXPECT_EQ(deviations[1], 1.0f);
}

TEST(Blend, OfOneModelIsThatModelStandardised) {
  const auto rows = random_rows(300, 40, 21);
  auto ease = fitted(make_model("ease", {{"l2", 10}}), rows, 40);
  const BlendModel blend({ease}, {1.0f});
  for (const std::vector<Index>& history : {std::vector<Index>{0, 3}, std::vector<Index>{5}, std::vector<Index>{1, 2, 7}}) {
    const RowVector expected = standardised(ease->score(history));
    EXPECT_TRUE(blend.score(history).isApprox(expected, 1e-5f));
  }
}

TEST(Blend, IsTheWeightedSumOfStandardisedScores) {
  const auto rows = random_rows(300, 40, 22);
  auto ease = fitted(make_model("ease", {{"l2", 10}}), rows, 40);
  auto knn = fitted(make_model("itemknn", {{"neighbours", 5}}), rows, 40);
  const BlendModel blend({ease, knn}, {0.7f, 0.3f});
  const auto queries = some_queries();
  Matrix batch;
  blend.score_batch(queries, batch);
  for (Index q = 0; q < queries.size(); ++q) {
    const RowVector expected = 0.7f * standardised(ease->score(queries[q])) + 0.3f * standardised(knn->score(queries[q]));
    EXPECT_TRUE(batch.row(q).isApprox(expected, 1e-5f)) << "query " << q;
  }
}

TEST(Blend, ExplainsWithThePartsContributionsWeighted) {
  const auto rows = random_rows(300, 40, 23);
  auto ease = fitted(make_model("ease", {{"l2", 10}}), rows, 40);
  auto knn = fitted(make_model("itemknn", {{"neighbours", 5}}), rows, 40);
  const BlendModel blend({ease, knn}, {0.6f, 0.4f});
  const std::vector<Index> history{1, 2, 7};
  Matrix ease_scores = ease->score(history), knn_scores = knn->score(history);
  const float ease_deviation = standardise_rows(ease_scores).front();
  const float knn_deviation = standardise_rows(knn_scores).front();
  const auto ease_parts = ease->contributions(history, 4);
  const auto knn_parts = knn->contributions(history, 4);
  const auto parts = blend.contributions(history, 4);
  ASSERT_EQ(parts.size(), history.size());
  for (std::size_t h = 0; h < history.size(); ++h)
    EXPECT_NEAR(parts[h], 0.6f * ease_parts[h] / ease_deviation + 0.4f * knn_parts[h] / knn_deviation, 1e-5f);
}

TEST(Blend, FitsItsPartsFromOptions) {
  const auto rows = random_rows(300, 40, 24);
  auto blend = make_model("blend", {{"models", {"itemknn", "ease"}}, {"weights", {0.25, 0.75}}});
  blend->fit(rows, 40);
  const auto& parts = dynamic_cast<const BlendModel&>(*blend).parts();
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0]->kind(), "itemknn");
  EXPECT_EQ(parts[1]->kind(), "ease");
  EXPECT_EQ(blend->item_count(), 40);
  EXPECT_EQ(blend->params().at("weights"), nlohmann::json({0.25, 0.75}));
}

TEST(Blend, RefusesBadOptionsByName) {
  const auto refused = [](const nlohmann::json& options, const std::string& words) {
    try {
      make_model("blend", options);
      ADD_FAILURE() << "accepted " << options.dump();
    } catch (const aisle::Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  refused({{"models", {"ease"}}, {"weights", {0.5, 0.5}}}, "1 models but 2 weights");
  refused({{"models", {"ease", "itemknn"}}, {"weights", {0, 0}}}, "all 0");
  refused({{"models", {"ease", "itemknn"}}, {"weights", {1, -1}}}, "not below 0");
  refused({{"models", {"ease", "nonesuch"}}, {"weights", {1, 1}}}, "nonesuch");
  refused({{"models", "ease"}}, "a list of strings");
  refused({{"models", {"blend"}}, {"weights", {1}}}, "cannot hold a 'blend' model");
  refused({{"models", {"auto"}}, {"weights", {1}}}, "cannot hold a 'auto' model");
}

TEST(Blend, SavesAndLoadsItsPartsBitForBit) {
  const auto rows = random_rows(300, 40, 25);
  auto ease = fitted(make_model("ease", {{"l2", 10}}), rows, 40);
  auto knn = fitted(make_model("itemknn", {{"neighbours", 5}}), rows, 40);
  auto other_ease = fitted(make_model("ease", {{"l2", 500}}), rows, 40);  // two parts of one kind
  const BlendModel blend({ease, knn, other_ease}, {0.5f, 0.3f, 0.2f});
  aisle::test_support::TempDir dir;
  aisle::io::ModelFile file;
  file.kind = "rec.blend";
  blend.save(file);
  aisle::io::write_model_file(dir / "blend.model", file);
  auto read = aisle::io::read_model_file(dir / "blend.model");
  auto loaded = make_model(read.header.at("model").at("kind").get<std::string>());
  loaded->load(read, dir / "blend.model");
  Matrix before, after;
  blend.score_batch(some_queries(), before);
  loaded->score_batch(some_queries(), after);
  EXPECT_EQ(before, after);
  EXPECT_EQ(loaded->params(), blend.params());
}
