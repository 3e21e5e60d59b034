#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/nn/cross_entropy.hpp"
#include "aisle/nn/functional.hpp"
#include "aisle/nn/mean_squared_error.hpp"
#include "aisle/nn/metrics.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

Matrix probabilities(Index rows, Index cols, std::uint64_t seed) {
  Matrix p;
  functional::softmax(test_support::random_matrix(rows, cols, seed), p);
  return p;
}

Labels labels_of(std::initializer_list<int> values) {
  Labels y(static_cast<Index>(values.size()));
  Index i = 0;
  for (int v : values) y(i++) = v;
  return y;
}

Matrix one_hot(const Labels& y, Index classes) {
  Matrix t = Matrix::Zero(y.size(), classes);
  for (Index i = 0; i < y.size(); ++i) t(i, y(i)) = 1;
  return t;
}

void expect_loss_gradient(const Loss& loss, Matrix predictions, const Targets& targets, bool from_logits_api) {
  auto objective = [&] {
    return static_cast<double>(from_logits_api ? loss.value_from_logits(predictions, targets)
                                               : loss.value(predictions, targets));
  };
  Matrix analytic;
  if (from_logits_api) {
    loss.gradient_from_logits(predictions, targets, analytic);
  } else {
    loss.gradient(predictions, targets, analytic);
  }
  test_support::expect_gradient_matches(analytic, test_support::numeric_gradient(predictions, objective, 1e-3f), 1e-3,
                                   loss.name().c_str());
}

TEST(SparseCategoricalCrossentropy, ValueMatchesHandComputation) {
  Matrix p(2, 3);
  p << 0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f;
  const SparseCategoricalCrossentropy loss;
  // mean(-log 0.7, -log 0.8)
  EXPECT_NEAR(loss.value(p, labels_of({0, 2})), (-std::log(0.7) - std::log(0.8)) / 2, 1e-6);
}

TEST(SparseCategoricalCrossentropy, FromLogitsMatchesHandComputation) {
  Matrix z(1, 3);
  z << 1, 2, 3;
  const SparseCategoricalCrossentropy loss({.from_logits = true});
  // log(e + e^2 + e^3) - 2
  EXPECT_NEAR(loss.value(z, labels_of({1})), 1.40760596, 1e-5);
}

TEST(SparseCategoricalCrossentropy, GradientsMatchFiniteDifferences) {
  const Labels y = labels_of({0, 3, 1, 2});
  expect_loss_gradient(SparseCategoricalCrossentropy(), probabilities(4, 4, 1), y, false);
  expect_loss_gradient(SparseCategoricalCrossentropy({.from_logits = true}), test_support::random_matrix(4, 4, 2), y,
                       false);
  expect_loss_gradient(SparseCategoricalCrossentropy(), test_support::random_matrix(4, 4, 3), y, true);
}

TEST(CategoricalCrossentropy, GradientsMatchFiniteDifferences) {
  const Matrix t = one_hot(labels_of({2, 0, 1}), 3);
  expect_loss_gradient(CategoricalCrossentropy(), probabilities(3, 3, 4), t, false);
  expect_loss_gradient(CategoricalCrossentropy({.from_logits = true}), test_support::random_matrix(3, 3, 5), t, false);
  expect_loss_gradient(CategoricalCrossentropy(), test_support::random_matrix(3, 3, 6), t, true);
}

TEST(CategoricalCrossentropy, AgreesWithSparseOnOneHotTargets) {
  const Labels y = labels_of({2, 0, 1, 1});
  const Matrix p = probabilities(4, 3, 7);
  EXPECT_NEAR(CategoricalCrossentropy().value(p, one_hot(y, 3)), SparseCategoricalCrossentropy().value(p, y), 1e-6);
}

TEST(CrossEntropy, FusedSoftmaxGradientEqualsChainRule) {
  // d/dz CE(softmax(z)) computed by finite differences through softmax.
  Matrix z = test_support::random_matrix(3, 4, 8);
  const Labels y = labels_of({1, 0, 3});
  const SparseCategoricalCrossentropy loss;
  auto objective = [&] {
    Matrix p;
    functional::softmax(z, p);
    return static_cast<double>(loss.value(p, y));
  };
  Matrix fused;
  loss.gradient_from_logits(z, y, fused);
  test_support::expect_gradient_matches(fused, test_support::numeric_gradient(z, objective, 1e-3f), 1e-3, "fused");
}

TEST(CrossEntropy, FiniteForExtremeLogits) {
  Matrix z(2, 3);
  z << 1e4f, -1e4f, 0, -1e4f, 1e4f, 1e4f;
  const Labels y = labels_of({1, 0});
  Matrix grad;
  const SparseCategoricalCrossentropy sparse;
  EXPECT_TRUE(std::isfinite(sparse.value_from_logits(z, y)));
  EXPECT_NEAR(sparse.value_from_logits(z, y), (2e4 + 2e4 + std::log(2.0)) / 2, 1.0);
  sparse.gradient_from_logits(z, y, grad);
  EXPECT_TRUE(grad.allFinite());
  const CategoricalCrossentropy categorical;
  EXPECT_TRUE(std::isfinite(categorical.value_from_logits(z, one_hot(y, 3))));
  categorical.gradient_from_logits(z, one_hot(y, 3), grad);
  EXPECT_TRUE(grad.allFinite());
}

// Against double precision: many short rows (two blocks), a strided view,
// rows longer than a block, and logits whose exp would overflow.
TEST(LogSumExpRows, MatchesDoublePrecisionForShortLongAndExtremeRows) {
  auto expect_rows_match = [](ConstMatrixRef logits, const char* what) {
    std::vector<float> out(static_cast<std::size_t>(logits.rows()));
    functional::log_sum_exp_rows(logits, out);
    for (Index r = 0; r < logits.rows(); ++r) {
      const double max = logits.row(r).cast<double>().maxCoeff();
      const double expected = max + std::log((logits.row(r).cast<double>().array() - max).exp().sum());
      EXPECT_NEAR(out[static_cast<std::size_t>(r)], expected, 1e-5 * std::max(1.0, std::abs(expected)))
          << what << " row " << r;
    }
  };
  const Matrix wide = test_support::random_matrix(500, 13, 31, 4.0f);
  expect_rows_match(wide.block(0, 0, 500, 10), "500 x 10 view");
  expect_rows_match(test_support::random_matrix(3, 5000, 32), "3 x 5000");
  Matrix extreme(2, 3);
  extreme << 1000.0f, 999.0f, -1000.0f, -1000.0f, -1001.0f, -999.0f;
  expect_rows_match(extreme, "extreme");
}

TEST(MeanSquaredError, ValueAndGradient) {
  Matrix p(2, 2);
  p << 1, 2, 3, 4;
  Matrix t(2, 2);
  t << 1, 0, 0, 4;
  const MeanSquaredError mse;
  EXPECT_NEAR(mse.value(p, t), (0 + 4 + 9 + 0) / 4.0, 1e-6);
  expect_loss_gradient(mse, test_support::random_matrix(3, 2, 9), Matrix(test_support::random_matrix(3, 2, 10)), false);
}

TEST(Loss, RejectsLabelsOutOfRangeAndShapeMismatch) {
  const SparseCategoricalCrossentropy loss;
  EXPECT_THROW(loss.value(probabilities(2, 3, 1), labels_of({0, 3})), Error);
  EXPECT_THROW(loss.value(probabilities(2, 3, 1), labels_of({0})), Error);
  EXPECT_THROW(CategoricalCrossentropy().value(probabilities(2, 3, 1), Matrix(Matrix::Zero(2, 4))), Error);
  EXPECT_THROW(loss.value(probabilities(2, 3, 1), Matrix(Matrix::Zero(2, 3))), Error);
}

TEST(Loss, ConfigRoundTripsEveryLossAndUnknownTypesAreRefused) {
  const SparseCategoricalCrossentropy sparse_logits({.from_logits = true});
  const CategoricalCrossentropy categorical;
  const MeanSquaredError mse;
  for (const Loss* loss : std::initializer_list<const Loss*>{&sparse_logits, &categorical, &mse}) {
    const auto copy = Loss::from_config(loss->config());
    EXPECT_EQ(copy->name(), loss->name());
    EXPECT_EQ(copy->config(), loss->config());
  }
  EXPECT_THROW(Loss::from_config({{"type", "hinge"}}), Error);
  // MSE has no fused form: asking for one is an error, not a silent softmax.
  EXPECT_THROW(mse.value_from_logits(probabilities(2, 3, 1), Matrix(Matrix::Zero(2, 3))), Error);
}

// Rows 0 and 2 pick their label (1 and 0); row 1 picks 2 against label 0; row
// 3 picks 1 against label 2: 2 of 4.
TEST(Accuracy, CountsRowsWhoseArgmaxIsTheTarget) {
  Matrix p(4, 3);
  p << 0.1f, 0.8f, 0.1f,  //
      0.2f, 0.3f, 0.5f,   //
      0.6f, 0.3f, 0.1f,   //
      0.3f, 0.4f, 0.3f;
  const Labels y = labels_of({1, 0, 0, 2});
  EXPECT_EQ(count_correct(p, y), 2);
  EXPECT_FLOAT_EQ(accuracy(p, y), 0.5f);
  EXPECT_FLOAT_EQ(accuracy(p, one_hot(y, 3)), 0.5f);
  EXPECT_FLOAT_EQ(accuracy(Matrix(0, 3), Labels(0)), 0.0f);
  EXPECT_THROW(accuracy(p, labels_of({1, 0})), Error);
  EXPECT_THROW(metric_from_string("precision"), Error);
}

}  // namespace
}  // namespace aisle
