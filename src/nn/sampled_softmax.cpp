#include "aisle/nn/sampled_softmax.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "aisle/core/error.hpp"
#include "core/parallel_for.hpp"

namespace aisle {

// Walker's alias method (Vose's construction): slot i keeps id i with
// chance accept_[i] and gives alias_[i] otherwise, so a draw costs one slot
// whatever the number of ids (a binary search over a million cumulative
// weights costs twenty cache misses).
CandidateSampler::CandidateSampler(std::span<const double> weights) {
  double total = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (!(weights[i] >= 0) || !std::isfinite(weights[i]))
      throw Error("CandidateSampler: weight " + std::to_string(i) + " is " + std::to_string(weights[i]) +
                  ", expected a finite value >= 0");
    total += weights[i];
  }
  if (!(total > 0)) throw Error("CandidateSampler: no positive weight among " + std::to_string(weights.size()));
  const std::size_t n = weights.size();
  probability_.resize(n);
  accept_.resize(n);
  alias_.resize(n);
  std::vector<double> scaled(n);
  std::vector<std::size_t> small, large;
  for (std::size_t i = 0; i < n; ++i) {
    probability_[i] = weights[i] / total;
    scaled[i] = probability_[i] * static_cast<double>(n);
    (scaled[i] < 1.0 ? small : large).push_back(i);
  }
  while (!small.empty() && !large.empty()) {
    const auto less = small.back(), more = large.back();
    small.pop_back();
    accept_[less] = scaled[less];
    alias_[less] = static_cast<Index>(more);
    scaled[more] -= 1.0 - scaled[less];
    if (scaled[more] < 1.0) {
      large.pop_back();
      small.push_back(more);
    }
  }
  // What is left is 1 up to rounding.
  for (const auto i : large) accept_[i] = 1.0, alias_[i] = static_cast<Index>(i);
  for (const auto i : small) accept_[i] = 1.0, alias_[i] = static_cast<Index>(i);
}

double CandidateSampler::probability(Index id) const {
  if (id < 0 || id >= size()) throw Error("CandidateSampler: id " + std::to_string(id) + " outside 0 .. " +
                                          std::to_string(size() - 1));
  return probability_[static_cast<std::size_t>(id)];
}

void CandidateSampler::draw(Index draws, Rng& rng, std::vector<Index>& ids) const {
  if (probability_.empty()) throw Error("CandidateSampler: draw from an empty sampler");
  const auto n = static_cast<std::uint64_t>(size());
  for (Index d = 0; d < draws; ++d) {
    const auto slot = static_cast<std::size_t>(rng.below(n));
    // 53 random bits: a double uniform in [0, 1).
    const double u = static_cast<double>(rng.next_u64() >> 11) * 0x1.0p-53;
    ids.push_back(u < accept_[slot] ? static_cast<Index>(slot) : alias_[slot]);
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
