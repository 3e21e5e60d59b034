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
  tabulate_tails();
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
//   ~ lr m / sqrt(v) * r^j f(s0 + j),   r = b1 / sqrt(b2),  f = sqrt(c2) / c1
// (c1(s) = 1 - b1^s, c2(s) = 1 - b2^s; eps moved out of the sum, where it
// matters only for moments near zero). The sum over j is one number for the
// whole row: S(s0, k) = sum_{j=1..k} r^j f(s0 + j) = T(s0) - r^k T(s0 + k),
// with the tails T(s) = sum_{j>=1} r^j f(s + j) tabulated once for the
// early steps, where f still changes (O(1) a row instead of a loop over the
// missed steps). After kClosedFormAfter steps f hardly changes over the
// steps whose terms count (by under 1e-4), and S is a geometric series.
namespace {

constexpr std::int64_t kClosedFormAfter = 5000;

double correction_ratio(double log_b1, double log_b2, double step) {
  return std::sqrt(-std::expm1(step * log_b2)) / -std::expm1(step * log_b1);
}

}  // namespace

void LazyAdam::tabulate_tails() {
  log_ratio_ = log_b1_ - 0.5 * log_b2_ - log_keep_;
  ratio_ = std::exp(log_ratio_);
  tails_.clear();
  if (!(ratio_ < 1)) return;  // no finite tail: missed_move_sum sums the terms
  // T(N) as a geometric series (f is nearly constant by then), then
  // T(s) = r (f(s + 1) + T(s + 1)) downwards: each step shrinks the error.
  tails_.resize(static_cast<std::size_t>(kClosedFormAfter) + 1);
  tails_.back() = geometric_tail(kClosedFormAfter);
  for (std::int64_t s = kClosedFormAfter - 1; s >= 0; --s)
    tails_[static_cast<std::size_t>(s)] =
        ratio_ * (correction_ratio(log_b1_, log_b2_, static_cast<double>(s + 1)) + tails_[static_cast<std::size_t>(s + 1)]);
}

// T(s) with f held at f(s + 1): r f(s + 1) / (1 - r).
double LazyAdam::geometric_tail(std::int64_t s) const {
  return correction_ratio(log_b1_, log_b2_, static_cast<double>(s + 1)) * ratio_ / (1 - ratio_);
}

double LazyAdam::missed_move_sum(std::int64_t last, std::int64_t missed) const {
  const auto k = static_cast<double>(missed);
  if (!tails_.empty()) {
    if (last >= kClosedFormAfter) return geometric_tail(last) * -std::expm1(k * log_ratio_);
    const std::int64_t end = last + missed;
    const double tail_after = end <= kClosedFormAfter ? tails_[static_cast<std::size_t>(end)] : geometric_tail(end);
    return tails_[static_cast<std::size_t>(last)] - std::exp(k * log_ratio_) * tail_after;
  }
  // r >= 1 (weight decay beyond lr * wd = 1 - b1 / sqrt(b2)): the terms
  // themselves, as many as were missed, to at most kMaxTerms.
  constexpr std::int64_t kMaxTerms = 100'000;
  const double b1 = options_.beta1, b2 = options_.beta2;
  double sum = 0, ratio_j = 1;
  double b1_s = std::exp(static_cast<double>(last) * log_b1_), b2_s = std::exp(static_cast<double>(last) * log_b2_);
  for (std::int64_t j = 1; j <= std::min(missed, kMaxTerms); ++j) {
    ratio_j *= ratio_;
    b1_s *= b1;
    b2_s *= b2;
    sum += ratio_j * std::sqrt(1 - b2_s) / (1 - b1_s);
  }
  return sum;
}

void LazyAdam::catch_up_row(Slot& state, Matrix& table, Index row, std::int64_t through) const {
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
  // terms carry keep^-j (in r), and the sum is multiplied by shrink.
  const double sum = missed_move_sum(last, missed);
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

void LazyAdam::check_rows(const Matrix& table, std::span<const Index> rows) const {
  if (step_ == 0) throw Error("LazyAdam: rows updated or caught up before begin_step");
  for (const auto row : rows)
    if (row < 0 || row >= table.rows())
      throw Error("LazyAdam: row " + std::to_string(row) + " outside a table of " + std::to_string(table.rows()) +
                  " rows");
}

// The rows lie anywhere in tables of up to millions of rows: each one's
// weights and moments are fetched while the rows before it are worked on.
void LazyAdam::prefetch_row(const Slot& state, const Matrix& table, Index row) {
  constexpr Index kLine = 64 / sizeof(float);
  const Index cols = table.cols();
  for (Index c = 0; c < cols; c += kLine) {
    __builtin_prefetch(table.row(row).data() + c, 1);
    __builtin_prefetch(state.m.row(row).data() + c, 1);
    __builtin_prefetch(state.v.row(row).data() + c, 1);
  }
}

template <class Visit>
void LazyAdam::for_each_row(const Slot& state, const Matrix& table, std::span<const Index> rows, Visit&& visit) {
  constexpr Index kAhead = 4;
  const auto count = static_cast<Index>(rows.size());
  detail::parallel_for(count, {.parallel = count * table.cols() >= kParallelElements}, [&](Index i) {
    if (i + kAhead < count) prefetch_row(state, table, rows[static_cast<std::size_t>(i + kAhead)]);
    visit(i, rows[static_cast<std::size_t>(i)]);
  });
}

void LazyAdam::catch_up_rows(std::size_t slot, Matrix& table, std::span<const Index> rows) {
  check_rows(table, rows);
  Slot& state = slot_for(slot, table);
  for_each_row(state, table, rows, [&](Index, Index row) { catch_up_row(state, table, row, step_ - 1); });
}

void LazyAdam::update_rows(std::size_t slot, Matrix& table, std::span<const Index> rows, const Matrix& grad,
                           GradientRows layout) {
  check_rows(table, rows);
  const bool compact = layout == GradientRows::compact;
  const Index expected_rows = compact ? static_cast<Index>(rows.size()) : table.rows();
  if (grad.rows() != expected_rows || grad.cols() != table.cols())
    throw Error("LazyAdam: gradient of shape " + shape_string(grad) + " for " + std::to_string(rows.size()) +
                " rows of a table of shape " + shape_string(table));
  Slot& state = slot_for(slot, table);
  const detail::AdamStep step = detail::adam_step(options_, step_);
  const Index cols = table.cols();
  for_each_row(state, table, rows, [&](Index i, Index row) {
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
