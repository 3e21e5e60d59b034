#include "rec/hybrid_trainer.hpp"

#include <algorithm>
#include <cmath>

#include "aisle/core/error.hpp"
#include "core/parallel_for.hpp"
#include "rec/item_features.hpp"

namespace aisle::rec::detail {

SparseMatrix feature_means(const Histories& item_features, Index feature_count) {
  SparseMatrix means(item_features.size(), feature_count);
  std::vector<Eigen::Triplet<float>> entries;
  entries.reserve(static_cast<std::size_t>(item_features.total()));
  for (Index i = 0; i < item_features.size(); ++i) {
    const auto row = item_features[i];
    for (const Index f : row) entries.emplace_back(i, f, 1.0f / static_cast<float>(row.size()));
  }
  means.setFromTriplets(entries.begin(), entries.end());
  return means;
}

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
  aisle::detail::parallel_for(rows, {.chunk = 4}, [&](Index r) {
    const float top = logits.row(r).maxCoeff();
    grad.row(r) = (logits.row(r).array() - top).exp();
    const float sum = grad.row(r).sum();
    grad.row(r) /= sum;
    row_loss[static_cast<std::size_t>(r)] = std::log(static_cast<double>(sum));  // minus (logit - top) below
  });
  for (const auto& t : targets) {
    const float y = t.weight / totals[static_cast<std::size_t>(t.example)];
    const float top = logits.row(t.example).maxCoeff();
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
      item_features_(item_features),
      with_features_(feature_count > 0),
      options_(options),
      kernels_(backend(default_backend())),
      // Draws of its own: the cuts and input dropout stay those of the seed.
      id_rng_(options.seed ^ 0x1dd2'0b00'5eed'0001ull),
      optimizer_(AdamOptions{.learning_rate = options.learning_rate}) {
  means_ = feature_means(item_features, feature_count);
  warm_position_.assign(has_id.size(), -1);
  for (std::size_t i = 0; i < has_id.size(); ++i) {
    if (!has_id[i]) continue;
    warm_position_[i] = static_cast<Index>(warm_.size());
    warm_.push_back(static_cast<Index>(i));
  }
  std::vector<Eigen::Triplet<float>> entries;
  for (std::size_t j = 0; j < warm_.size(); ++j) {
    for (SparseMatrix::InnerIterator it(means_, warm_[j]); it; ++it)
      entries.emplace_back(static_cast<Index>(j), it.col(), it.value());
  }
  warm_means_.resize(static_cast<Index>(warm_.size()), feature_count);
  warm_means_.setFromTriplets(entries.begin(), entries.end());
  unit_ = unit_feature_matrix({item_features, feature_count});
  entries.clear();
  for (std::size_t j = 0; j < warm_.size(); ++j) {
    for (SparseMatrix::InnerIterator it(unit_, warm_[j]); it; ++it)
      entries.emplace_back(static_cast<Index>(j), it.col(), it.value());
  }
  warm_unit_.resize(static_cast<Index>(warm_.size()), feature_count);
  warm_unit_.setFromTriplets(entries.begin(), entries.end());
  warm_unit_transposed_ = warm_unit_.transpose();
  grad_item_in_.setZero(p_.item_in.rows(), p_.item_in.cols());
  grad_item_out_.setZero(p_.item_out.rows(), p_.item_out.cols());
}

float HybridTrainer::forward(const CutBatch& batch, const WeightedBags& bags) {
  compose_input();
  input_.forward(kernels_, bags, input_state_);
  kernels_.dense_forward(input_state_.output, p_.hidden_weight, p_.hidden_bias, Activation::relu, h2_, hidden_slot_);
  compose_output();
  kernels_.dense_forward(h2_, output_weight_, output_bias_, Activation::none, logits_, output_slot_);
  if (with_features_) {  // the feature match: (P diag(m)) U_warm^T
    feature_profiles(batch.inputs, unit_, profiles_);
    match_ = profiles_.array().rowwise() * p_.feature_match.row(0).array();
    logits_.noalias() += match_ * warm_unit_transposed_;
  }
  targets_.assign(batch.targets.begin(), batch.targets.end());
  for (auto& t : targets_) {
    t.item = warm_position_[static_cast<std::size_t>(t.item)];
    if (t.item < 0) throw Error("hybrid: a training target is not among the fitted items");
  }
  return softmax_cross_entropy(logits_, targets_, batch.target_totals, grad_logits_);
}

float HybridTrainer::loss(const CutBatch& batch) {
  return forward(batch, bags_of(batch.inputs, batch.weights));
}

float HybridTrainer::loss_and_gradients(const CutBatch& batch) {
  const WeightedBags bags = bags_of(batch.inputs, batch.weights);
  clear_batch_rows();
  const float loss = forward(batch, bags);
  if (!std::isfinite(loss)) return loss;
  const Index d = p_.hidden_weight.rows();
  kernels_.dense_backward(h2_, output_weight_, grad_logits_, grad_output_weight_, grad_output_bias_, &grad_h2_,
                          /*mask_dx_with_relu_of_x=*/true, output_slot_);
  kernels_.dense_backward(input_state_.output, p_.hidden_weight, grad_h2_, grad_hidden_weight_, grad_hidden_bias_,
                          &input_state_.grad_output, /*mask_dx_with_relu_of_x=*/false, hidden_slot_);
  input_.backward(kernels_, bags, input_state_, input_grads_);
  // The composed tables' gradients, spread to the id and feature tables.
  spread_input_gradient(bags);
  grad_rows_.resize(static_cast<Index>(warm_.size()), d + 1);
  grad_rows_.leftCols(d) = grad_output_weight_.transpose();
  grad_rows_.col(d) = grad_output_bias_.row(0).transpose();
  for (std::size_t j = 0; j < warm_.size(); ++j) {
    if (keep_id_[j]) grad_item_out_.row(warm_[j]) = grad_rows_.row(static_cast<Index>(j));
    else grad_item_out_.row(warm_[j]).setZero();
  }
  if (with_features_) grad_feature_out_.noalias() = warm_means_.transpose() * grad_rows_;
  else grad_feature_out_.setZero(p_.feature_out.rows(), p_.feature_out.cols());
  if (with_features_) {  // dm_f = sum over examples r of P[r, f] (dlogits U_warm)[r, f]
    Matrix through_units = grad_logits_ * warm_unit_;
    grad_match_ = (profiles_.array() * through_units.array()).colwise().sum();
  } else {
    grad_match_.setZero(1, p_.feature_match.cols());
  }
  return loss;
}

std::array<const Matrix*, HybridTrainer::kTensors> HybridTrainer::gradients() const {
  return {&grad_item_in_, &grad_feature_in_, &input_grads_[1], &grad_hidden_weight_,
          &grad_hidden_bias_, &grad_item_out_, &grad_feature_out_, &grad_match_};
}

float HybridTrainer::step(const CutBatch& batch) {
  const float loss = loss_and_gradients(batch);
  if (!std::isfinite(loss)) return loss;  // the caller stops the fit before any update
  const std::array<Matrix*, kTensors> params{&p_.item_in, &p_.feature_in, &p_.bias_in, &p_.hidden_weight,
                                             &p_.hidden_bias, &p_.item_out, &p_.feature_out, &p_.feature_match};
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

// The input table r_in = [has_id] E_in + means F_in, through an EmbeddingBag
// that the step's forward and backward read.
void HybridTrainer::compose_input() {
  Matrix table = p_.item_in;
  for (std::size_t i = 0; i < has_id_.size(); ++i) {
    if (!has_id_[i]) table.row(static_cast<Index>(i)).setZero();
  }
  if (with_features_) table.noalias() += means_ * p_.feature_in;
  input_ = EmbeddingBag(std::move(table), p_.bias_in, Activation::relu);
}

// The warm items' output rows, each item with features losing its id
// embedding with probability id_dropout, transposed for the kernels.
void HybridTrainer::compose_output() {
  const Index d = p_.hidden_weight.rows();
  keep_id_.resize(warm_.size());
  rows_.resize(static_cast<Index>(warm_.size()), d + 1);
  for (std::size_t j = 0; j < warm_.size(); ++j) {
    const Index item = warm_[j];
    const bool droppable = with_features_ && !item_features_[item].empty();
    keep_id_[j] = !(droppable && id_rng_.uniform() < options_.id_dropout);
    if (keep_id_[j]) rows_.row(static_cast<Index>(j)) = p_.item_out.row(item);
    else rows_.row(static_cast<Index>(j)).setZero();
  }
  if (with_features_) rows_.noalias() += warm_means_ * p_.feature_out;
  output_weight_ = rows_.leftCols(d).transpose();
  output_bias_ = rows_.col(d).transpose();
}

// dE_in on the batch's rows that have ids; dF_in, the same spread over their features.
void HybridTrainer::spread_input_gradient(const WeightedBags& bags) {
  const Matrix& grad_table = input_grads_[0];
  grad_feature_in_.setZero(p_.feature_in.rows(), p_.feature_in.cols());
  touched_.assign(bags.ids.begin(), bags.ids.end());
  std::sort(touched_.begin(), touched_.end());
  touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
  for (const Index item : touched_) {
    if (has_id_[static_cast<std::size_t>(item)]) grad_item_in_.row(item) = grad_table.row(item);
    if (!with_features_) continue;
    for (SparseMatrix::InnerIterator it(means_, item); it; ++it)
      grad_feature_in_.row(it.col()) += it.value() * grad_table.row(item);
  }
}

}  // namespace aisle::rec::detail
