#include "aisle/nn/functional.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace aisle::functional {

void softmax(ConstMatrixRef logits, Matrix& out) {
  const Index rows = logits.rows(), cols = logits.cols();
  out.resize(rows, cols);
  if (cols == 0) return;
  // Plain loops over the rows: Eigen's per-expression setup outweighs the
  // work on rows as short as 10 classes. The exp runs once over the whole
  // contiguous block, vectorised, instead of mostly in each row's scalar tail.
  for (Index r = 0; r < rows; ++r) {
    const float* in = logits.data() + r * logits.outerStride();
    float* o = out.data() + r * cols;
    const float max = *std::max_element(in, in + cols);
    for (Index c = 0; c < cols; ++c) o[c] = in[c] - max;
  }
  out.array() = out.array().exp();
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
  std::array<float, kBlockFloats> block;
  std::array<float, kBlockFloats> row_max;
  for (Index first = 0; first < rows; first += rows_per_block) {
    const Index count = std::min(rows_per_block, rows - first);
    for (Index i = 0; i < count; ++i) {
      const float* in = logits.data() + (first + i) * logits.outerStride();
      const float max = *std::max_element(in, in + cols);
      row_max[static_cast<std::size_t>(i)] = max;
      for (Index c = 0; c < cols; ++c) block[static_cast<std::size_t>(i * cols + c)] = in[c] - max;
    }
    Eigen::Map<Eigen::ArrayXf> shifted(block.data(), count * cols);
    shifted = shifted.exp();
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
