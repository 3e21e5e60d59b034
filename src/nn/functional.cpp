#include "aisle/nn/functional.hpp"

#include <cmath>

namespace aisle::functional {

void softmax(ConstMatrixRef logits, Matrix& out) {
  out.resize(logits.rows(), logits.cols());
  for (Index r = 0; r < logits.rows(); ++r) {
    const float max = logits.row(r).maxCoeff();
    out.row(r) = (logits.row(r).array() - max).exp();
    out.row(r) /= out.row(r).sum();
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
