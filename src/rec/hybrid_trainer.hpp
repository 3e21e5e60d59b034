#pragma once

// The hybrid model's training steps (private to the library; the tests check
// its gradients against finite differences).

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "aisle/backend/backend.hpp"
#include "aisle/core/random.hpp"
#include "aisle/nn/adam.hpp"
#include "aisle/nn/embedding_bag.hpp"
#include "aisle/rec/hybrid.hpp"
#include "rec/cut_training.hpp"

namespace aisle::rec::detail {

// items x features: row i holds 1/|features of i| on each of i's features,
// so that a product with a feature table gives each item its features' mean.
SparseMatrix feature_means(const Histories& item_features, Index feature_count);

// The feature match's profiles: row r is the sum of U[j] over history r's
// items j, scaled to unit length (zero when it has no feature); unit is
// unit_feature_matrix's items x features. Every item of the history counts
// alike, old or recent: a taste for a brand or a kind of product lasts
// longer than the next-item signal that the recency weights serve.
void feature_profiles(const Histories& histories, const SparseMatrix& unit, Matrix& profiles);

// U(+-limit) into a rows x cols table.
void draw_table(Matrix& table, Index rows, Index cols, float limit, Rng& rng);

// Row-wise softmax cross-entropy against sparse targets (columns of logits,
// each example's weights summing to totals[example]): the mean loss, and
// grad = (p - y) / rows.
float softmax_cross_entropy(const Matrix& logits, std::span<const TargetEntry> targets, std::span<const float> totals,
                            Matrix& grad);

// One fit's training state. The softmax runs over the items the fitted rows
// hold (has_id) only, so that an item without rows is never pushed down as a
// negative, its features with it.
class HybridTrainer {
 public:
  static constexpr std::size_t kTensors = 8;  // in Parameters order: item_in .. feature_match

  HybridTrainer(HybridModel::Parameters& params, const std::vector<std::uint8_t>& has_id, const Histories& item_features,
                Index feature_count, const HybridOptions& options);

  // The batch's mean loss, its gradients (gradients()) and the Adam update.
  float step(const CutBatch& batch);
  // The batch's mean loss and the gradients of every tensor, without an
  // update; id dropout draws a new choice of items each call.
  float loss_and_gradients(const CutBatch& batch);
  // The batch's mean loss alone (with this call's own id dropout draw).
  float loss(const CutBatch& batch);
  // After loss_and_gradients: the gradient of each tensor, in Parameters order.
  std::array<const Matrix*, kTensors> gradients() const;

 private:
  float forward(const CutBatch& batch, const WeightedBags& bags);
  void compose_input();
  void compose_output();
  void spread_input_gradient(const WeightedBags& bags);
  void clear_batch_rows();

  HybridModel::Parameters& p_;
  const std::vector<std::uint8_t>& has_id_;
  const Histories& item_features_;
  bool with_features_;
  const HybridOptions& options_;
  const Backend& kernels_;
  Rng id_rng_;
  Adam optimizer_;
  SparseMatrix means_, warm_means_, unit_, warm_unit_, warm_unit_transposed_;
  std::vector<Index> warm_, warm_position_, touched_;
  std::vector<std::uint8_t> keep_id_;
  EmbeddingBag input_;
  LayerState input_state_;
  std::array<Matrix, 2> input_grads_;
  KernelSlot hidden_slot_, output_slot_;
  Matrix h2_, rows_, output_weight_, output_bias_, logits_, grad_logits_, grad_h2_;
  Matrix grad_output_weight_, grad_output_bias_, grad_hidden_weight_, grad_hidden_bias_, grad_rows_;
  Matrix grad_item_in_, grad_feature_in_, grad_item_out_, grad_feature_out_;
  Matrix profiles_, match_, grad_match_;
  std::vector<TargetEntry> targets_;
};

}  // namespace aisle::rec::detail
