#include "rec/sampled_output_layer.hpp"

#include <string>

#include "aisle/core/error.hpp"
#include "core/parallel_for.hpp"

namespace aisle::rec::detail {
namespace {

constexpr std::size_t kTableSlot = 1;
constexpr std::size_t kBiasSlot = 2;

}  // namespace

SampledOutputLayer::SampledOutputLayer(const Matrix& weight, const Matrix& bias, CandidateSampler sampler,
                                       Index draws)
    : table_(weight.transpose()),
      bias_(bias.transpose()),
      sampler_(std::move(sampler)),
      draws_(draws),
      position_(static_cast<std::size_t>(weight.cols()), -1) {
  if (bias.rows() != 1 || bias.cols() != weight.cols() || sampler_.size() != weight.cols() || draws <= 0)
    throw Error("SampledOutputLayer: weight " + shape_string(weight) + ", bias " + shape_string(bias) + ", " +
                std::to_string(sampler_.size()) + " sampled ids and " + std::to_string(draws) + " draws");
  log_inclusion_.resize(position_.size());
  for (std::size_t i = 0; i < log_inclusion_.size(); ++i)
    log_inclusion_[i] = sampler_.log_inclusion(static_cast<Index>(i), draws_);
}

void SampledOutputLayer::choose_candidates(std::span<const TargetEntry> targets, Rng& rng) {
  for (const auto id : candidates_) position_[static_cast<std::size_t>(id)] = -1;
  candidates_.clear();
  const auto add = [&](Index id) {
    auto& at = position_[static_cast<std::size_t>(id)];
    if (at >= 0) return;
    at = static_cast<std::int32_t>(candidates_.size());
    candidates_.push_back(id);
  };
  for (const auto& target : targets) add(target.item);
  drawn_.clear();
  sampler_.draw(draws_, rng, drawn_);
  for (const auto id : drawn_) add(id);
  log_q_.resize(candidates_.size());
  for (std::size_t c = 0; c < candidates_.size(); ++c) log_q_[c] = log_inclusion_[static_cast<std::size_t>(candidates_[c])];
}

float SampledOutputLayer::train_step(const Matrix& h, std::span<const TargetEntry> targets,
                                     std::span<const float> target_totals, Rng& rng, LazyAdam& optimizer,
                                     Matrix& grad_h) {
  if (h.cols() != table_.cols())
    throw Error("SampledOutputLayer: input of shape " + shape_string(h) + ", expected [batch x " +
                std::to_string(table_.cols()) + "]");
  if (static_cast<Index>(target_totals.size()) != h.rows())
    throw Error("SampledOutputLayer: " + std::to_string(target_totals.size()) + " target totals for a batch of " +
                std::to_string(h.rows()));
  for (const auto& target : targets)
    if (target.item < 0 || target.item >= table_.rows() || target.example < 0 || target.example >= h.rows())
      throw Error("SampledOutputLayer: target item " + std::to_string(target.item) + " of example " +
                  std::to_string(target.example) + " outside the catalogue or batch");
  choose_candidates(targets, rng);
  const auto count = static_cast<Index>(candidates_.size());
  weights_.resize(count, table_.cols());
  Matrix bias(1, count);
  for (Index c = 0; c < count; ++c) {
    weights_.row(c) = table_.row(candidates_[static_cast<std::size_t>(c)]);
    bias(0, c) = bias_(candidates_[static_cast<std::size_t>(c)], 0);
  }
  logits_.noalias() = h * weights_.transpose();
  logits_.rowwise() += bias.row(0);
  targets_.setZero(h.rows(), count);
  for (const auto& target : targets) targets_(target.example, position_[static_cast<std::size_t>(target.item)]) += target.weight;
  for (Index r = 0; r < h.rows(); ++r) targets_.row(r) /= target_totals[static_cast<std::size_t>(r)];

  const float loss = sampled_softmax_cross_entropy(logits_, log_q_, targets_, grad_logits_);
  grad_h.noalias() = grad_logits_ * weights_;
  grad_weights_.noalias() = grad_logits_.transpose() * h;
  grad_bias_ = grad_logits_.colwise().sum().transpose();
  optimizer.update_rows(kTableSlot, table_, candidates_, grad_weights_, LazyAdam::GradientRows::compact);
  optimizer.update_rows(kBiasSlot, bias_, candidates_, grad_bias_, LazyAdam::GradientRows::compact);
  return loss;
}

void SampledOutputLayer::catch_up(LazyAdam& optimizer) {
  optimizer.catch_up(kTableSlot, table_);
  optimizer.catch_up(kBiasSlot, bias_);
}

void SampledOutputLayer::write_back(Matrix& weight, Matrix& bias) const {
  weight = table_.transpose();
  bias = bias_.transpose();
}

}  // namespace aisle::rec::detail
