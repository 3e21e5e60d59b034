#include <gtest/gtest.h>
#include <omp.h>

#include <Eigen/Dense>
#include <functional>
#include <thread>

#include "aisle/core/error.hpp"
#include "aisle/core/random.hpp"
#include "aisle/core/threads.hpp"
#include "aisle/rec/ease.hpp"
#include "aisle/rec/evaluation.hpp"
#include "aisle/rec/item_knn.hpp"
#include "aisle/rec/model.hpp"
#include "aisle/rec/model_registry.hpp"
#include "aisle/rec/popularity.hpp"
#include "aisle/rec/protocols.hpp"
#include "support/interactions_csv.hpp"
#include "support/random_histories.hpp"
#include "support/test_files.hpp"

using aisle::Index;
using aisle::Matrix;
using namespace aisle::rec;

using aisle::test_support::random_rows;

TEST(RecModels, PopularityCountsRows) {
  Histories rows;
  rows.add(std::vector<Index>{0, 1});
  rows.add(std::vector<Index>{1, 2});
  rows.add(std::vector<Index>{1});
  PopularityModel pop;
  pop.fit(rows, 4);
  const auto s = pop.score(std::vector<Index>{3});
  EXPECT_EQ(s, (aisle::RowVector(4) << 1, 3, 1, 0).finished());
}

TEST(RecModels, ItemKnnIsTopKCosine) {
  // Items 0 and 1 always together, 2 with 0 once.
  Histories rows;
  rows.add(std::vector<Index>{0, 1});
  rows.add(std::vector<Index>{0, 1, 2});
  rows.add(std::vector<Index>{3});
  ItemKnnModel knn(ItemKnnOptions{.neighbours = 1});
  knn.fit(rows, 4);
  // sim(0,1) = 2 / sqrt(2*2) = 1; sim(0,2) = 1/sqrt(2); item 2 keeps only its best neighbour.
  EXPECT_FLOAT_EQ(knn.weights().coeff(1, 0), 1.0f);
  EXPECT_FLOAT_EQ(knn.weights().coeff(0, 2), 1.0f / std::sqrt(2.0f));
  EXPECT_FLOAT_EQ(knn.weights().coeff(1, 2), 0.0f);  // tie with item 0 broken by the lower index
  EXPECT_EQ(knn.weights().row(3).nonZeros(), 0);
  const auto s = knn.score(std::vector<Index>{0});
  EXPECT_FLOAT_EQ(s[1], 1.0f);
  EXPECT_FLOAT_EQ(s[2], 1.0f / std::sqrt(2.0f));
}

TEST(RecModels, EaseMatchesDoublePrecisionClosedForm) {
  const Index n = 300;  // > 2 leaves of the recursive inverse
  const auto rows = random_rows(400, n, 3);
  EaseModel ease(EaseOptions{.l2 = 20.0f});
  ease.fit(rows, n);
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(n, n);
  for (Index r = 0; r < rows.size(); ++r)
    for (const Index i : rows[r])
      for (const Index j : rows[r]) g(i, j) += 1;
  g.diagonal().array() += 20.0;
  const Eigen::MatrixXd p = g.inverse();
  double worst = 0;
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j) {
      const double expected = i == j ? 0.0 : -p(i, j) / p(j, j);
      worst = std::max(worst, std::abs(expected - ease.weights()(i, j)));
    }
  EXPECT_LT(worst, 1e-5);
}

TEST(RecModels, EaseTunesL2OnValidationAndReportsIt) {
  const auto rows = random_rows(300, 40, 5);
  EaseModel ease(EaseOptions{.l2 = std::nullopt, .l2_grid = {1, 10, 100, 1000}});
  std::vector<std::string> progress;
  FitContext context;
  context.progress = [&](const std::string& line) { progress.push_back(line); };
  ease.fit(rows, 40, context);
  const auto params = ease.params();
  EXPECT_EQ(params.at("l2").get<float>(), ease.l2());
  ASSERT_TRUE(params.contains("l2_validation"));
  EXPECT_GE(params.at("l2_validation").size(), 2u);
  bool best_measured = false;
  for (const auto& [l2, value] : ease.tuning()) best_measured |= l2 == ease.l2();
  EXPECT_TRUE(best_measured);
  EXPECT_FALSE(progress.empty());

  // What tuning measured survives a save and load.
  aisle::io::ModelFile file;
  ease.save(file);
  EaseModel loaded;
  loaded.load(file, "tuned.aisle");
  EXPECT_EQ(loaded.params(), params);
  EXPECT_EQ(loaded.tuning(), ease.tuning());
  EXPECT_EQ(loaded.l2(), ease.l2());
}

TEST(RecModels, BatchScoresEqualSingleScores) {
  const auto rows = random_rows(200, 30, 9);
  for (const auto& kind : {"pop", "itemknn", "ease"}) {
    auto model = make_model(kind, kind == std::string("ease") ? nlohmann::json{{"l2", 10}} : nlohmann::json::object());
    model->fit(rows, 30);
    Matrix batch;
    model->score_batch(rows, batch);
    for (Index r = 0; r < rows.size(); ++r) EXPECT_EQ(batch.row(r), model->score(rows[r])) << kind << " row " << r;
  }
}

TEST(RecModels, LinearContributionsSumToScore) {
  const auto rows = random_rows(200, 30, 11);
  for (const auto& kind : {"itemknn", "ease"}) {
    auto model = make_model(kind, kind == std::string("ease") ? nlohmann::json{{"l2", 10}} : nlohmann::json::object());
    model->fit(rows, 30);
    const std::vector<Index> history{0, 3, 5};
    const auto score = model->score(history);
    for (Index item = 0; item < 30; ++item) {
      const auto parts = model->contributions(history, item);
      float sum = 0;
      for (const float p : parts) sum += p;
      EXPECT_NEAR(sum, score[item], 1e-5) << kind << " item " << item;
    }
  }
}

TEST(RecModels, FactoryRefusesUnknownKindsAndOptions) {
  EXPECT_THROW(make_model("svd"), aisle::Error);
  EXPECT_THROW(make_model("ease", {{"neighbours", 3}}), aisle::Error);
  EXPECT_THROW(make_model("ease", {{"l2", -1}}), aisle::Error);
  EXPECT_THROW(make_model("itemknn", {{"neighbours", "many"}}), aisle::Error);
  EXPECT_THROW(make_model("itemknn", {{"neighbours", 0}}), aisle::Error);
  PopularityModel unfitted;
  EXPECT_THROW(unfitted.score(std::vector<Index>{0}), aisle::Error);
}

// Each call runs on a fresh std::thread, whose OpenMP team size starts from
// OpenMP's default: a model's parallel loops must use aisle's thread count
// instead (set_num_threads, AISLE_NUM_THREADS), which they apply to the
// calling thread before they start.
TEST(RecModels, ParallelLoopsUseAislesThreadCount) {
  if (omp_get_num_procs() < 2) GTEST_SKIP() << "one processor: every count is 1";
  const int before = aisle::num_threads();
  aisle::set_num_threads(1);
  const Histories rows = random_rows(300, 40, 11);
  const auto team_size_after = [](const std::function<void()>& call) {
    int after = 0;
    std::thread worker([&] {
      omp_set_num_threads(2);  // what a fresh thread may start from
      call();
      after = omp_get_max_threads();
    });
    worker.join();
    return after;
  };
  EaseModel ease(EaseOptions{.l2 = 10.0f});
  ItemKnnModel knn;
  EXPECT_EQ(team_size_after([&] { ease.fit(rows, 40); }), 1) << "EASE fit";
  EXPECT_EQ(team_size_after([&] { knn.fit(rows, 40); }), 1) << "item-kNN fit";
  Matrix scores;
  EXPECT_EQ(team_size_after([&] { ease.score_batch(rows, scores); }), 1) << "EASE scores";
  EXPECT_EQ(team_size_after([&] { knn.score_batch(rows, scores); }), 1) << "item-kNN scores";
  const EvalSplit split = make_validation_split(rows, 40, Protocol::loo);
  EXPECT_EQ(team_size_after([&] { evaluate(ease, split); }), 1) << "evaluate";
  aisle::set_num_threads(before);
}
