#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/core/threads.hpp"
#include "aisle/nn/adam.hpp"
#include "aisle/nn/sgd.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

// Reference values computed independently in Python (float64) from the update
// formulas, for params [1, -2, 0.5], lr 0.1, gradients
// [0.1, -0.2, 0], [0.3, 0, -1], [-0.5, 0.25, 2]:
//   Adam (b1 0.9, b2 0.999, eps 1e-7):
//     m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2
//     p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
//   SGD momentum 0.9: vel = 0.9 vel - lr g; p += vel
const float kGradients[3][3] = {{0.1f, -0.2f, 0.0f}, {0.3f, 0.0f, -1.0f}, {-0.5f, 0.25f, 2.0f}};

template <class O>
std::vector<Matrix> run_three_steps(O optimizer) {
  Matrix param(1, 3);
  param << 1.0f, -2.0f, 0.5f;
  std::vector<Matrix> trajectory;
  for (const auto& g : kGradients) {
    Matrix grad(1, 3);
    grad << g[0], g[1], g[2];
    Matrix* params[] = {&param};
    const Matrix* grads[] = {&grad};
    optimizer.step(params, grads);
    trajectory.push_back(param);
  }
  return trajectory;
}

void expect_row(const Matrix& m, float a, float b, float c) {
  EXPECT_NEAR(m(0, 0), a, 2e-6f);
  EXPECT_NEAR(m(0, 1), b, 2e-6f);
  EXPECT_NEAR(m(0, 2), c, 2e-6f);
}

TEST(Adam, MatchesHandComputedUpdatesForThreeSteps) {
  const auto steps = run_three_steps(Adam({.learning_rate = 0.1f}));
  expect_row(steps[0], 0.900000100f, -1.900000050f, 0.5f);
  expect_row(steps[1], 0.808222029f, -1.832994272f, 0.574413672f);
  expect_row(steps[2], 0.824313455f, -1.850559918f, 0.542985057f);
}

TEST(Adam, DecoupledWeightDecayMatchesHandComputation) {
  const auto steps = run_three_steps(Adam({.learning_rate = 0.1f, .weight_decay = 0.01f}));
  expect_row(steps[2], 0.821608132f, -1.844832821f, 0.541412143f);
}

TEST(Adam, BiasCorrectionCountsStepsNotTensors) {
  // Two tensors updated in one step must both see t = 1: the first update is
  // lr * sign(g) for each, whatever the number of tensors.
  Adam adam({.learning_rate = 0.5f});
  Matrix a = Matrix::Zero(1, 1), b = Matrix::Zero(1, 1);
  Matrix ga = Matrix::Constant(1, 1, 3.0f), gb = Matrix::Constant(1, 1, -0.01f);
  Matrix* params[] = {&a, &b};
  const Matrix* grads[] = {&ga, &gb};
  adam.step(params, grads);
  EXPECT_NEAR(a(0, 0), -0.5f, 1e-5f);
  EXPECT_NEAR(b(0, 0), 0.5f, 1e-3f);
  EXPECT_EQ(adam.iterations(), 1);
}

// Adam over a tensor large enough for the vector path and for two threads
// (17,030 elements, not a multiple of 16), lr 1 so that an error in the
// update is not hidden by a small step, against a float64 reference of the
// same formula; gradients from 1e-30 to 10 (v underflows to 0 for the
// smallest) and exact zeros. The same bits on one thread and on two.
Matrix adam_after_steps(const std::vector<Matrix>& gradients, int threads) {
  const int saved = num_threads();
  set_num_threads(threads);
  Adam adam({.learning_rate = 1.0f, .weight_decay = 0.01f});
  Matrix param = test_support::random_matrix(130, 131, 1);
  for (const Matrix& g : gradients) {
    Matrix* params[] = {&param};
    const Matrix* grads[] = {&g};
    adam.step(params, grads);
  }
  set_num_threads(saved);
  return param;
}

TEST(Adam, LargeTensorMatchesDoublePrecisionOnAnyThreadCount) {
  std::vector<Matrix> gradients;
  for (std::uint64_t seed = 2; seed < 6; ++seed) {
    Matrix g = test_support::random_matrix(130, 131, seed);
    for (Index i = 0; i < g.size(); ++i) g.data()[i] *= std::pow(10.0f, static_cast<float>(i % 32) - 30.0f);
    for (Index i = 0; i < g.size(); i += 97) g.data()[i] = 0.0f;
    gradients.push_back(g);
  }
  const Matrix one = adam_after_steps(gradients, 1);
  const Matrix two = adam_after_steps(gradients, 2);
  EXPECT_EQ(std::memcmp(one.data(), two.data(), sizeof(float) * static_cast<std::size_t>(one.size())), 0);

  const double b1 = 0.9, b2 = 0.999, eps = 1e-7, lr = 1.0, decay = 0.01;
  using Doubles = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Doubles p = test_support::random_matrix(130, 131, 1).cast<double>();
  Doubles m = Doubles::Zero(130, 131), v = m;
  for (std::size_t t = 1; t <= gradients.size(); ++t) {
    const Doubles g = gradients[t - 1].cast<double>();
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g.cwiseProduct(g);
    const double c1 = 1 - std::pow(b1, static_cast<double>(t)), c2 = 1 - std::pow(b2, static_cast<double>(t));
    p = p - (lr / c1 * m.array() / ((v.array() / c2).sqrt() + eps)).matrix() - lr * decay * p;
  }
  double worst = 0;
  for (Index i = 0; i < p.size(); ++i)
    worst = std::max(worst, std::abs(double{one.data()[i]} - p.data()[i]) / std::max(1.0, std::abs(p.data()[i])));
  EXPECT_LT(worst, 2e-6);
}

TEST(SGD, MomentumMatchesHandComputation) {
  const auto steps = run_three_steps(SGD({.learning_rate = 0.1f, .momentum = 0.9f}));
  expect_row(steps[0], 0.99f, -1.98f, 0.5f);
  expect_row(steps[1], 0.951f, -1.962f, 0.6f);
  expect_row(steps[2], 0.9659f, -1.9708f, 0.49f);
}

// Nesterov: vel = 0.9 vel - lr g; p += 0.9 vel - lr g (float64 by hand).
TEST(SGD, NesterovMatchesHandComputation) {
  const auto steps = run_three_steps(SGD({.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true}));
  expect_row(steps[0], 0.981f, -1.962f, 0.5f);
  expect_row(steps[1], 0.9159f, -1.9458f, 0.69f);
  expect_row(steps[2], 0.97931f, -1.97872f, 0.391f);
}

// After reset() the next step is a first step again: Adam's bias correction
// restarts (its first update is lr * sign(g)) and SGD's velocity is zero.
TEST(Optimizer, ResetForgetsMomentsVelocityAndStepCount) {
  Matrix p = Matrix::Zero(1, 1);
  const Matrix g = Matrix::Constant(1, 1, 2.0f);
  Matrix* params[] = {&p};
  const Matrix* grads[] = {&g};
  Adam adam({.learning_rate = 0.5f});
  for (int i = 0; i < 3; ++i) adam.step(params, grads);
  adam.reset();
  EXPECT_EQ(adam.iterations(), 0);
  p.setZero();
  adam.step(params, grads);
  EXPECT_NEAR(p(0, 0), -0.5f, 1e-6f);
  EXPECT_EQ(adam.iterations(), 1);

  SGD sgd({.learning_rate = 0.1f, .momentum = 0.9f});
  for (int i = 0; i < 3; ++i) sgd.step(params, grads);
  sgd.reset();
  p.setZero();
  sgd.step(params, grads);
  EXPECT_FLOAT_EQ(p(0, 0), -0.2f);
}

TEST(SGD, PlainStepIsLearningRateTimesGradient) {
  const auto steps = run_three_steps(SGD({.learning_rate = 0.1f}));
  expect_row(steps[0], 0.99f, -1.98f, 0.5f);
}

TEST(Optimizer, RejectsMismatchedShapesAndBadSettings) {
  Adam adam;
  Matrix p = Matrix::Zero(2, 2), g = Matrix::Zero(2, 3);
  Matrix* params[] = {&p};
  const Matrix* grads[] = {&g};
  EXPECT_THROW(adam.step(params, grads), Error);
  EXPECT_THROW(Adam({.learning_rate = -1.0f}), Error);
  EXPECT_THROW(SGD({.learning_rate = 0.1f, .momentum = 1.5f}), Error);
  EXPECT_THROW(Adam({.beta1 = 1.0f}), Error);
  EXPECT_THROW(Adam({.beta2 = -0.1f}), Error);
}

TEST(Optimizer, ConfigRoundTrips) {
  const Adam adam({.learning_rate = 0.01f, .beta1 = 0.8f, .weight_decay = 0.1f});
  const auto copy = Optimizer::from_config(adam.config());
  EXPECT_EQ(copy->config(), adam.config());
  const SGD sgd({.learning_rate = 0.2f, .momentum = 0.5f, .nesterov = true});
  EXPECT_EQ(Optimizer::from_config(sgd.config())->config(), sgd.config());
}

}  // namespace
}  // namespace aisle
