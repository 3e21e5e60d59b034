#pragma once

#include <algorithm>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "aisle/nn/dropout.hpp"
#include "aisle/nn/layer_norm.hpp"
#include "aisle/nn/positional_embedding.hpp"
#include "aisle/nn/transformer_block.hpp"

namespace aisle {

struct TransformerEncoderOptions {
  Index max_length = 0;    // positions it learns: the longest sequence
  Index dim = 0;
  Index blocks = 2;
  Index heads = 1;
  Index feed_forward = 0;  // each block's inner width; 0: dim
  float dropout = 0.0f;    // on the input and on each block's branches, in training
  bool causal = true;
};

// What one call of an encoder keeps for its backward; the caller's, one per
// thread.
struct TransformerEncoderState {
  Matrix input;       // x + P, after the input dropout in training
  Matrix input_mask;  // that dropout's mask (empty: none)
  std::vector<TransformerBlockState> blocks;
  LayerState final_norm;  // final_norm.output is the encoder's output
  Matrix grad_output;     // set by the caller before backward (consumed by it)
  Matrix grad_input;      // after backward: the gradient at x
  Matrix scratch;

  const Matrix& output() const { return final_norm.output; }
};

// A stack of pre-norm Transformer blocks over a batch of left-padded
// sequences (SequenceBatch), the container a sequence model is made of:
//   h = LayerNorm(Block_N(... Block_1(Dropout(x + P)) ...))
// where x holds one embedded row per slot (an Embedding's output, say), P
// the learned positions (PositionalEmbedding) and every block attends
// causally, padding masked out. Parameters, in order: P, each block's twelve
// (TransformerBlock), the final norm's gamma and beta. Forward and backward
// are const; the state is the caller's, so one encoder serves many threads.
class TransformerEncoder {
 public:
  explicit TransformerEncoder(TransformerEncoderOptions options);

  // Positions, blocks and the final norm drawn from rng, in that order.
  void build(Rng& rng);
  const TransformerEncoderOptions& options() const { return options_; }

  // rng null: inference (no dropout); otherwise training, the masks drawn
  // from it (the input's first, then each block's).
  void forward(const Backend& backend, ConstMatrixRef x, const SequenceBatch& batch, TransformerEncoderState& state,
               Rng* rng = nullptr) const;
  // From state.grad_output: the parameters' gradients into grads (the order
  // of parameters()) and the input's into state.grad_input.
  void backward(const Backend& backend, const SequenceBatch& batch, TransformerEncoderState& state,
                std::span<Matrix> grads) const;

  std::vector<Matrix*> parameters();
  std::vector<const Matrix*> parameters() const;
  // "positions", "block<k>.<the block's name>", "final_norm.gamma", ...
  std::vector<std::string> parameter_names() const;
  std::size_t parameter_count() const { return parameter_count(options_); }
  // What an encoder of these options holds, known before one is made (a
  // file's header is checked against its tensors without building blocks).
  static std::size_t parameter_count(const TransformerEncoderOptions& options) {
    return 3 + static_cast<std::size_t>(std::max<Index>(options.blocks, 0)) * TransformerBlock::kParameterCount;
  }
  nlohmann::json config() const;
  static TransformerEncoder from_config(const nlohmann::json& config);

 private:
  const Matrix& block_input(const TransformerEncoderState& state, std::size_t k) const {
    return k == 0 ? state.input : state.blocks[k - 1].output;
  }

  TransformerEncoderOptions options_;
  PositionalEmbedding positions_;
  Dropout input_dropout_;
  std::vector<TransformerBlock> blocks_;
  LayerNorm final_norm_;
};

}  // namespace aisle
