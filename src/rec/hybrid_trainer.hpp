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

// One fit's training state. Two softmax heads share the history encoder
// (h2), both over the items the fitted rows hold (so that an item without rows
// is never pushed down as a negative): the id head scores them by their id
// rows, the feature head by their features alone (the mean of their feature
// rows plus the feature match), as it will score items that have no id. The
// loss is the sum of the two heads' cross-entropies; the feature head's does
// not reach the encoder.
class HybridTrainer {
 public:
  static constexpr std::size_t kTensors = 7;  // in Parameters order: item_in .. feature_match

  HybridTrainer(HybridModel::Parameters& params, const std::vector<std::uint8_t>& has_id, const Histories& item_features,
                Index feature_count, const HybridOptions& options);

  // The batch's loss, its gradients (gradients()) and the Adam update.
  float step(const CutBatch& batch);
  // The batch's loss and the gradient of every tensor, without an update.
  float loss_and_gradients(const CutBatch& batch);
  // The batch's loss alone: both heads', or the id head's (the loss whose
  // gradient the encoder's tensors get).
  enum class Heads { both, id_only };
  float loss(const CutBatch& batch, Heads heads = Heads::both);
  // After loss_and_gradients: the gradient of each tensor, in Parameters order.
  std::array<const Matrix*, kTensors> gradients() const;

 private:
  struct Head {
    Matrix weight, bias;  // [d x warm items], [1 x warm items]
    Matrix logits, grad_logits, grad_rows;
    KernelSlot slot;
  };
  SparseMatrix warm_rows(const SparseMatrix& all) const;
  float forward(const CutBatch& batch, const WeightedBags& bags, Heads heads = Heads::both);
  void backward_head(Head& head, Matrix& grad_h2);
  void compose_input();
  void compose_id_head();
  void compose_feature_head();
  void clear_batch_rows();

  HybridModel::Parameters& p_;
  const std::vector<std::uint8_t>& has_id_;
  bool with_features_;
  const Backend& kernels_;
  Adam optimizer_;
  SparseMatrix unit_, warm_means_, warm_unit_, warm_unit_transposed_;
  std::vector<Index> warm_, warm_position_, touched_;
  EmbeddingBag input_;
  LayerState input_state_;
  std::array<Matrix, 2> input_grads_;
  KernelSlot hidden_slot_;
  Head id_head_, feature_head_;
  Matrix h2_, grad_h2_, grad_hidden_weight_, grad_hidden_bias_;
  Matrix grad_item_in_, grad_item_out_, grad_feature_out_;
  Matrix profiles_, match_, grad_match_;
  std::vector<TargetEntry> targets_;
};

}  // namespace aisle::rec::detail
