#include "aisle/nn/lazy_adam.hpp"

#include <cmath>
#include <string>

#include "aisle/core/error.hpp"
#include "backend/adam_kernel.hpp"
#include "core/parallel_for.hpp"

namespace aisle {
namespace {

// Below this many elements a step runs on the calling thread.
constexpr Index kParallelElements = 1 << 15;

}  // namespace

LazyAdam::LazyAdam(AdamOptions options) : options_(options) {
  [[maybe_unused]] const Adam validated(options);  // Adam's checks and messages
}

void LazyAdam::update_rows(std::size_t slot, Matrix& table, std::span<const Index> rows, const Matrix& grad,
                           GradientRows layout) {
  if (step_ == 0) throw Error("LazyAdam: update_rows before begin_step");
  const bool compact = layout == GradientRows::compact;
  const Index expected_rows = compact ? static_cast<Index>(rows.size()) : table.rows();
  if (grad.rows() != expected_rows || grad.cols() != table.cols())
    throw Error("LazyAdam: gradient of shape " + shape_string(grad) + " for " + std::to_string(rows.size()) +
                " rows of a table of shape " + shape_string(table));
  if (m_.size() <= slot) {
    m_.resize(slot + 1);
    v_.resize(slot + 1);
  }
  if (m_[slot].rows() != table.rows() || m_[slot].cols() != table.cols()) {
    m_[slot] = Matrix::Zero(table.rows(), table.cols());
    v_[slot] = Matrix::Zero(table.rows(), table.cols());
  }
  const auto t = static_cast<double>(step_);
  const auto correction1 = static_cast<float>(1.0 - std::pow(static_cast<double>(options_.beta1), t));
  const auto correction2 = static_cast<float>(1.0 - std::pow(static_cast<double>(options_.beta2), t));
  const detail::AdamStep step{.beta1 = options_.beta1,
                              .beta2 = options_.beta2,
                              .step_size = options_.learning_rate / correction1,
                              .inv_sqrt_correction2 = 1.0f / std::sqrt(correction2),
                              .epsilon = options_.epsilon,
                              .decay = options_.learning_rate * options_.weight_decay};
  const Index cols = table.cols();
  for (const auto row : rows)
    if (row < 0 || row >= table.rows())
      throw Error("LazyAdam: row " + std::to_string(row) + " outside a table of " + std::to_string(table.rows()) +
                  " rows");
  Matrix& m = m_[slot];
  Matrix& v = v_[slot];
  const auto count = static_cast<Index>(rows.size());
  detail::parallel_for(count, {.parallel = count * cols >= kParallelElements}, [&](Index i) {
    const Index row = rows[static_cast<std::size_t>(i)];
    const float* g = compact ? grad.row(i).data() : grad.row(row).data();
    detail::adam_update(table.row(row).data(), m.row(row).data(), v.row(row).data(), g, 0, cols, step);
  });
}

}  // namespace aisle
