// Multi-head causal self-attention: against a direct evaluation of its
// formula, gradients against central differences, the masks (a future
// position or a padded one changes nothing), threads, config, errors.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/nn/self_attention.hpp"
#include "support/backends.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

using test_support::random_matrix;

constexpr Index kDim = 4, kHeads = 2, kLength = 3;

// Two sequences of three positions; the second is padded at its start.
const std::vector<std::uint8_t> kValid{1, 1, 1, 0, 1, 1};
const SequenceBatch kBatch{kLength, kValid};

MultiHeadSelfAttention built_attention(bool causal = true, Index dim = kDim, Index heads = kHeads) {
  MultiHeadSelfAttention attention({.dim = dim, .heads = heads, .causal = causal});
  Rng rng(5);
  attention.build(rng);
  // Biases away from zero, so that their gradients are exercised.
  attention.parameters()[1] = random_matrix(1, 3 * dim, 6, 0.5f);
  attention.parameters()[3] = random_matrix(1, dim, 7, 0.5f);
  return attention;
}

// The formula, one query at a time, in double.
Matrix direct_attention(const MultiHeadSelfAttention& attention, const Matrix& x, const SequenceBatch& batch) {
  const auto params = attention.parameters();
  const Index d = attention.options().dim, heads = attention.options().heads, dh = d / heads, t = batch.length;
  const Eigen::MatrixXd qkv = (x.cast<double>() * params[0].cast<double>()).rowwise() +
                              params[1].cast<double>().row(0);
  Eigen::MatrixXd context = Eigen::MatrixXd::Zero(x.rows(), d);
  for (Index row = 0; row < x.rows(); ++row) {
    const Index first = row - row % t, i = row % t;
    for (Index h = 0; h < heads; ++h) {
      std::vector<double> e(static_cast<std::size_t>(t), 0.0);
      double total = 0;
      for (Index j = 0; j < t; ++j) {
        const bool visible = (!attention.options().causal || j <= i) && batch.valid[static_cast<std::size_t>(row)] &&
                             batch.valid[static_cast<std::size_t>(first + j)];
        if (!visible) continue;
        const double score = qkv.row(row).segment(h * dh, dh).dot(qkv.row(first + j).segment(d + h * dh, dh)) /
                             std::sqrt(static_cast<double>(dh));
        e[static_cast<std::size_t>(j)] = std::exp(score);
        total += e[static_cast<std::size_t>(j)];
      }
      for (Index j = 0; j < t; ++j)
        if (total > 0)
          context.row(row).segment(h * dh, dh) +=
              e[static_cast<std::size_t>(j)] / total * qkv.row(first + j).segment(2 * d + h * dh, dh);
    }
  }
  const Eigen::MatrixXd y = (context * params[2].cast<double>()).rowwise() + params[3].cast<double>().row(0);
  return y.cast<float>();
}

class SelfAttentionTest : public ::testing::TestWithParam<BackendKind> {};

TEST_P(SelfAttentionTest, EqualsTheFormula) {
  for (const bool causal : {true, false}) {
    const MultiHeadSelfAttention attention = built_attention(causal);
    const Matrix x = random_matrix(6, kDim, 8);
    SelfAttentionState state;
    attention.forward(backend(GetParam()), x, kBatch, state);
    EXPECT_TRUE(state.output.isApprox(direct_attention(attention, x, kBatch), 1e-5f)) << "causal " << causal;
  }
}

TEST_P(SelfAttentionTest, GradientsMatchFiniteDifferences) {
  MultiHeadSelfAttention attention = built_attention();
  Matrix x = random_matrix(6, kDim, 9);
  const Matrix r = random_matrix(6, kDim, 10);
  const Backend& be = backend(GetParam());
  SelfAttentionState scratch;
  const auto objective = [&] {
    attention.forward(be, x, kBatch, scratch);
    return test_support::weighted_sum(scratch.output, r);
  };
  SelfAttentionState state;
  attention.forward(be, x, kBatch, state);
  state.grad_output = r;
  std::vector<Matrix> grads(4);
  attention.backward(be, x, kBatch, state, grads);
  test_support::expect_gradient_matches(state.grad_input, test_support::numeric_gradient(x, objective, 1e-2f), 3e-3,
                                        "dx");
  const auto names = attention.parameter_names();
  for (std::size_t p = 0; p < 4; ++p)
    test_support::expect_gradient_matches(
        grads[p], test_support::numeric_gradient(attention.parameters()[p], objective, 1e-2f), 3e-3, names[p].c_str());
}

// Changing a later position, or a padded one, leaves every output that
// must not see it as it was, bit for bit.
TEST_P(SelfAttentionTest, NeitherTheFutureNorPaddingLeaksIn) {
  const MultiHeadSelfAttention attention = built_attention();
  const Backend& be = backend(GetParam());
  const Matrix x = random_matrix(6, kDim, 11);
  SelfAttentionState before, after;
  attention.forward(be, x, kBatch, before);
  Matrix future = x;
  future.row(2).setConstant(9.0f);  // the first sequence's last position
  attention.forward(be, future, kBatch, after);
  EXPECT_EQ(after.output.topRows(2), before.output.topRows(2));
  EXPECT_NE(after.output.row(2), before.output.row(2));
  Matrix padded = x;
  padded.row(3).setConstant(-7.0f);  // the second sequence's padding
  attention.forward(be, padded, kBatch, after);
  EXPECT_EQ(after.output.bottomRows(2), before.output.bottomRows(2));
  EXPECT_EQ(after.output.topRows(3), before.output.topRows(3));
}

INSTANTIATE_TEST_SUITE_P(Backends, SelfAttentionTest, test_support::all_backends());

// Batches large enough to split over threads: 8 threads, each with its own
// state, get the bits of one serial call.
TEST(SelfAttention, ThreadsEachWithTheirOwnStateAgreeWithSerial) {
  const MultiHeadSelfAttention attention = built_attention(true, 16, 4);
  const Index length = 20, rows = 40 * length;
  std::vector<std::uint8_t> valid(static_cast<std::size_t>(rows), 1);
  for (Index r = 0; r < rows; r += length) valid[static_cast<std::size_t>(r)] = 0;  // each sequence padded once
  const SequenceBatch batch{length, valid};
  const Matrix x = random_matrix(rows, 16, 12), r = random_matrix(rows, 16, 13);
  const Backend& be = backend(BackendKind::native);
  SelfAttentionState serial;
  attention.forward(be, x, batch, serial);
  serial.grad_output = r;
  std::vector<Matrix> serial_grads(4);
  attention.backward(be, x, batch, serial, serial_grads);
  std::vector<SelfAttentionState> states(8);
  std::vector<std::vector<Matrix>> grads(8, std::vector<Matrix>(4));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < states.size(); ++t)
    threads.emplace_back([&, t] {
      attention.forward(be, x, batch, states[t]);
      states[t].grad_output = r;
      attention.backward(be, x, batch, states[t], grads[t]);
    });
  for (auto& thread : threads) thread.join();
  for (std::size_t t = 0; t < states.size(); ++t) {
    EXPECT_EQ(states[t].output, serial.output) << t;
    EXPECT_EQ(states[t].grad_input, serial.grad_input) << t;
    for (std::size_t p = 0; p < 4; ++p) EXPECT_EQ(grads[t][p], serial_grads[p]) << t << " " << p;
  }
}

TEST(SelfAttention, ConfigRoundTrips) {
  const MultiHeadSelfAttention attention({.dim = 8, .heads = 2, .causal = false});
  const auto restored = MultiHeadSelfAttention::from_config(attention.config());
  EXPECT_EQ(restored.options().dim, 8);
  EXPECT_EQ(restored.options().heads, 2);
  EXPECT_FALSE(restored.options().causal);
}

TEST(SelfAttention, RefusesBadShapes) {
  EXPECT_THROW(MultiHeadSelfAttention({.dim = 6, .heads = 4}), Error);  // not a multiple
  EXPECT_THROW(MultiHeadSelfAttention({.dim = 0}), Error);
  const MultiHeadSelfAttention unbuilt({.dim = 4, .heads = 2});
  SelfAttentionState state;
  const Backend& be = backend(BackendKind::native);
  EXPECT_THROW(unbuilt.forward(be, Matrix::Zero(6, 4), kBatch, state), Error);
  const MultiHeadSelfAttention attention = built_attention();
  EXPECT_THROW(attention.forward(be, Matrix::Zero(6, 5), kBatch, state), Error);  // width
  EXPECT_THROW(attention.forward(be, Matrix::Zero(5, 4), {kLength, {kValid.data(), 5}}, state), Error);  // part of a sequence
  EXPECT_THROW(attention.forward(be, Matrix::Zero(6, 4), {kLength, {kValid.data(), 5}}, state), Error);  // flags
}

}  // namespace
}  // namespace aisle
