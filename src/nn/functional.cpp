#include "aisle/nn/functional.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace aisle::functional {

namespace {

// out[i * cols + c] = exp(logits(first + i, c) - max of that row) for count
// rows, each row's max into row_max when it is given. Plain loops over the
// rows: Eigen's per-expression setup outweighs the work on rows as short as
// 10 classes. The exp runs once over the whole contiguous block, vectorised,
// instead of mostly in each row's scalar tail. out is 64-byte aligned.
void exp_minus_row_max(ConstMatrixRef logits, Index first, Index count, float* out, float* row_max) {
  const Index cols = logits.cols();
  for (Index i = 0; i < count; ++i) {
    const float* in = logits.data() + (first + i) * logits.outerStride();
    float* o = out + i * cols;
    const float max = *std::max_element(in, in + cols);
    if (row_max != nullptr) row_max[i] = max;
    for (Index c = 0; c < cols; ++c) o[c] = in[c] - max;
  }
  Eigen::Map<Eigen::ArrayXf, Eigen::Aligned64> block(out, count * cols);
  block = block.exp();
}

}  // namespace

void softmax(ConstMatrixRef logits, Matrix& out) {
  const Index rows = logits.rows(), cols = logits.cols();
  out.resize(rows, cols);
  if (cols == 0) return;
  exp_minus_row_max(logits, 0, rows, out.data(), nullptr);
  for (Index r = 0; r < rows; ++r) {
    float* o = out.data() + r * cols;
    float sum = 0.0f;
    for (Index c = 0; c < cols; ++c) sum += o[c];
    for (Index c = 0; c < cols; ++c) o[c] /= sum;
  }
}

float log_sum_exp(const Eigen::Ref<const RowVector>& row) {
  const float max = row.maxCoeff();
  return max + std::log((row.array() - max).exp().sum());
}

void log_sum_exp_rows(ConstMatrixRef logits, std::span<float> out) {
  constexpr Index kBlockFloats = 2048;  // 8 KB on the stack
  const Index rows = logits.rows(), cols = logits.cols();
  if (cols > kBlockFloats || cols == 0) {
    for (Index r = 0; r < rows; ++r) out[static_cast<std::size_t>(r)] = log_sum_exp(logits.row(r));
    return;
  }
  const Index rows_per_block = kBlockFloats / cols;
  alignas(64) std::array<float, kBlockFloats> block;
  std::array<float, kBlockFloats> row_max;
  for (Index first = 0; first < rows; first += rows_per_block) {
    const Index count = std::min(rows_per_block, rows - first);
    exp_minus_row_max(logits, first, count, block.data(), row_max.data());
    for (Index i = 0; i < count; ++i) {
      const float* e = block.data() + i * cols;
      float sum = 0.0f;
      for (Index c = 0; c < cols; ++c) sum += e[c];
      out[static_cast<std::size_t>(first + i)] = row_max[static_cast<std::size_t>(i)] + std::log(sum);
    }
  }
}

Labels argmax_rows(ConstMatrixRef m) {
  Labels result(m.rows());
  for (Index r = 0; r < m.rows(); ++r) {
    Index best = 0;
    m.row(r).maxCoeff(&best);
    result(r) = static_cast<std::int32_t>(best);
  }
  return result;
}

}  // namespace aisle::functional
