#include "aisle/nn/lazy_adam.hpp"

#include <cmath>
#include <string>

#include "aisle/core/error.hpp"
#include "backend/adam_kernel.hpp"
#include "nn/adam_step.hpp"
#include "core/parallel_for.hpp"

namespace aisle {
namespace {

// Below this many elements a step runs on the calling thread.
constexpr Index kParallelElements = 1 << 15;

}  // namespace

LazyAdam::LazyAdam(AdamOptions options) : options_(options) {
  [[maybe_unused]] const Adam validated(options);  // Adam's checks and messages
  log_b1_ = std::log(static_cast<double>(options_.beta1));
  log_b2_ = std::log(static_cast<double>(options_.beta2));
  log_keep_ = std::log1p(-static_cast<double>(options_.learning_rate) * options_.weight_decay);
}

LazyAdam::Slot& LazyAdam::slot_for(std::size_t slot, const Matrix& table) {
  if (slots_.size() <= slot) slots_.resize(slot + 1);
  Slot& state = slots_[slot];
  if (state.m.rows() != table.rows() || state.m.cols() != table.cols()) {
    state.m = Matrix::Zero(table.rows(), table.cols());
    state.v = Matrix::Zero(table.rows(), table.cols());
    state.last_step.assign(static_cast<std::size_t>(table.rows()), 0);
  }
  return state;
}

// With zero gradients from step s0 + 1 to s0 + k, Adam's moments decay to
// b1^j m and b2^j v after j of them, and step s0 + j moves the row by
//   lr (b1^j m / c1(s0 + j)) / (sqrt(b2^j v / c2(s0 + j)) + eps)
//   ~ lr m / sqrt(v) * r^j sqrt(c2(s0 + j)) / c1(s0 + j),   r = b1 / sqrt(b2)
// (c1(s) = 1 - b1^s, c2(s) = 1 - b2^s; eps moved out of the sum, where it
// matters only for moments near zero). The sum over j is one number for the
// whole row. Its terms shrink like r^j (0.9 with the usual betas): early in
// training the first kTerms of them are summed; after kClosedFormAfter steps
// the corrections hardly change over the steps whose terms count (c2 by
// under 1e-4), and the sum is a geometric series.
void LazyAdam::catch_up_row(Slot& state, Matrix& table, Index row, std::int64_t through) const {
  constexpr std::int64_t kTerms = 400;  // r^400 < 1e-18 for r = 0.9
  constexpr std::int64_t kClosedFormAfter = 5000;
  auto& last = state.last_step[static_cast<std::size_t>(row)];
  const std::int64_t missed = through - last;
  if (missed <= 0) return;
  const auto k = static_cast<double>(missed);
  const auto shrink = static_cast<float>(std::exp(k * log_keep_));
  auto p = table.row(row);
  if (last == 0) {  // never updated: zero moments stay zero, and only weight decay moves the row
    if (options_.weight_decay != 0.0f) p *= shrink;
    last = through;
    return;
  }
  // Weight decay shrinks the row by keep = 1 - lr * weight_decay every step,
  // so the move of step j is shrunk by keep^(missed - j) by the end: the
  // terms carry keep^-j, and the sum is multiplied by shrink.
  const double b1 = options_.beta1, b2 = options_.beta2;
  const double ratio = b1 / std::sqrt(b2) * std::exp(-log_keep_);
  double sum = 0;
  if (last >= kClosedFormAfter && ratio < 1) {
    const double s = static_cast<double>(last + 1);
    const double correction = std::sqrt(-std::expm1(s * log_b2_)) / -std::expm1(s * log_b1_);
    sum = correction * ratio * -std::expm1(k * std::log(ratio)) / (1 - ratio);
  } else {
    double ratio_j = 1;
    double b1_s = std::exp(static_cast<double>(last) * log_b1_), b2_s = std::exp(static_cast<double>(last) * log_b2_);
    for (std::int64_t j = 1; j <= std::min(missed, kTerms); ++j) {
      ratio_j *= ratio;
      b1_s *= b1;
      b2_s *= b2;
      sum += ratio_j * std::sqrt(1 - b2_s) / (1 - b1_s);
    }
  }
  const auto move = static_cast<float>(options_.learning_rate * sum * static_cast<double>(shrink));
  const auto decay1 = static_cast<float>(std::exp(k * log_b1_));
  const auto decay2 = static_cast<float>(std::exp(k * log_b2_));
  auto m = state.m.row(row).array();
  auto v = state.v.row(row).array();
  // Eigen's array expressions: whole vectors of square roots and divisions
  // (a scalar loop made the catch-up a fifth of a sampled-softmax step).
  p.array() = p.array() * shrink - move * m / (v.sqrt() + options_.epsilon);
  m *= decay1;
  v *= decay2;
  last = through;
}

void LazyAdam::update_rows(std::size_t slot, Matrix& table, std::span<const Index> rows, const Matrix& grad,
                           GradientRows layout) {
  if (step_ == 0) throw Error("LazyAdam: update_rows before begin_step");
  const bool compact = layout == GradientRows::compact;
  const Index expected_rows = compact ? static_cast<Index>(rows.size()) : table.rows();
  if (grad.rows() != expected_rows || grad.cols() != table.cols())
    throw Error("LazyAdam: gradient of shape " + shape_string(grad) + " for " + std::to_string(rows.size()) +
                " rows of a table of shape " + shape_string(table));
  for (const auto row : rows)
    if (row < 0 || row >= table.rows())
      throw Error("LazyAdam: row " + std::to_string(row) + " outside a table of " + std::to_string(table.rows()) +
                  " rows");
  Slot& state = slot_for(slot, table);
  const detail::AdamStep step = detail::adam_step(options_, step_);
  const Index cols = table.cols();
  const auto count = static_cast<Index>(rows.size());
  detail::parallel_for(count, {.parallel = count * cols >= kParallelElements}, [&](Index i) {
    const Index row = rows[static_cast<std::size_t>(i)];
    catch_up_row(state, table, row, step_ - 1);
    const float* g = compact ? grad.row(i).data() : grad.row(row).data();
    detail::adam_update(table.row(row).data(), state.m.row(row).data(), state.v.row(row).data(), g, 0, cols, step);
    state.last_step[static_cast<std::size_t>(row)] = step_;
  });
}

void LazyAdam::catch_up(std::size_t slot, Matrix& table) {
  Slot& state = slot_for(slot, table);
  detail::parallel_for(table.rows(), {.parallel = table.size() >= kParallelElements},
                       [&](Index row) { catch_up_row(state, table, row, step_); });
}

}  // namespace aisle
