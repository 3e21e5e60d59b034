// Embedding: forward gathers scaled rows (zeros for padding), the table's
// gradient against finite differences with repeated ids, only the rows used
// are touched, LazyAdam over the touched rows follows dense Adam, bad ids
// refused by name.

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/nn/adam.hpp"
#include "aisle/nn/embedding.hpp"
#include "aisle/nn/lazy_adam.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

using test_support::random_matrix;

const std::vector<Index> kIds{3, -1, 0, 3, 5};  // id 3 twice, one padded slot

TEST(Embedding, ForwardIsEachIdsRowScaledAndZeroForPadding) {
  const Embedding layer(random_matrix(7, 4, 1), 2.0f);
  Matrix out;
  layer.forward(kIds, out);
  ASSERT_EQ(out.rows(), 5);
  ASSERT_EQ(out.cols(), 4);
  EXPECT_EQ(out.row(0), (layer.table().row(3) * 2.0f).eval());
  EXPECT_TRUE(out.row(1).isZero(0));
  EXPECT_EQ(out.row(2), (layer.table().row(0) * 2.0f).eval());
  EXPECT_EQ(out.row(3), out.row(0));
  EXPECT_EQ(out.row(4), (layer.table().row(5) * 2.0f).eval());
}

TEST(Embedding, GradientMatchesFiniteDifferences) {
  Embedding layer(random_matrix(7, 4, 2), 1.5f);
  const Matrix r = random_matrix(5, 4, 3);
  Matrix out;
  const auto objective = [&] {
    layer.forward(kIds, out);
    return test_support::weighted_sum(out, r);
  };
  Matrix grad;
  layer.backward(kIds, r, grad);
  test_support::expect_gradient_matches(grad, test_support::numeric_gradient(layer.table(), objective, 1e-2f), 1e-4,
                                        "dE");
}

TEST(Embedding, BackwardTouchesOnlyTheRowsTheIdsHold) {
  const Embedding layer(random_matrix(7, 4, 4));
  Matrix grad;
  layer.backward(kIds, random_matrix(5, 4, 5), grad);
  const std::vector<Index> touched = Embedding::touched_rows(kIds);
  EXPECT_EQ(touched, (std::vector<Index>{0, 3, 5}));
  for (Index row = 0; row < 7; ++row) {
    const bool used = std::find(touched.begin(), touched.end(), row) != touched.end();
    EXPECT_EQ(grad.row(row).isZero(0), !used) << row;
  }
  // A second batch adds to the first; clearing both leaves zeros.
  const std::vector<Index> more{6, 0};
  layer.backward(more, random_matrix(2, 4, 6), grad);
  EXPECT_FALSE(grad.row(6).isZero(0));
  Embedding::clear_gradient(kIds, grad);
  Embedding::clear_gradient(more, grad);
  EXPECT_TRUE(grad.isZero(0));
}

// The sparse update a step over a large table takes: LazyAdam on the touched
// rows, then caught up, is dense Adam on the full (mostly zero) gradient.
TEST(Embedding, LazyAdamOnTheTouchedRowsFollowsDenseAdam) {
  const AdamOptions options{.learning_rate = 0.05f};
  Embedding lazy_layer(random_matrix(9, 3, 7));
  Matrix dense_table = lazy_layer.table();
  LazyAdam lazy(options);
  Adam dense(options);
  Matrix lazy_grad, dense_grad;
  const std::vector<std::vector<Index>> batches{{1, 4, 4}, {2, -1}, {4, 8, 1}, {0}, {7, 7, 2}};
  for (std::size_t step = 0; step < batches.size(); ++step) {
    const auto& ids = batches[step];
    const Matrix r = random_matrix(static_cast<Index>(ids.size()), 3, 10 + step);
    lazy_layer.backward(ids, r, lazy_grad);
    lazy.begin_step();
    lazy.update_rows(0, lazy_layer.table(), Embedding::touched_rows(ids), lazy_grad, LazyAdam::GradientRows::like_table);
    Embedding::clear_gradient(ids, lazy_grad);
    dense_grad.setZero(9, 3);
    Embedding::accumulate_gradient(1.0f, ids, r, dense_grad);
    Matrix* params[] = {&dense_table};
    const Matrix* grads[] = {&dense_grad};
    dense.step(params, grads);
  }
  lazy.catch_up(0, lazy_layer.table());
  test_support::expect_close(lazy_layer.table(), dense_table, 1e-4, "table");  // the catch-up is closed form: rounding
}

TEST(Embedding, RefusesIdsOutsideTheTableNamingThem) {
  Rng rng(8);
  const Embedding layer({.rows = 4, .dim = 2}, rng);
  Matrix out;
  const std::vector<Index> bad{0, 4};
  try {
    layer.forward(bad, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("id 4 at position 1"), std::string::npos) << e.what();
  }
  const std::vector<Index> negative{-2};
  EXPECT_THROW(layer.forward(negative, out), Error);
  Matrix grad;
  EXPECT_THROW(layer.backward(kIds, random_matrix(2, 2, 9), grad), Error);  // 5 ids, 2 gradient rows
  EXPECT_THROW(Embedding({.rows = 0, .dim = 2}, rng), Error);
}

TEST(Embedding, ForwardFromManyThreadsEqualsSerial) {
  const Embedding layer(random_matrix(50, 16, 11), 4.0f);
  std::vector<Index> ids;
  for (Index i = 0; i < 400; ++i) ids.push_back((i * 7) % 50);
  Matrix serial;
  layer.forward(ids, serial);
  std::vector<Matrix> outs(8);
  std::vector<std::thread> threads;
  for (auto& out : outs) threads.emplace_back([&] { layer.forward(ids, out); });
  for (auto& thread : threads) thread.join();
  for (const auto& out : outs) EXPECT_EQ(out, serial);
}

}  // namespace
}  // namespace aisle
