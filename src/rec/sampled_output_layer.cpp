#include "rec/sampled_output_layer.hpp"

#include <array>
#include <string>

#include "aisle/core/error.hpp"
#include "core/parallel_for.hpp"

namespace aisle::rec::detail {

using aisle::detail::GemmOperand;
using aisle::detail::GemmProduct;
using aisle::detail::packed_gemm;

namespace {

constexpr std::size_t kTableSlot = 1;

// Rows gathered or column sums taken per thread's turn: enough to pay for
// handing out the work.
constexpr Index kRowsPerChunk = 64;

// W^T and b side by side: [items x (hidden + 1)], the bias last.
Matrix item_major(const Matrix& weight, const Matrix& bias) {
  Matrix table(weight.cols(), weight.rows() + 1);
  table.leftCols(weight.rows()) = weight.transpose();
  table.col(weight.rows()) = bias.row(0).transpose();
  return table;
}

}  // namespace

SampledOutputLayer::SampledOutputLayer(const Matrix& weight, const Matrix& bias, CandidateSampler sampler,
                                       Index draws)
    : table_(item_major(weight, bias)),
      hidden_(weight.rows()),
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
  if (h.cols() != hidden_)
    throw Error("SampledOutputLayer: input of shape " + shape_string(h) + ", expected [batch x " +
                std::to_string(hidden_) + "]");
  if (static_cast<Index>(target_totals.size()) != h.rows())
    throw Error("SampledOutputLayer: " + std::to_string(target_totals.size()) + " target totals for a batch of " +
                std::to_string(h.rows()));
  for (const auto& target : targets)
    if (target.item < 0 || target.item >= table_.rows() || target.example < 0 || target.example >= h.rows())
      throw Error("SampledOutputLayer: target item " + std::to_string(target.item) + " of example " +
                  std::to_string(target.example) + " outside the catalogue or batch");
  choose_candidates(targets, rng);
  optimizer.catch_up_rows(kTableSlot, table_, candidates_);  // the weights dense Adam would read
  gather_candidates();
  const auto count = static_cast<Index>(candidates_.size());
  // The candidates' weights without their bias column, as [count x hidden].
  const GemmOperand weights{weights_.data(), count, hidden_, weights_.outerStride(), 1};
  logits_.resize(h.rows(), count);
  packed_gemm(GemmOperand::of(h), weights.transposed(), {logits_.data(), count}, {.bias = bias_.data()},
              logits_buffers_);
  targets_.setZero(h.rows(), count);
  for (const auto& target : targets) targets_(target.example, position_[static_cast<std::size_t>(target.item)]) += target.weight;
  for (Index r = 0; r < h.rows(); ++r) targets_.row(r) /= target_totals[static_cast<std::size_t>(r)];

  const float loss = sampled_softmax_cross_entropy(logits_, log_q_, targets_, grad_logits_);
  // grad_h = G W_c and the candidates' gradient G^T h, written beside the
  // bias column of each gradient row: independent products, one team.
  grad_h.resize(h.rows(), hidden_);
  grad_weights_.resize(count, hidden_ + 1);
  const std::array<GemmProduct, 2> products{
      GemmProduct{GemmOperand::of(grad_logits_), weights, {grad_h.data(), hidden_}, {}, &input_gradient_buffers_},
      GemmProduct{GemmOperand::of(grad_logits_).transposed(), GemmOperand::of(h),
                  {grad_weights_.data(), grad_weights_.outerStride()}, {}, &weight_gradient_buffers_}};
  packed_gemm(products);
  grad_weights_.col(hidden_) = grad_logits_.colwise().sum().transpose();
  optimizer.update_rows(kTableSlot, table_, candidates_, grad_weights_, LazyAdam::GradientRows::compact);
  return loss;
}

// The candidates' rows of the table, as the products' operand, and their
// biases in a row of their own (the logits' epilogue).
void SampledOutputLayer::gather_candidates() {
  const auto count = static_cast<Index>(candidates_.size());
  weights_.resize(count, table_.cols());
  bias_.resize(count);
  aisle::detail::parallel_for(count, {.chunk = kRowsPerChunk, .parallel = count >= 2 * kRowsPerChunk}, [&](Index c) {
    const Index item = candidates_[static_cast<std::size_t>(c)];
    weights_.row(c) = table_.row(item);
    bias_[static_cast<std::size_t>(c)] = table_(item, hidden_);
  });
}

void SampledOutputLayer::catch_up(LazyAdam& optimizer) {
  optimizer.catch_up(kTableSlot, table_);
}

void SampledOutputLayer::write_back(Matrix& weight, Matrix& bias) const {
  weight = table_.leftCols(hidden_).transpose();
  bias = table_.col(hidden_).transpose();
}

}  // namespace aisle::rec::detail
