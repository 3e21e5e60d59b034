#include "aisle/nn/functional.hpp"

#include <algorithm>
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
