#include "rec/hybrid_trainer.hpp"

#include <algorithm>
#include <cmath>

#include "aisle/core/error.hpp"
#include "core/parallel_for.hpp"
#include "rec/item_features.hpp"

namespace aisle::rec::detail {

void feature_profiles(const Histories& histories, const SparseMatrix& unit, Matrix& profiles) {
  profiles.setZero(histories.size(), unit.cols());
  aisle::detail::parallel_for(histories.size(), {.uneven = true, .chunk = 8}, [&](Index r) {
    auto row = profiles.row(r);
    for (const Index item : histories[r]) {
      for (SparseMatrix::InnerIterator it(unit, item); it; ++it) row[it.col()] += it.value();
    }
    const float norm = row.norm();
    if (norm > 0) row /= norm;
  });
}

void draw_table(Matrix& table, Index rows, Index cols, float limit, Rng& rng) {
  table.resize(rows, cols);
  for (Index r = 0; r < rows; ++r) {
    for (Index c = 0; c < cols; ++c) table(r, c) = rng.uniform(-limit, limit);
  }
}

float softmax_cross_entropy(const Matrix& logits, std::span<const TargetEntry> targets,
                            std::span<const float> totals, Matrix& grad) {
  const Index rows = logits.rows();
  grad.resize(rows, logits.cols());
  std::vector<double> row_loss(static_cast<std::size_t>(rows), 0.0);
  std::vector<float> tops(static_cast<std::size_t>(rows));
  aisle::detail::parallel_for(rows, {.chunk = 4}, [&](Index r) {
    const float top = tops[static_cast<std::size_t>(r)] = logits.row(r).maxCoeff();
    grad.row(r) = (logits.row(r).array() - top).exp();
    const float sum = grad.row(r).sum();
    grad.row(r) /= sum;
    row_loss[static_cast<std::size_t>(r)] = std::log(static_cast<double>(sum));  // minus (logit - top) below
  });
  for (const auto& t : targets) {
    const float y = t.weight / totals[static_cast<std::size_t>(t.example)];
    const float top = tops[static_cast<std::size_t>(t.example)];
    row_loss[static_cast<std::size_t>(t.example)] -= y * (logits(t.example, t.item) - top);
    grad(t.example, t.item) -= y;
  }
  grad /= static_cast<float>(rows);
  double loss = 0;
  for (const double l : row_loss) loss += l;
  return static_cast<float>(loss / static_cast<double>(rows));
}

HybridTrainer::HybridTrainer(HybridModel::Parameters& params, const std::vector<std::uint8_t>& has_id,
                             const Histories& item_features, Index feature_count, const HybridOptions& options)
    : p_(params),
      has_id_(has_id),
      with_features_(feature_count > 0),
      kernels_(backend(default_backend())),
      optimizer_(AdamOptions{.learning_rate = options.learning_rate}) {
  warm_position_.assign(has_id.size(), -1);
  for (std::size_t i = 0; i < has_id.size(); ++i) {
    if (!has_id[i]) continue;
    warm_position_[i] = static_cast<Index>(warm_.size());
    warm_.push_back(static_cast<Index>(i));
  }
  unit_ = unit_feature_matrix({item_features, feature_count});
  warm_means_ = warm_rows(feature_means(item_features, feature_count));
  warm_unit_ = warm_rows(unit_);
  warm_unit_transposed_ = warm_unit_.transpose();
  grad_item_in_.setZero(p_.item_in.rows(), p_.item_in.cols());
  grad_item_out_.setZero(p_.item_out.rows(), p_.item_out.cols());
  grad_feature_out_.setZero(p_.feature_out.rows(), p_.feature_out.cols());
  grad_match_.setZero(1, p_.feature_match.cols());
}

SparseMatrix HybridTrainer::warm_rows(const SparseMatrix& all) const {
  std::vector<Eigen::Triplet<float>> entries;
  for (std::size_t j = 0; j < warm_.size(); ++j) {
    for (SparseMatrix::InnerIterator it(all, warm_[j]); it; ++it)
      entries.emplace_back(static_cast<Index>(j), it.col(), it.value());
  }
  SparseMatrix rows(static_cast<Index>(warm_.size()), all.cols());
  rows.setFromTriplets(entries.begin(), entries.end());
  return rows;
}

float HybridTrainer::forward(const CutBatch& batch, const WeightedBags& bags, Heads heads) {
  compose_input();
  input_.forward(kernels_, bags, input_state_);
  kernels_.dense_forward(input_state_.output, p_.hidden_weight, p_.hidden_bias, Activation::relu, h2_, hidden_slot_);
  targets_.assign(batch.targets.begin(), batch.targets.end());
  for (auto& t : targets_) {
    t.item = warm_position_[static_cast<std::size_t>(t.item)];
    if (t.item < 0) throw Error("hybrid: a training target is not among the fitted items");
  }
  // The id head: the warm items' own rows.
  compose_id_head();
  kernels_.dense_forward(h2_, id_head_.weight, id_head_.bias, Activation::none, id_head_.logits, id_head_.slot);
  float loss = softmax_cross_entropy(id_head_.logits, targets_, batch.target_totals, id_head_.grad_logits);
  if (!with_features_ || heads == Heads::id_only) return loss;
  // The feature head: the same items from their features alone, and the match.
  compose_feature_head();
  kernels_.dense_forward(h2_, feature_head_.weight, feature_head_.bias, Activation::none, feature_head_.logits,
                         feature_head_.slot);
  feature_profiles(batch.inputs, unit_, profiles_);
  match_ = profiles_.array().rowwise() * p_.feature_match.row(0).array();
  feature_head_.logits.noalias() += match_ * warm_unit_transposed_;
  loss += softmax_cross_entropy(feature_head_.logits, targets_, batch.target_totals, feature_head_.grad_logits);
  return loss;
}

float HybridTrainer::loss(const CutBatch& batch, Heads heads) {
  return forward(batch, bags_of(batch.inputs, batch.weights), heads);
}

// dh2 from a head, and the head's rows' gradient [dW^T, db^T] (warm items x (d+1)).
void HybridTrainer::backward_head(Head& head, Matrix& grad_h2) {
  const Index d = p_.hidden_weight.rows();
  Matrix grad_weight, grad_bias;
  kernels_.dense_backward(h2_, head.weight, head.grad_logits, grad_weight, grad_bias, &grad_h2,
                          /*mask_dx_with_relu_of_x=*/true, head.slot);
  head.grad_rows.resize(static_cast<Index>(warm_.size()), d + 1);
  head.grad_rows.leftCols(d) = grad_weight.transpose();
  head.grad_rows.col(d) = grad_bias.row(0).transpose();
}

float HybridTrainer::loss_and_gradients(const CutBatch& batch) {
  const WeightedBags bags = bags_of(batch.inputs, batch.weights);
  clear_batch_rows();
  const float loss = forward(batch, bags);
  if (!std::isfinite(loss)) return loss;
  backward_head(id_head_, grad_h2_);
  for (std::size_t j = 0; j < warm_.size(); ++j) grad_item_out_.row(warm_[j]) = id_head_.grad_rows.row(static_cast<Index>(j));
  if (with_features_) {
    Matrix unused_grad_h2;
    backward_head(feature_head_, unused_grad_h2);
    // The feature head reads the encoder without training it: the encoder,
    // and so the ranking of the items with an id, stays the neural model's.
    grad_feature_out_.noalias() = warm_means_.transpose() * feature_head_.grad_rows;
    // dm_f = sum over examples r of P[r, f] (dlogits U_warm)[r, f]
    const Matrix through_units = feature_head_.grad_logits * warm_unit_;
    grad_match_ = (profiles_.array() * through_units.array()).colwise().sum();
  }
  kernels_.dense_backward(input_state_.output, p_.hidden_weight, grad_h2_, grad_hidden_weight_, grad_hidden_bias_,
                          &input_state_.grad_output, /*mask_dx_with_relu_of_x=*/false, hidden_slot_);
  input_.backward(kernels_, bags, input_state_, input_grads_);
  touched_.assign(bags.ids.begin(), bags.ids.end());
  std::sort(touched_.begin(), touched_.end());
  touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
  for (const Index item : touched_) {
    if (has_id_[static_cast<std::size_t>(item)]) grad_item_in_.row(item) = input_grads_[0].row(item);
  }
  return loss;
}

std::array<const Matrix*, HybridTrainer::kTensors> HybridTrainer::gradients() const {
  return {&grad_item_in_,  &input_grads_[1],   &grad_hidden_weight_, &grad_hidden_bias_,
          &grad_item_out_, &grad_feature_out_, &grad_match_};
}

float HybridTrainer::step(const CutBatch& batch) {
  const float loss = loss_and_gradients(batch);
  if (!std::isfinite(loss)) return loss;  // the caller stops the fit before any update
  const std::array<Matrix*, kTensors> params{&p_.item_in,  &p_.bias_in,     &p_.hidden_weight, &p_.hidden_bias,
                                             &p_.item_out, &p_.feature_out, &p_.feature_match};
  optimizer_.step(params, gradients());
  return loss;
}

// The rows of the input gradients that the last batch wrote, zeroed at the
// cost of that batch's items rather than the whole table.
void HybridTrainer::clear_batch_rows() {
  for (const Index item : touched_) {
    grad_item_in_.row(item).setZero();
    if (input_grads_[0].rows() > item) input_grads_[0].row(item).setZero();
  }
  touched_.clear();
}

// The input table: the id rows, zero for an item without one.
void HybridTrainer::compose_input() {
  Matrix table = p_.item_in;
  for (std::size_t i = 0; i < has_id_.size(); ++i) {
    if (!has_id_[i]) table.row(static_cast<Index>(i)).setZero();
  }
  input_ = EmbeddingBag(std::move(table), p_.bias_in, Activation::relu);
}

void HybridTrainer::compose_id_head() {
  const Index d = p_.hidden_weight.rows();
  id_head_.weight.resize(d, static_cast<Index>(warm_.size()));
  id_head_.bias.resize(1, static_cast<Index>(warm_.size()));
  for (std::size_t j = 0; j < warm_.size(); ++j) {
    id_head_.weight.col(static_cast<Index>(j)) = p_.item_out.row(warm_[j]).head(d).transpose();
    id_head_.bias(0, static_cast<Index>(j)) = p_.item_out(warm_[j], d);
  }
}

void HybridTrainer::compose_feature_head() {
  const Index d = p_.hidden_weight.rows();
  const Matrix rows = warm_means_ * p_.feature_out;  // each warm item's mean feature row
  feature_head_.weight = rows.leftCols(d).transpose();
  feature_head_.bias = rows.col(d).transpose();
}

}  // namespace aisle::rec::detail
