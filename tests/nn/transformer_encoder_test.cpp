// TransformerEncoder, the container of positions, blocks and a final norm:
// the gradients of its input and all parameters by central differences
// (with and without dropout) on every backend, no leak from the future or
// padding through the stack, the same seed building the same encoder,
// parameters moved through names and config giving the same bits, threads.

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/nn/transformer_encoder.hpp"
#include "support/backends.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

using test_support::random_matrix;

const std::vector<std::uint8_t> kValid{1, 1, 1, 0, 0, 1, 1, 1};
const SequenceBatch kBatch{4, kValid};  // two sequences of 4, the second padded twice

TransformerEncoder built_encoder(float dropout = 0.0f) {
  TransformerEncoder encoder(
      {.max_length = 5, .dim = 4, .blocks = 2, .heads = 2, .feed_forward = 6, .dropout = dropout});
  Rng rng(3);
  encoder.build(rng);
  // Norms and biases away from their starting values.
  std::uint64_t seed = 40;
  for (Matrix* p : encoder.parameters())
    if (p->rows() == 1) *p = random_matrix(1, p->cols(), seed++, 0.5f).array() + (p->cols() == 4 ? 1.0f : 0.0f);
  return encoder;
}

void expect_encoder_gradients(const Backend& be, float dropout) {
  TransformerEncoder encoder = built_encoder(dropout);
  Matrix x = random_matrix(8, 4, 21);
  const Matrix r = random_matrix(8, 4, 22);
  const auto run = [&](TransformerEncoderState& state) {
    Rng rng(77);  // every evaluation draws the same masks
    encoder.forward(be, x, kBatch, state, dropout > 0 ? &rng : nullptr);
  };
  TransformerEncoderState scratch;
  const auto objective = [&] {
    run(scratch);
    return test_support::weighted_sum(scratch.output(), r);
  };
  TransformerEncoderState state;
  run(state);
  state.grad_output = r;
  std::vector<Matrix> grads(encoder.parameter_count());
  encoder.backward(be, kBatch, state, grads);
  test_support::expect_gradient_matches(state.grad_input, test_support::numeric_gradient(x, objective, 1e-2f), 5e-3,
                                        "dx");
  test_support::expect_parameter_gradients(encoder.parameters(), encoder.parameter_names(), grads, objective, 1e-2f, 5e-3);
}

class TransformerEncoderTest : public ::testing::TestWithParam<BackendKind> {};

TEST_P(TransformerEncoderTest, GradientsMatchFiniteDifferences) { expect_encoder_gradients(backend(GetParam()), 0.0f); }

TEST_P(TransformerEncoderTest, GradientsMatchFiniteDifferencesThroughDropout) {
  expect_encoder_gradients(backend(GetParam()), 0.3f);
}

// Through both blocks and the final norm: changing a later position or a
// padded one changes no output that must not see it.
TEST_P(TransformerEncoderTest, NeitherTheFutureNorPaddingLeaksIn) {
  const TransformerEncoder encoder = built_encoder();
  const Backend& be = backend(GetParam());
  const Matrix x = random_matrix(8, 4, 23);
  TransformerEncoderState before, after;
  encoder.forward(be, x, kBatch, before);
  Matrix changed = x;
  changed.row(3).setConstant(5.0f);   // the first sequence's last position
  changed.row(4).setConstant(-5.0f);  // the second sequence's first padding
  encoder.forward(be, changed, kBatch, after);
  EXPECT_EQ(after.output().topRows(3), before.output().topRows(3));
  EXPECT_EQ(after.output().bottomRows(3), before.output().bottomRows(3));
  EXPECT_NE(after.output().row(3), before.output().row(3));
}

INSTANTIATE_TEST_SUITE_P(Backends, TransformerEncoderTest, test_support::all_backends());

// What a model file does with an encoder: its config and its parameters by
// name into a fresh one give the same outputs, bit for bit; and the same
// seed builds the same encoder.
TEST(TransformerEncoder, ConfigAndNamedParametersRebuildItBitForBit) {
  const TransformerEncoder encoder = built_encoder(0.25f);
  TransformerEncoder restored = TransformerEncoder::from_config(encoder.config());
  EXPECT_EQ(restored.config(), encoder.config());
  Rng other(99);
  restored.build(other);
  const auto from = encoder.parameters();
  const auto to = restored.parameters();
  ASSERT_EQ(from.size(), to.size());
  for (std::size_t p = 0; p < from.size(); ++p) *to[p] = *from[p];
  EXPECT_EQ(restored.parameter_names(), encoder.parameter_names());
  EXPECT_EQ(encoder.parameter_names().front(), "positions");
  EXPECT_EQ(encoder.parameter_names()[1], "block0.norm1.gamma");
  EXPECT_EQ(encoder.parameter_names().back(), "final_norm.beta");
  const Backend& be = backend(BackendKind::native);
  const Matrix x = random_matrix(8, 4, 24);
  TransformerEncoderState a, b;
  encoder.forward(be, x, kBatch, a);
  restored.forward(be, x, kBatch, b);
  EXPECT_EQ(a.output(), b.output());

  TransformerEncoder first({.max_length = 5, .dim = 4, .heads = 2}), second({.max_length = 5, .dim = 4, .heads = 2});
  Rng rng1(7), rng2(7);
  first.build(rng1);
  second.build(rng2);
  for (std::size_t p = 0; p < first.parameter_count(); ++p)
    EXPECT_EQ(*first.parameters()[p], *second.parameters()[p]) << p;
}

TEST(TransformerEncoder, DropsOutInTrainingOnly) {
  const TransformerEncoder with = built_encoder(0.5f), without = built_encoder(0.0f);
  const Backend& be = backend(BackendKind::native);
  const Matrix x = random_matrix(8, 4, 25);
  TransformerEncoderState a, b, c;
  with.forward(be, x, kBatch, a);
  without.forward(be, x, kBatch, b);
  EXPECT_EQ(a.output(), b.output());
  Rng rng(1);
  with.forward(be, x, kBatch, c, &rng);
  EXPECT_NE(c.output(), a.output());
  EXPECT_EQ(c.input_mask.rows(), 8);
}

TEST(TransformerEncoder, ThreadsEachWithTheirOwnStateAgreeWithSerial) {
  TransformerEncoder encoder({.max_length = 12, .dim = 16, .blocks = 2, .heads = 4});
  Rng init(4);
  encoder.build(init);
  const Index length = 10, rows = 30 * length;
  std::vector<std::uint8_t> valid(static_cast<std::size_t>(rows), 1);
  const SequenceBatch batch{length, valid};
  const Matrix x = random_matrix(rows, 16, 26), r = random_matrix(rows, 16, 27);
  const Backend& be = backend(BackendKind::native);
  TransformerEncoderState serial;
  encoder.forward(be, x, batch, serial);
  serial.grad_output = r;
  std::vector<Matrix> serial_grads(encoder.parameter_count());
  encoder.backward(be, batch, serial, serial_grads);
  std::vector<TransformerEncoderState> states(8);
  std::vector<std::vector<Matrix>> grads(8, std::vector<Matrix>(encoder.parameter_count()));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < states.size(); ++t)
    threads.emplace_back([&, t] {
      encoder.forward(be, x, batch, states[t]);
      states[t].grad_output = r;
      encoder.backward(be, batch, states[t], grads[t]);
    });
  for (auto& thread : threads) thread.join();
  for (std::size_t t = 0; t < states.size(); ++t) {
    EXPECT_EQ(states[t].output(), serial.output()) << t;
    EXPECT_EQ(states[t].grad_input, serial.grad_input) << t;
    for (std::size_t p = 0; p < grads[t].size(); ++p) EXPECT_EQ(grads[t][p], serial_grads[p]) << t << " " << p;
  }
}

TEST(TransformerEncoder, RefusesBadOptionsAndMismatchedGradients) {
  EXPECT_THROW(TransformerEncoder({.max_length = 0, .dim = 4}), Error);
  EXPECT_THROW(TransformerEncoder({.max_length = 4, .dim = 4, .blocks = 0}), Error);
  EXPECT_THROW(TransformerEncoder({.max_length = 4, .dim = 4, .heads = 3}), Error);
  const TransformerEncoder encoder = built_encoder();
  const Backend& be = backend(BackendKind::native);
  TransformerEncoderState state;
  encoder.forward(be, random_matrix(8, 4, 28), kBatch, state);
  std::vector<Matrix> too_few(3);
  state.grad_output = random_matrix(8, 4, 29);
  EXPECT_THROW(encoder.backward(be, kBatch, state, too_few), Error);
  std::vector<Matrix> grads(encoder.parameter_count());
  state.grad_output = random_matrix(7, 4, 30);
  EXPECT_THROW(encoder.backward(be, kBatch, state, grads), Error);
}

}  // namespace
}  // namespace aisle
