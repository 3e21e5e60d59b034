#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/core/random.hpp"
#include "aisle/nn/adam.hpp"
#include "aisle/nn/lazy_adam.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

Matrix random_matrix(Index rows, Index cols, Rng& rng) {
  return test_support::random_matrix(rows, cols, rng.next_u64());
}

// Rows that every step touches follow Adam, bit for bit: the same kernel on
// the same numbers.
TEST(LazyAdam, RowsTouchedEveryStepFollowAdamExactly) {
  Rng rng(3);
  const AdamOptions options{.learning_rate = 0.05f};
  Matrix lazy_table = random_matrix(6, 5, rng);
  Matrix dense_table = lazy_table;
  LazyAdam lazy(options);
  Adam dense(options);
  const std::vector<Index> all{0, 1, 2, 3, 4, 5};
  for (int step = 0; step < 4; ++step) {
    const Matrix grad = random_matrix(6, 5, rng);
    lazy.begin_step();
    lazy.update_rows(0, lazy_table, all, grad, LazyAdam::GradientRows::like_table);
    Matrix* params[] = {&dense_table};
    const Matrix* grads[] = {&grad};
    dense.step(params, grads);
    ASSERT_EQ(lazy_table, dense_table) << "step " << step;
  }
}

// A row skipped at a step catches up on it, as Adam with a zero gradient
// there would have moved it; a row never touched stays put.
TEST(LazyAdam, CatchesUpOnTheStepsARowMissed) {
  const float lr = 0.1f, b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
  Matrix table(3, 1);
  table << 1.0f, 2.0f, 3.0f;
  LazyAdam lazy(AdamOptions{.learning_rate = lr, .beta1 = b1, .beta2 = b2, .epsilon = eps});
  const std::vector<Index> first_row{0};
  const std::vector<Index> last_row{2};
  Matrix g(1, 1);
  g << 0.5f;
  lazy.begin_step();  // t = 1: row 0
  lazy.update_rows(0, table, first_row, g, LazyAdam::GradientRows::compact);
  lazy.begin_step();  // t = 2: row 2 only
  lazy.update_rows(0, table, last_row, g, LazyAdam::GradientRows::compact);
  g << -0.25f;
  lazy.begin_step();  // t = 3: row 0 again
  lazy.update_rows(0, table, first_row, g, LazyAdam::GradientRows::compact);

  // Adam by hand, in double.
  struct Row {
    double p, m = 0, v = 0;
  };
  const auto apply = [&](Row& row, double grad, int t) {
    row.m = b1 * row.m + (1 - b1) * grad;
    row.v = b2 * row.v + (1 - b2) * grad * grad;
    row.p -= lr * (row.m / (1 - std::pow(b1, t))) / (std::sqrt(row.v / (1 - std::pow(b2, t))) + eps);
  };
  Row first{1.0}, last{3.0};
  apply(first, 0.5, 1);
  apply(first, 0.0, 2);  // missed, caught up at step 3
  apply(first, -0.25, 3);
  EXPECT_NEAR(table(0, 0), first.p, 1e-5);
  EXPECT_EQ(table(1, 0), 2.0f);  // never touched
  apply(last, 0.5, 2);
  EXPECT_NEAR(table(2, 0), last.p, 1e-5);
  // Step 3 is still to come for row 2 until catch_up.
  lazy.catch_up(0, table);
  apply(last, 0.0, 3);
  EXPECT_NEAR(table(2, 0), last.p, 1e-5);
  EXPECT_NEAR(table(0, 0), first.p, 1e-5);
  EXPECT_EQ(table(1, 0), 2.0f);
}

// Over many steps of sparse gradients (each row touched at random, some
// rows for long stretches not at all), the table follows dense Adam on the
// same gradients with zeros elsewhere: early steps, whose catch-up sums the
// missed steps one by one, and late ones, where it is a geometric series.
void expect_lazy_follows_dense(int steps, float tolerance, float weight_decay = 0.01f) {
  Rng rng(17);
  const AdamOptions options{.learning_rate = 0.01f, .weight_decay = weight_decay};
  const Index rows = 12, cols = 6;
  Matrix lazy_table = random_matrix(rows, cols, rng);
  Matrix dense_table = lazy_table;
  const Matrix start = lazy_table;
  LazyAdam lazy(options);
  Adam dense(options);
  for (int step = 0; step < steps; ++step) {
    std::vector<Index> touched;
    Matrix grad = Matrix::Zero(rows, cols);
    for (Index r = 0; r < rows; ++r)
      if (rng.uniform() < 0.02f + 0.05f * static_cast<float>(r % 3)) {
        touched.push_back(r);
        for (Index c = 0; c < cols; ++c) grad(r, c) = rng.uniform(-1.0f, 1.0f);
      }
    lazy.begin_step();
    lazy.update_rows(0, lazy_table, touched, grad, LazyAdam::GradientRows::like_table);
    Matrix* params[] = {&dense_table};
    const Matrix* grads[] = {&grad};
    dense.step(params, grads);
  }
  lazy.catch_up(0, lazy_table);
  EXPECT_LT((lazy_table - dense_table).cwiseAbs().maxCoeff(), tolerance) << steps << " steps";
  EXPECT_GT((dense_table - start).cwiseAbs().maxCoeff(), 0.05f);  // it did train
}

TEST(LazyAdam, FollowsDenseAdamOnSparseGradients) {
  expect_lazy_follows_dense(300, 2e-5f);
  expect_lazy_follows_dense(8000, 5e-5f);
}

// Weight decay so strong (lr * wd = 0.15) that a missed step's move grows
// with its distance (b1 / sqrt(b2) / keep > 1): no geometric tail, the
// catch-up sums the terms one by one.
TEST(LazyAdam, FollowsDenseAdamUnderStrongWeightDecay) { expect_lazy_follows_dense(300, 2e-5f, 15.0f); }

TEST(LazyAdam, RefusesMisuse) {
  Matrix table = Matrix::Zero(4, 2);
  LazyAdam lazy;
  const std::vector<Index> rows{1};
  const Matrix grad = Matrix::Ones(1, 2);
  EXPECT_THROW(lazy.update_rows(0, table, rows, grad, LazyAdam::GradientRows::compact), Error);  // no step begun
  lazy.begin_step();
  EXPECT_THROW(lazy.update_rows(0, table, rows, grad, LazyAdam::GradientRows::like_table), Error);  // shape
  const std::vector<Index> outside{4};
  EXPECT_THROW(lazy.update_rows(0, table, outside, grad, LazyAdam::GradientRows::compact), Error);
  EXPECT_THROW(LazyAdam(AdamOptions{.learning_rate = 0.0f}), Error);
  EXPECT_EQ(table, Matrix::Zero(4, 2));
}

}  // namespace
}  // namespace aisle
