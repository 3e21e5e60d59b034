#include "aisle/nn/cross_entropy.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <span>

#include "aisle/nn/functional.hpp"

namespace aisle {
namespace {

// Keras clamps probabilities to [epsilon, 1 - epsilon] before the log.
constexpr float kProbabilityFloor = 1e-7f;

float clamped(float p) { return std::clamp(p, kProbabilityFloor, 1.0f - kProbabilityFloor); }

// Calls add(row, log_sum_exp of that row) for every row of logits, the
// log-sum-exps computed a block of rows at a time.
template <class Add>
void for_each_log_sum_exp(ConstMatrixRef logits, const Add& add) {
  constexpr Index kRows = 256;
  std::array<float, kRows> lse;
  for (Index first = 0; first < logits.rows(); first += kRows) {
    const Index count = std::min(kRows, logits.rows() - first);
    const std::span<float> out(lse.data(), static_cast<std::size_t>(count));
    functional::log_sum_exp_rows(logits.middleRows(first, count), out);
    for (Index i = 0; i < count; ++i) add(first + i, lse[static_cast<std::size_t>(i)]);
  }
}

// d/d(logits) of the mean cross-entropy: (softmax(z) * sum(t) - t) / n.
template <class AddTarget>
void softmax_minus_targets(ConstMatrixRef logits, Matrix& grad, const AddTarget& subtract_targets) {
  functional::softmax(logits, grad);
  subtract_targets(grad);
  grad /= static_cast<float>(logits.rows());
}

}  // namespace

nlohmann::json SparseCategoricalCrossentropy::config() const {
  return {{"type", name()}, {"from_logits", options_.from_logits}};
}

float SparseCategoricalCrossentropy::value_impl(ConstMatrixRef predictions, const Targets& targets) const {
  if (options_.from_logits) return value_from_logits_impl(predictions, targets);
  const Labels& labels = targets.labels();
  double total = 0;
  for (Index r = 0; r < predictions.rows(); ++r) total -= std::log(clamped(predictions(r, labels(r))));
  return static_cast<float>(total / static_cast<double>(predictions.rows()));
}

void SparseCategoricalCrossentropy::gradient_impl(ConstMatrixRef predictions, const Targets& targets,
                                                  Matrix& grad) const {
  if (options_.from_logits) return gradient_from_logits_impl(predictions, targets, grad);
  const Labels& labels = targets.labels();
  const auto n = static_cast<float>(predictions.rows());
  grad.setZero(predictions.rows(), predictions.cols());
  for (Index r = 0; r < predictions.rows(); ++r) {
    const float p = predictions(r, labels(r));
    // The clamp has zero slope outside its range, as in Keras.
    if (p > kProbabilityFloor && p < 1.0f - kProbabilityFloor) grad(r, labels(r)) = -1.0f / (p * n);
  }
}

float SparseCategoricalCrossentropy::value_from_logits_impl(ConstMatrixRef logits, const Targets& targets) const {
  const Labels& labels = targets.labels();
  double total = 0;
  for_each_log_sum_exp(logits, [&](Index r, float lse) { total += lse - logits(r, labels(r)); });
  return static_cast<float>(total / static_cast<double>(logits.rows()));
}

void SparseCategoricalCrossentropy::gradient_from_logits_impl(ConstMatrixRef logits, const Targets& targets,
                                                              Matrix& grad) const {
  const Labels& labels = targets.labels();
  softmax_minus_targets(logits, grad, [&](Matrix& g) {
    for (Index r = 0; r < g.rows(); ++r) g(r, labels(r)) -= 1.0f;
  });
}

nlohmann::json CategoricalCrossentropy::config() const {
  return {{"type", name()}, {"from_logits", options_.from_logits}};
}

float CategoricalCrossentropy::value_impl(ConstMatrixRef predictions, const Targets& targets) const {
  if (options_.from_logits) return value_from_logits_impl(predictions, targets);
  const Matrix& t = targets.dense();
  double total = 0;
  for (Index r = 0; r < predictions.rows(); ++r)
    for (Index c = 0; c < predictions.cols(); ++c)
      if (t(r, c) != 0.0f) total -= t(r, c) * std::log(clamped(predictions(r, c)));
  return static_cast<float>(total / static_cast<double>(predictions.rows()));
}

void CategoricalCrossentropy::gradient_impl(ConstMatrixRef predictions, const Targets& targets, Matrix& grad) const {
  if (options_.from_logits) return gradient_from_logits_impl(predictions, targets, grad);
  const Matrix& t = targets.dense();
  const auto n = static_cast<float>(predictions.rows());
  grad.resize(predictions.rows(), predictions.cols());
  for (Index r = 0; r < predictions.rows(); ++r)
    for (Index c = 0; c < predictions.cols(); ++c) {
      const float p = predictions(r, c);
      const bool inside = p > kProbabilityFloor && p < 1.0f - kProbabilityFloor;
      grad(r, c) = inside ? -t(r, c) / (p * n) : 0.0f;
    }
}

float CategoricalCrossentropy::value_from_logits_impl(ConstMatrixRef logits, const Targets& targets) const {
  const Matrix& t = targets.dense();
  double total = 0;
  for_each_log_sum_exp(logits, [&](Index r, float lse) {
    for (Index c = 0; c < logits.cols(); ++c)
      if (t(r, c) != 0.0f) total += t(r, c) * (lse - logits(r, c));
  });
  return static_cast<float>(total / static_cast<double>(logits.rows()));
}

void CategoricalCrossentropy::gradient_from_logits_impl(ConstMatrixRef logits, const Targets& targets,
                                                        Matrix& grad) const {
  const Matrix& t = targets.dense();
  softmax_minus_targets(logits, grad, [&](Matrix& g) {
    const Eigen::VectorXf mass = t.rowwise().sum();
    g.array().colwise() *= mass.array();
    g -= t;
  });
}

}  // namespace aisle
