#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aisle/core/option_schema.hpp"
#include "aisle/nn/embedding_bag.hpp"
#include "aisle/rec/epoch_tuning.hpp"
#include "aisle/rec/model.hpp"

namespace aisle::rec {

struct HybridOptions {
  Index hidden = 512;  // width of the item representations and the hidden layers
  int epochs = 4;      // an epoch: one example per fitted interaction
  Index batch_size = 128;
  float learning_rate = 1e-3f;
  float dropout = 0.5f;        // input dropout, as the neural model's
  float target_decay = 0.7f;   // as the neural model's
  float input_decay = 0.6f;    // as the neural model's
  // The feature match's initial weight for every feature. A profile cosine
  // is at most 1 while logits span several units: a start of 1 (featknn's
  // scale) left the match too weak for the few thousand Adam steps of a fit
  // to grow.
  float match_init = 8.0f;
  std::uint64_t seed = 42;
  // Choose the epoch count (at most epochs) on a validation split of the
  // fitted rows, then refit on all rows.
  bool validate = false;
};

// The neural model (NeuralModel) for catalogues whose items have features,
// so that items no one has bought yet (new products) are recommended too.
// A history is encoded as the neural model encodes it:
//   h1 = relu(sum over the history's items with an id of w_j E_in[j] + b1)   (w: recency, unit length)
//   h2 = relu(h1 W2 + b2)
// An item that the fitted rows hold (it has an id) is scored by its own row:
//   score_i = [h2, 1] . E_out[i]
// and an item without one (a new item: no interactions, or added after the
// fit) from its features alone:
//   score_i = [h2, 1] . mean over i's features f of F[f]
//           + sum over features f of m_f P_h[f] U_i[f]     (the feature match)
// where U_i is i's one-hot feature vector scaled to unit length, P_h the sum
// of the history's items' U scaled to unit length (the profile of featknn,
// every item alike) and m a learned weight per feature: how much a history
// sharing f with an item says (a brand, more than a broad category). The
// embeddings generalise across features; the match keeps the exact "same
// brand as before" signal that a few hundred dimensions blur.
//
// Training (cut histories, input dropout, Adam, as the neural model) has two
// softmax heads over the items with an id, reading the same encoder: the id
// head scores them by their rows and trains the encoder, the feature head
// scores them by their features alone, as new items will be scored, and
// trains only the feature rows and the match. So an item with interactions
// ranks as the neural model ranks it. Its representation is not the sum of
// its id and its features: that sum, tried first, cost ml-100k's loo NDCG@10
// a tenth (the shared genre rows blur the items' own). Without item features
// it is the neural model.
class HybridModel final : public Model {
 public:
  static constexpr const char* kKind = "hybrid";
  static const OptionSchema<HybridOptions>& option_schema();

  explicit HybridModel(HybridOptions options = {});

  std::string kind() const override { return kKind; }
  nlohmann::json params() const override;
  void fit(const Histories& rows, Index item_count, const FitContext& context = {}) override;
  Index item_count() const override { return output_table_.rows(); }
  void score_batch(const Histories& histories, Matrix& scores) const override;
  // Queries [h2, 1, P diag(m)] and items [their row, U (items without an
  // id) or 0]: hidden + 1 dimensions, plus one per feature when the model
  // has features.
  Index vector_dim() const override { return fitted() ? options_.hidden + 1 + feature_count_ : 0; }
  Matrix item_vectors() const override;
  void query_vectors(const Histories& histories, Matrix& queries) const override;
  // New items get no id: they are scored from their features.
  std::unique_ptr<Model> with_items(const CatalogueChange& change) const override;
  void save(io::ModelFile& file) const override;
  void load(io::ModelFile& file, const std::filesystem::path& path) override;

  const HybridOptions& options() const { return options_; }
  bool uses_features() const { return feature_count_ > 0; }
  // Whether item has an id embedding (the fit's rows held it).
  bool has_id(Index item) const { return has_id_[static_cast<std::size_t>(item)] != 0; }
  const std::vector<float>& epoch_losses() const { return losses_; }

  // The trained parameters; fit and load fill them, the composed tables come from them.
  struct Parameters {
    Matrix item_in, bias_in;            // E_in [items x d], b1 [1 x d]
    Matrix hidden_weight, hidden_bias;  // W2 [d x d], b2 [1 x d]
    Matrix item_out, feature_out;       // E_out [items x (d+1)], F [features x (d+1)]
    Matrix feature_match;               // m [1 x features]
  };
  const Parameters& parameters() const { return params_; }

 private:
  void train(const Histories& rows, Index item_count, int epochs, const FitContext& context,
             const std::function<bool(int)>& after_epoch);
  void require_memory_for_training(Index item_count, Index feature_count) const;
  // The composed tables scoring reads, from params_.
  void compose();
  void hidden_forward(const Histories& histories, Matrix& h2) const;
  // P diag(m): the histories' feature profiles times the match weights.
  void weighted_profiles(const Histories& histories, Matrix& profiles) const;

  HybridOptions options_;
  Parameters params_;
  std::vector<std::uint8_t> has_id_;  // per item
  Histories item_features_;           // each item's feature indices
  Index feature_count_ = 0;
  EmbeddingBag input_;                // the composed input table and b1
  Matrix output_table_;               // the composed r_out [items x (d+1)]
  Matrix output_weight_, output_bias_;  // its transpose split for the kernels: [d x items], [1 x items]
  SparseMatrix unit_features_;  // U [items x features]
  SparseMatrix match_targets_, match_targets_transposed_;  // U's rows of the items without an id, and U^T
  std::vector<float> losses_;
  EpochTuning epochs_;
};

}  // namespace aisle::rec
