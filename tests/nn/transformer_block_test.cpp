// The pre-norm Transformer block as a whole: gradients of its input and all
// twelve parameters by central differences (with and without dropout), the
// causal and padding masks through the whole block, dropout only in
// training, threads, config.

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/nn/transformer_block.hpp"
#include "support/backends.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

using test_support::random_matrix;

const std::vector<std::uint8_t> kValid{1, 1, 1, 0, 0, 1, 1, 1};
const SequenceBatch kBatch{4, kValid};  // two sequences of 4, the second padded twice

TransformerBlock built_block(float dropout = 0.0f) {
  TransformerBlock block({.dim = 4, .heads = 2, .feed_forward = 6, .dropout = dropout});
  Rng rng(3);
  block.build(rng);
  // Norms and biases away from their starting values.
  std::uint64_t seed = 40;
  for (Matrix* p : block.parameters())
    if (p->rows() == 1) *p = random_matrix(1, p->cols(), seed++, 0.5f).array() + (p->cols() == 4 ? 1.0f : 0.0f);
  return block;
}

void expect_block_gradients(const Backend& be, float dropout) {
  TransformerBlock block = built_block(dropout);
  Matrix x = random_matrix(8, 4, 21);
  const Matrix r = random_matrix(8, 4, 22);
  // Training with a fixed stream: every evaluation draws the same masks.
  const auto run = [&](TransformerBlockState& state) {
    Rng rng(77);
    block.forward(be, x, kBatch, state, dropout > 0 ? &rng : nullptr);
  };
  TransformerBlockState scratch;
  const auto objective = [&] {
    run(scratch);
    return test_support::weighted_sum(scratch.output, r);
  };
  TransformerBlockState state;
  run(state);
  state.grad_output = r;
  std::vector<Matrix> grads(block.parameter_count());
  block.backward(be, x, kBatch, state, grads);
  test_support::expect_gradient_matches(state.grad_input, test_support::numeric_gradient(x, objective, 1e-2f), 5e-3,
                                        "dx");
  test_support::expect_parameter_gradients(block.parameters(), block.parameter_names(), grads, objective, 1e-2f, 5e-3);
}

class TransformerBlockTest : public ::testing::TestWithParam<BackendKind> {};

TEST_P(TransformerBlockTest, GradientsMatchFiniteDifferences) { expect_block_gradients(backend(GetParam()), 0.0f); }

TEST_P(TransformerBlockTest, GradientsMatchFiniteDifferencesThroughDropout) {
  expect_block_gradients(backend(GetParam()), 0.3f);
}

// Through norms, attention and the feed-forward: a later position or a
// padded one changes no output that must not see it.
TEST_P(TransformerBlockTest, NeitherTheFutureNorPaddingLeaksIn) {
  const TransformerBlock block = built_block();
  const Backend& be = backend(GetParam());
  const Matrix x = random_matrix(8, 4, 23);
  TransformerBlockState before, after;
  block.forward(be, x, kBatch, before);
  Matrix changed = x;
  changed.row(3).setConstant(5.0f);  // the first sequence's last position
  changed.row(4).setConstant(-5.0f);  // the second sequence's first padding
  block.forward(be, changed, kBatch, after);
  EXPECT_EQ(after.output.topRows(3), before.output.topRows(3));
  EXPECT_EQ(after.output.bottomRows(3), before.output.bottomRows(3));
}

INSTANTIATE_TEST_SUITE_P(Backends, TransformerBlockTest, test_support::all_backends());

// Dropout acts in training only: inference with a dropout rate is the
// block without one, and training masks differ by stream.
TEST(TransformerBlock, DropsOutInTrainingOnly) {
  const TransformerBlock with = built_block(0.5f), without = built_block(0.0f);
  const Backend& be = backend(BackendKind::native);
  const Matrix x = random_matrix(8, 4, 24);
  TransformerBlockState a, b, c;
  with.forward(be, x, kBatch, a);
  without.forward(be, x, kBatch, b);
  EXPECT_EQ(a.output, b.output);
  Rng rng(1);
  with.forward(be, x, kBatch, c, &rng);
  EXPECT_NE(c.output, a.output);
  const Index zeros = (c.attention_mask.array() == 0.0f).count();
  EXPECT_GT(zeros, 0);
  EXPECT_LT(zeros, c.attention_mask.size());
}

TEST(TransformerBlock, ThreadsEachWithTheirOwnStateAgreeWithSerial) {
  TransformerBlock block({.dim = 16, .heads = 4, .feed_forward = 32});
  Rng init(4);
  block.build(init);
  const Index length = 10, rows = 30 * length;
  std::vector<std::uint8_t> valid(static_cast<std::size_t>(rows), 1);
  const SequenceBatch batch{length, valid};
  const Matrix x = random_matrix(rows, 16, 25), r = random_matrix(rows, 16, 26);
  const Backend& be = backend(BackendKind::native);
  TransformerBlockState serial;
  block.forward(be, x, batch, serial);
  serial.grad_output = r;
  std::vector<Matrix> serial_grads(block.parameter_count());
  block.backward(be, x, batch, serial, serial_grads);
  std::vector<TransformerBlockState> states(8);
  std::vector<std::vector<Matrix>> grads(8, std::vector<Matrix>(block.parameter_count()));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < states.size(); ++t)
    threads.emplace_back([&, t] {
      block.forward(be, x, batch, states[t]);
      states[t].grad_output = r;
      block.backward(be, x, batch, states[t], grads[t]);
    });
  for (auto& thread : threads) thread.join();
  for (std::size_t t = 0; t < states.size(); ++t) {
    EXPECT_EQ(states[t].output, serial.output) << t;
    EXPECT_EQ(states[t].grad_input, serial.grad_input) << t;
    for (std::size_t p = 0; p < grads[t].size(); ++p) EXPECT_EQ(grads[t][p], serial_grads[p]) << t << " " << p;
  }
}

TEST(TransformerBlock, ConfigRoundTripsAndBadOptionsAreRefused) {
  const TransformerBlock block({.dim = 8, .heads = 2, .feed_forward = 0, .dropout = 0.25f, .causal = false});
  const TransformerBlock restored = TransformerBlock::from_config(block.config());
  EXPECT_EQ(restored.config(), block.config());
  EXPECT_EQ(restored.config().at("feed_forward"), 8);
  EXPECT_EQ(block.parameter_names().size(), block.parameter_count());
  EXPECT_THROW(TransformerBlock({.dim = 8, .heads = 3}), Error);
  EXPECT_THROW(TransformerBlock({.dim = 8, .dropout = 1.0f}), Error);
  EXPECT_THROW(TransformerBlock({.dim = 8, .feed_forward = -1}), Error);
}

}  // namespace
}  // namespace aisle
