#include "aisle/nn/sampled_softmax.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "aisle/core/error.hpp"
#include "core/parallel_for.hpp"

namespace aisle {

CandidateSampler::CandidateSampler(std::span<const double> weights) {
  cumulative_.reserve(weights.size());
  double total = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (!(weights[i] >= 0) || !std::isfinite(weights[i]))
      throw Error("CandidateSampler: weight " + std::to_string(i) + " is " + std::to_string(weights[i]) +
                  ", expected a finite value >= 0");
    total += weights[i];
    cumulative_.push_back(total);
  }
  if (!(total > 0)) throw Error("CandidateSampler: no positive weight among " + std::to_string(weights.size()));
  for (auto& c : cumulative_) c /= total;
  cumulative_.back() = 1.0;
}

double CandidateSampler::probability(Index id) const {
  if (id < 0 || id >= size()) throw Error("CandidateSampler: id " + std::to_string(id) + " outside 0 .. " +
                                          std::to_string(size() - 1));
  const auto i = static_cast<std::size_t>(id);
  return i == 0 ? cumulative_[0] : cumulative_[i] - cumulative_[i - 1];
}

void CandidateSampler::draw(Index draws, Rng& rng, std::vector<Index>& ids) const {
  if (cumulative_.empty()) throw Error("CandidateSampler: draw from an empty sampler");
  for (Index d = 0; d < draws; ++d) {
    // 53 random bits: a double uniform in [0, 1), fine enough for q of 1e-9.
    const double u = static_cast<double>(rng.next_u64() >> 11) * 0x1.0p-53;
    const auto at = std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin();
    ids.push_back(std::min<Index>(at, size() - 1));
  }
}

double CandidateSampler::log_miss(Index id, Index draws) const {
  return static_cast<double>(draws) * std::log1p(-std::min(probability(id), 1.0 - 1e-12));
}

float CandidateSampler::log_inclusion(Index id, Index draws) const {
  // 1 - (1 - q)^draws without cancellation for tiny q.
  const double inclusion = -std::expm1(log_miss(id, draws));
  return static_cast<float>(std::log(std::max(inclusion, 1e-300)));
}

float sampled_softmax_cross_entropy(const Matrix& logits, std::span<const float> log_q, const Matrix& targets,
                                    Matrix& grad_logits) {
  if (static_cast<Index>(log_q.size()) != logits.cols() || targets.rows() != logits.rows() ||
      targets.cols() != logits.cols())
    throw Error("sampled_softmax_cross_entropy: logits " + shape_string(logits) + ", targets " +
                shape_string(targets) + " and " + std::to_string(log_q.size()) + " log_q do not match");
  const Index rows = logits.rows();
  grad_logits.resize(rows, logits.cols());
  const Eigen::Map<const RowVector> correction(log_q.data(), static_cast<Index>(log_q.size()));
  const float inv_rows = 1.0f / static_cast<float>(std::max<Index>(rows, 1));
  std::vector<double> row_loss(static_cast<std::size_t>(rows));
  detail::parallel_for(rows, {.parallel = logits.size() >= (1 << 15)}, [&](Index r) {
    auto z = grad_logits.row(r);
    z = logits.row(r) - correction;
    z.array() -= z.maxCoeff();  // shifted: exp cannot overflow
    const auto t = targets.row(r);
    const float cross = t.dot(z);
    z.array() = z.array().exp();
    const float sum = z.sum();
    // -sum_c t_c log(exp(z_c) / sum) with z shifted as above
    row_loss[static_cast<std::size_t>(r)] = -static_cast<double>(cross) + static_cast<double>(t.sum()) * std::log(sum);
    z = (z / sum - t) * inv_rows;
  });
  double total = 0;
  for (const auto loss : row_loss) total += loss;
  return static_cast<float>(total / static_cast<double>(std::max<Index>(rows, 1)));
}

}  // namespace aisle
