#include <gtest/gtest.h>

#include <mutex>

#include "aisle/core/error.hpp"
#include "aisle/io/model_file.hpp"
#include "aisle/rec/auto_model.hpp"
#include "aisle/rec/blend.hpp"
#include "aisle/rec/model_registry.hpp"
#include "aisle/rec/protocols.hpp"
#include "support/random_histories.hpp"

using aisle::Index;
using aisle::Matrix;
using aisle::RowVector;
using namespace aisle::rec;
using aisle::test_support::random_rows;

namespace {

// A model whose scores are a fixed vector (0 past its end), whatever the
// history; it remembers every set of rows it was fitted on.
class FixedScoresModel final : public Model {
 public:
  FixedScoresModel(std::string kind, std::vector<float> scores) : kind_(std::move(kind)), fixed_(std::move(scores)) {}

  std::string kind() const override { return kind_; }
  nlohmann::json params() const override { return nlohmann::json::object(); }
  void fit(const Histories& rows, Index item_count, const FitContext&) override {
    const std::lock_guard lock(seen_mutex());
    seen().push_back(rows);
    items_ = item_count;
  }
  Index item_count() const override { return items_; }
  void score_batch(const Histories& histories, Matrix& scores) const override {
    scores.resize(histories.size(), items_);
    for (Index r = 0; r < histories.size(); ++r)
      for (Index i = 0; i < items_; ++i)
        scores(r, i) = static_cast<std::size_t>(i) < fixed_.size() ? fixed_[static_cast<std::size_t>(i)] : 0.0f;
  }
  void save(aisle::io::ModelFile& file) const override {
    file.header["model"] = {{"kind", kind_}, {"params", params()}, {"items", items_}};
  }
  void load(aisle::io::ModelFile& file, const std::filesystem::path&) override {
    items_ = file.header.at("model").at("items").get<Index>();
  }

  static std::vector<Histories>& seen() {
    static std::vector<Histories> rows;
    return rows;
  }
  static std::mutex& seen_mutex() {
    static std::mutex mutex;
    return mutex;
  }

 private:
  std::string kind_;
  std::vector<float> fixed_;
  Index items_ = 0;
};

// Two fixed models over items 0..4 that each rank item 0 second: "test.left"
// puts item 1 first, "test.right" item 2. Standardised over the five items,
// item 0 comes first in a blend (1 - a) left + a right exactly when
// 0.25 < a < 0.75.
void register_fixed_models() {
  static std::once_flag once;
  std::call_once(once, [] {
    model_registry().add("test.left", [](const nlohmann::json&) {
      return std::make_unique<FixedScoresModel>("test.left", std::vector<float>{0.75f, 1.0f, 0.0f, 0.0f, 0.0f});
    });
    model_registry().add("test.right", [](const nlohmann::json&) {
      return std::make_unique<FixedScoresModel>("test.right", std::vector<float>{0.75f, 0.0f, 1.0f, 0.0f, 0.0f});
    });
  });
}

// Rows [3, 4, 0]: validation holds out item 0 after the history [3, 4]; the
// two-item rows keep items 0, 1 and 2 in the fitted rows (the candidates).
Histories rows_whose_next_item_is_0() {
  Histories rows;
  for (int i = 0; i < 6; ++i) rows.add(std::vector<Index>{3, 4, 0});
  rows.add(std::vector<Index>{0, 1});
  rows.add(std::vector<Index>{1, 2});
  return rows;
}

bool is_prefix(std::span<const Index> row, std::span<const Index> of) {
  return row.size() <= of.size() && std::equal(row.begin(), row.end(), of.begin());
}

}  // namespace

TEST(AutoModel, FindsTheBlendWeightsOfAHandMadeCase) {
  register_fixed_models();
  AutoModel model(AutoOptions{.candidates = {"test.left", "test.right"}});
  model.fit(rows_whose_next_item_is_0(), 5);
  const auto params = model.params();
  // Alone, each ranks item 0 second: NDCG@10 1 / log2(3).
  ASSERT_EQ(params.at("validation").size(), 2u);
  for (const auto& candidate : params.at("validation"))
    EXPECT_NEAR(candidate.at("validation").get<double>(), 1.0 / std::log2(3.0), 1e-9) << candidate.dump();
  // The first share above 0.25 tried puts item 0 first: 0.3.
  EXPECT_EQ(params.at("choice").at("models"), nlohmann::json({"test.left", "test.right"}));
  const auto weights = params.at("choice").at("weights").get<std::vector<float>>();
  ASSERT_EQ(weights.size(), 2u);
  EXPECT_FLOAT_EQ(weights[0], 0.7f);
  EXPECT_FLOAT_EQ(weights[1], 0.3f);
  EXPECT_DOUBLE_EQ(params.at("choice_validation").get<double>(), 1.0);
  const auto& blend = dynamic_cast<const BlendModel&>(model.chosen());
  EXPECT_EQ(blend.weights(), weights);
  const RowVector scores = model.score(std::vector<Index>{3, 4});
  EXPECT_GT(scores[0], scores[1]);
  EXPECT_GT(scores[0], scores[2]);
}

TEST(AutoModel, WithoutBlendsKeepsTheBestSingleModel) {
  register_fixed_models();
  AutoModel model(AutoOptions{.candidates = {"test.right", "test.left"}, .no_blend = true});
  model.fit(rows_whose_next_item_is_0(), 5);
  // A tie: the earlier (cheaper) candidate is kept.
  EXPECT_EQ(model.params().at("choice").at("models"), nlohmann::json({"test.right"}));
  EXPECT_EQ(model.chosen().kind(), "test.right");
}

TEST(AutoModel, NeverFitsTheEvaluatedRows) {
  register_fixed_models();
  const auto rows = random_rows(200, 30, 31);
  std::vector<std::string> ids;
  for (Index r = 0; r < rows.size(); ++r) ids.push_back(std::string("u").append(std::to_string(r)));
  const auto split = make_split(rows, 30, Protocol::loo, ids);
  FixedScoresModel::seen().clear();
  AutoModel model(AutoOptions{.candidates = {"test.left"}});
  model.fit(split.fitted, 30, FitContext{.validation_protocol = Protocol::loo});
  // The validation fit and the refit, each on rows that are prefixes of the
  // evaluation's fitted rows: no held-out item of the evaluation is seen.
  ASSERT_EQ(FixedScoresModel::seen().size(), 2u);
  for (const auto& seen : FixedScoresModel::seen()) {
    ASSERT_EQ(seen.size(), split.fitted.size());
    for (Index r = 0; r < seen.size(); ++r) EXPECT_TRUE(is_prefix(seen[r], split.fitted[r])) << "row " << r;
  }
  // The validation fit held out the last item of the rows it validates on.
  EXPECT_LT(FixedScoresModel::seen()[0].total(), split.fitted.total());
  EXPECT_EQ(FixedScoresModel::seen()[1].total(), split.fitted.total());
}

TEST(AutoModel, ChoosesAmongRealModelsAndSavesTheChoice) {
  const auto rows = random_rows(400, 40, 32);
  AutoModel model(AutoOptions{.candidates = {"pop", "itemknn", "ease"}});
  std::vector<std::string> progress;
  model.fit(rows, 40, FitContext{.progress = [&](const std::string& line) { progress.push_back(line); }});
  const auto params = model.params();
  EXPECT_EQ(params.at("validation").size(), 3u);
  EXPECT_TRUE(params.contains("choice_validation"));
  EXPECT_FALSE(progress.empty());
  // The choice measured at least as well as every single candidate.
  for (const auto& candidate : params.at("validation"))
    EXPECT_GE(params.at("choice_validation").get<double>() + 1e-12, candidate.at("validation").get<double>());

  aisle::io::ModelFile file;
  model.save(file);
  auto loaded = make_model("auto");
  loaded->load(file, "in-memory");
  Histories queries;
  queries.add(std::vector<Index>{0, 3});
  queries.add(std::vector<Index>{7});
  Matrix before, after;
  model.score_batch(queries, before);
  loaded->score_batch(queries, after);
  EXPECT_EQ(before, after);
  EXPECT_EQ(loaded->params(), params);
}

TEST(AutoModel, ATimeBudgetDropsTheLastCandidates) {
  const auto rows = random_rows(200, 30, 33);
  AutoModel model(AutoOptions{.candidates = {"pop", "itemknn", "ease"}, .time_budget = 1e-9f});
  model.fit(rows, 30);
  const auto validation = model.params().at("validation");
  ASSERT_EQ(validation.size(), 3u);
  EXPECT_TRUE(validation[0].contains("validation"));
  EXPECT_EQ(validation[1].at("dropped"), "time budget");
  EXPECT_EQ(validation[2].at("dropped"), "time budget");
  EXPECT_EQ(model.chosen().kind(), "pop");
}

TEST(AutoModel, RefusesBadOptionsByName) {
  EXPECT_THROW(make_model("auto", {{"candidates", {"ease", "nonesuch"}}}), aisle::Error);
  EXPECT_THROW(make_model("auto", {{"candidates", nlohmann::json::array()}}), aisle::Error);
  EXPECT_THROW(make_model("auto", {{"candidates", {"auto"}}}), aisle::Error);
  EXPECT_THROW(make_model("auto", {{"time_budget", 0}}), aisle::Error);
  EXPECT_THROW(make_model("auto", {{"no_blend", "yes"}}), aisle::Error);
}
