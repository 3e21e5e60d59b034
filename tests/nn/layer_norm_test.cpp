// LayerNorm: each row normalised over its features, scaled and shifted;
// its gradients against central differences.

#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/nn/layer_norm.hpp"
#include "support/backends.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

using test_support::random_matrix;

LayerNorm built_layer_norm(Index width, LayerNormOptions options = {}) {
  LayerNorm norm(options);
  Rng rng(0);
  norm.build(width, rng);
  return norm;
}

TEST(LayerNorm, NormalisesEachRowThenScalesAndShifts) {
  LayerNorm norm = built_layer_norm(4, {.epsilon = 0.25f});
  norm.parameters()[0] << 1, 2, 1, 1;       // gamma
  norm.parameters()[1] << 0, 0, 0, 10;      // beta
  Matrix x(2, 4);
  x << 1, 2, 3, 4,  //
      5, 5, 5, 5;
  LayerState state;
  norm.forward(backend(BackendKind::native), x, state);
  // Row 0: mean 2.5, variance 1.25, + epsilon 0.25 = 1.5.
  const float s = 1.0f / std::sqrt(1.5f);
  Matrix expected(2, 4);
  expected << -1.5f * s, -0.5f * s * 2, 0.5f * s, 1.5f * s + 10,  //
      0, 0, 0, 10;  // a constant row: x - mean is 0, only beta remains
  EXPECT_TRUE(state.output.isApprox(expected, 1e-6f)) << state.output;
}

TEST(LayerNorm, StartsAsAPlainNormalisation) {
  const LayerNorm norm = built_layer_norm(6);
  EXPECT_EQ(norm.parameters()[0], Matrix::Ones(1, 6));
  EXPECT_EQ(norm.parameters()[1], Matrix::Zero(1, 6));
  const Matrix x = random_matrix(5, 6, 3, 4.0f);
  LayerState state;
  norm.forward(backend(BackendKind::native), x, state);
  for (Index r = 0; r < 5; ++r) {
    EXPECT_NEAR(state.output.row(r).mean(), 0.0f, 1e-6f);
    EXPECT_NEAR(state.output.row(r).squaredNorm() / 6.0f, 1.0f, 1e-3f);
  }
}

// dx, dgamma and dbeta of sum(r * y) against central differences, with
// gamma and beta away from their starting values.
TEST(LayerNorm, GradientsMatchFiniteDifferences) {
  LayerNorm norm = built_layer_norm(7, {.epsilon = 1e-3f});
  norm.parameters()[0] = random_matrix(1, 7, 11);
  norm.parameters()[1] = random_matrix(1, 7, 12);
  Matrix x = random_matrix(5, 7, 13);
  const Matrix r = random_matrix(5, 7, 14);
  const Backend& be = backend(BackendKind::native);
  LayerState scratch;
  const auto objective = [&] {
    norm.forward(be, x, scratch);
    return test_support::weighted_sum(scratch.output, r);
  };
  LayerState state;
  norm.forward(be, x, state);
  state.grad_output = r;
  std::vector<Matrix> grads(2);
  norm.backward(be, x, state, grads);
  test_support::expect_gradient_matches(state.grad_input, test_support::numeric_gradient(x, objective, 1e-2f), 2e-3,
                                        "dx");
  test_support::expect_gradient_matches(grads[0], test_support::numeric_gradient(norm.parameters()[0], objective, 1e-2f),
                                        2e-3, "dgamma");
  test_support::expect_gradient_matches(grads[1], test_support::numeric_gradient(norm.parameters()[1], objective, 1e-2f),
                                        2e-3, "dbeta");
}

// Rows enough to split over threads: the same bits from a team as from one
// thread, and from 8 threads each with its own state.
TEST(LayerNorm, ForwardAndBackwardAreTheSameOnAnyThread) {
  LayerNorm norm = built_layer_norm(64);
  norm.parameters()[0] = random_matrix(1, 64, 21);
  const Matrix x = random_matrix(1024, 64, 22), r = random_matrix(1024, 64, 23);
  const Backend& be = backend(BackendKind::native);
  LayerState serial;
  norm.forward(be, x, serial);
  serial.grad_output = r;
  std::vector<Matrix> serial_grads(2);
  norm.backward(be, x, serial, serial_grads);
  std::vector<LayerState> states(8);
  std::vector<std::vector<Matrix>> grads(8, std::vector<Matrix>(2));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < states.size(); ++t)
    threads.emplace_back([&, t] {
      norm.forward(be, x, states[t]);
      states[t].grad_output = r;
      norm.backward(be, x, states[t], grads[t]);
    });
  for (auto& thread : threads) thread.join();
  for (std::size_t t = 0; t < states.size(); ++t) {
    EXPECT_EQ(states[t].output, serial.output) << t;
    EXPECT_EQ(states[t].grad_input, serial.grad_input) << t;
    EXPECT_EQ(grads[t][0], serial_grads[0]) << t;
    EXPECT_EQ(grads[t][1], serial_grads[1]) << t;
  }
}

TEST(LayerNorm, RefusesABadEpsilonAndAWrongWidth) {
  EXPECT_THROW(LayerNorm({.epsilon = 0.0f}), Error);
  const LayerNorm norm = built_layer_norm(4);
  LayerState state;
  EXPECT_THROW(norm.forward(backend(BackendKind::native), Matrix::Zero(2, 5), state), Error);
}

}  // namespace
}  // namespace aisle
