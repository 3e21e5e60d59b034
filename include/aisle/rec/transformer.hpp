#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "aisle/core/option_schema.hpp"
#include "aisle/nn/adam.hpp"
#include "aisle/nn/embedding.hpp"
#include "aisle/nn/transformer_encoder.hpp"
#include "aisle/rec/epoch_tuning.hpp"
#include "aisle/rec/model.hpp"

namespace aisle::rec {

struct TransformerOptions {
  Index max_length = 50;  // the newest items of a history that the model reads
  Index dim = 64;         // item, position and block width
  Index blocks = 2;
  Index heads = 1;
  float dropout = 0.5f;  // on the input embeddings and each block's branches, in training
  int epochs = 100;      // passes over the fitted rows (at most, with validate)
  float learning_rate = 1e-3f;
  float weight_decay = 0.0f;  // decoupled (AdamW): each step takes learning_rate * weight_decay of every weight
  Index batch_size = 128;     // sequences a step
  std::uint64_t seed = 42;
  // Choose the epoch count (at most epochs; the probe stops 10 epochs past
  // its best) on a validation split carved from the fitted rows
  // (FitContext::validation_protocol), then refit on all rows. On by
  // default: with item features the best epoch comes early (amazon-beauty:
  // 19) and every epoch after it loses accuracy. false: exactly `epochs`.
  bool validate = true;
  // By default each item's embedding gains the mean of its features'
  // embeddings (brand, category...) when the fit is given item features, so
  // that items seen rarely borrow from the others that share their features;
  // true: the item ids alone.
  bool ignore_features = false;
  // The learning rate falls linearly over the epochs, from learning_rate to
  // learning_rate / epochs in the last; false: constant.
  bool decay = false;
  // Each position's softmax leaves out the items at or before it in its
  // sequence (but never its target): recommendations leave a shopper's own
  // items out (Filter::exclude_history), so training need not push them
  // down either. The scores of a history's own items then mean nothing:
  // a store that offers them again (repeat purchases) trains with false.
  bool exclude_history = true;
};

// A self-attentive sequence model (SASRec's architecture, trained with a
// softmax over the whole catalogue), on the nn core's Embedding and
// TransformerEncoder:
//   x_t = E[item_t] sqrt(dim)                 the last max_length items, left-padded
//   h   = LayerNorm(Block_N(... Block_1(x + P)))  the encoder: learned positions,
//                                             pre-norm causal Transformer blocks
//   score(i) = h_last . E[i] + b_i            tied with the input embeddings
// trained with cross-entropy at every position of every fitted row (the
// next item is the target), Adam and dropout. No per-user parameters: any
// history (a user's, a session's, a cart's) is served by one forward pass.
class TransformerModel final : public Model {
 public:
  static constexpr const char* kKind = "transformer";
  static const OptionSchema<TransformerOptions>& option_schema();

  explicit TransformerModel(TransformerOptions options = {});
  std::string kind() const override { return kKind; }
  nlohmann::json params() const override;
  void fit(const Histories& rows, Index item_count, const FitContext& context = {}) override;
  Index item_count() const override { return items_.rows(); }
  void score_batch(const Histories& histories, Matrix& scores) const override;
  // score = [h_last, 1] . [E row, b]: dim + 1 dimensions.
  Index vector_dim() const override { return fitted() ? options_.dim + 1 : 0; }
  Matrix item_vectors() const override;
  void query_vectors(const Histories& histories, Matrix& queries) const override;
  void save(io::ModelFile& file) const override;
  void load(io::ModelFile& file, const std::filesystem::path& path) override;

  const TransformerOptions& options() const { return options_; }
  // The mean training loss of each epoch of the last fit.
  const std::vector<float>& epoch_losses() const { return losses_; }

 private:
  struct Network;  // a batch's layout and the states of its forward and backward pass
  // options, or an aisle::Error saying which ranges they break.
  static TransformerOptions validated(const TransformerOptions& options);
  static TransformerEncoderOptions encoder_options(const TransformerOptions& options);
  void build(Index item_count, Index feature_count, Rng& rng);
  // The final hidden states of the batch laid out in net; rng: training.
  void forward(Network& net, Rng* rng) const;
  // One Adam step on the batch laid out in net: its mean loss.
  float train_step(Network& net, Rng& rng, Adam& optimizer, std::vector<Matrix>& grads);
  void train(const Histories& rows, Index item_count, int epochs, const FitContext& context,
             const std::function<bool(int)>& after_epoch);
  std::vector<std::pair<std::size_t, std::size_t>> batches_by_length(const Histories& rows,
                                                                   std::vector<Index>& trainable, Rng& rng) const;
  // The final hidden state of each history's newest position: [histories x dim].
  void encode_last(const Histories& histories, Matrix& last) const;
  // E, b, the encoder's (TransformerEncoder::parameters()), F with features.
  std::vector<Matrix*> parameters();
  bool uses_features() const { return features_.rows() > 0; }
  // E, plus each item's mean feature embedding when the model has features.
  void compose_item_table(Matrix& table) const;
  // What inputs and scores read: E, or E composed with the features.
  const Matrix& item_table() const { return uses_features() ? item_table_ : items_.table(); }

  TransformerOptions options_;
  Embedding items_;     // E [items x dim], scale sqrt(dim)
  Matrix output_bias_;  // b [1 x items]
  TransformerEncoder encoder_;  // positions, blocks, final norm: made from options_, its weights by build()
  Histories item_features_;  // each item's feature indices (none: no features)
  Matrix features_;          // F [features x dim]
  Matrix item_table_;        // E + the mean of F over each item's features, when features_ has rows
  std::vector<float> losses_;
  EpochTuning epochs_;  // the epoch count, and the validation curve that chose it
};

}  // namespace aisle::rec
