#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aisle/nn/embedding_bag.hpp"
#include "aisle/nn/sequential.hpp"
#include "aisle/core/option_schema.hpp"
#include "aisle/rec/epoch_tuning.hpp"
#include "aisle/rec/model.hpp"

namespace aisle::rec {

struct NeuralOptions {
  Index hidden = 512;  // width of both hidden layers
  int epochs = 4;      // an epoch: one example per fitted interaction
  Index batch_size = 128;
  float learning_rate = 1e-3f;
  float dropout = 0.5f;        // input dropout: the denoising corruption
  // Training examples cut each fitted row at a random point: the items
  // before the cut are the input, the items after it the target, weighted
  // decay^distance from the cut (0: the next item only, 1: all alike).
  float target_decay = 0.7f;
  // Recency of the input: a history's items weigh input_decay^age (age 0 for
  // the newest), scaled to unit length; 1 gives the normalised multi-hot.
  float input_decay = 0.6f;
  // Cuts of each row an epoch: 0 for n - 1 (one example per interaction
  // after the first), k for at most k (cheaper epochs on big catalogues).
  Index cuts_per_row = 0;
  // The output's softmax: 0 over the whole catalogue; N > 0 a sampled
  // softmax over each batch's targets and N negatives drawn for the batch
  // (by popularity^0.75, logQ-corrected), whose cost does not grow with the
  // catalogue; -1 (the default) the whole catalogue up to
  // NeuralModel::kSampledSoftmaxItems items, else kDefaultNegatives.
  Index negatives = -1;
  std::uint64_t seed = 42;
  // Choose the epoch count (at most epochs) on a validation split carved from
  // the fitted rows (FitContext::validation_protocol), then refit on all rows.
  bool validate = false;
};

// A history's normalised multi-hot vector x (1/sqrt(|history|) on its items,
// or recency weights of unit length, see input_decay) goes through
//   h1 = relu(x W1 + b1)           computed sparsely: the sum of the W1 rows
//                                  of the history's items, never a product
//                                  over the whole catalogue
//   h2 = relu(h1 W2 + b2)          Dense (nn core)
//   p  = softmax(h2 W3 + b3)       Dense over the catalogue (nn core)
// trained with cross-entropy and Adam, input dropout as denoising. No
// per-user parameters: any history is served by one forward pass.
class NeuralModel final : public Model {
 public:
  static constexpr const char* kKind = "neural";
  // Above this many items the default is a sampled softmax: a full one costs
  // items x hidden per example, which on large catalogues dwarfs the rest.
  static constexpr Index kSampledSoftmaxItems = 50'000;
  static constexpr Index kDefaultNegatives = 2048;
  // The negatives a fit over item_count items draws per batch (0: none, the
  // whole catalogue is scored).
  static Index negatives_for(const NeuralOptions& options, Index item_count);
  // NeuralOptions' one definition: make_model, params() and the CLI read it.
  static const OptionSchema<NeuralOptions>& option_schema();

  explicit NeuralModel(NeuralOptions options = {});

  std::string kind() const override { return kKind; }
  nlohmann::json params() const override;
  void fit(const Histories& rows, Index item_count, const FitContext& context = {}) override;
  Index item_count() const override { return input_.weight().rows(); }
  void score_batch(const Histories& histories, Matrix& scores) const override;
  // Logits = [h2, 1] . [W3 column, b3]: hidden + 1 dimensions.
  Index vector_dim() const override { return fitted() ? options_.hidden + 1 : 0; }
  Matrix item_vectors() const override;
  void query_vectors(const Histories& histories, Matrix& queries) const override;
  void save(io::ModelFile& file) const override;
  void load(io::ModelFile& file, const std::filesystem::path& path) override;

  const NeuralOptions& options() const { return options_; }
  const Matrix& input_weight() const { return input_.weight(); }
  const Matrix& input_bias() const { return input_.bias(); }
  const Sequential& head() const { return head_; }
  // The mean training loss of each epoch of the last fit.
  const std::vector<float>& epoch_losses() const { return final_losses_; }

 private:
  Sequential make_head(Index item_count) const;
  void train(const Histories& rows, Index item_count, int epochs, const FitContext& context,
             const std::function<bool(int)>& after_epoch);
  void require_memory_for_training(Index item_count, Index negatives) const;
  // The backend of the head, which the input layer shares.
  const Backend& kernels() const { return backend(head_.backend_kind()); }

  NeuralOptions options_;
  EmbeddingBag input_;  // h1 = relu(x W1 + b1): W1 [items x hidden], b1 [1 x hidden]
  Sequential head_;
  std::vector<float> final_losses_;  // mean training loss of each epoch
  EpochTuning epochs_;  // the epoch count, and the validation curve that chose it
};

}  // namespace aisle::rec
