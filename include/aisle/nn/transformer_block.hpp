#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "aisle/nn/dense.hpp"
#include "aisle/nn/dropout.hpp"
#include "aisle/nn/gelu.hpp"
#include "aisle/nn/layer_norm.hpp"
#include "aisle/nn/self_attention.hpp"

namespace aisle {

struct TransformerBlockOptions {
  Index dim = 0;
  Index heads = 1;
  Index feed_forward = 0;  // the feed-forward's inner width; 0: dim
  float dropout = 0.0f;    // on each branch's output, in training
  bool causal = true;
};

// What one call of a block keeps for its backward; the caller's, one per
// thread.
struct TransformerBlockState {
  LayerState norm1, norm2, inner, activation, outer;
  SelfAttentionState attention;
  Matrix attention_mask, feed_forward_mask;  // the dropout masks of a training call
  Matrix middle;                             // x + the attention branch
  Matrix output;
  Matrix grad_output;  // set by the caller before backward
  Matrix grad_input;   // after backward
  Matrix grad_branch;  // scratch
};

// A pre-norm Transformer block over a batch of sequences:
//   m = x + Dropout(Attention(LayerNorm1(x)))
//   y = m + Dropout(Dense2(GELU(Dense1(LayerNorm2(m)))))
// Parameters, in order: LayerNorm1 (gamma, beta), the attention's four,
// LayerNorm2 (gamma, beta), Dense1 (weight, bias), Dense2 (weight, bias).
class TransformerBlock {
 public:
  explicit TransformerBlock(TransformerBlockOptions options);

  void build(Rng& rng);
  const TransformerBlockOptions& options() const { return options_; }

  // rng null: inference (no dropout); otherwise training, the dropout masks
  // drawn from it.
  void forward(const Backend& backend, ConstMatrixRef x, const SequenceBatch& batch, TransformerBlockState& state,
               Rng* rng = nullptr) const;
  // From state.grad_output: the parameters' gradients into grads (the order
  // of parameters()) and state.grad_input.
  void backward(const Backend& backend, ConstMatrixRef x, const SequenceBatch& batch, TransformerBlockState& state,
                std::span<Matrix> grads) const;

  std::vector<Matrix*> parameters();
  std::vector<const Matrix*> parameters() const;
  std::vector<std::string> parameter_names() const;
  static constexpr std::size_t kParameterCount = 12;
  std::size_t parameter_count() const { return kParameterCount; }
  nlohmann::json config() const;
  static TransformerBlock from_config(const nlohmann::json& config);

 private:
  Index feed_forward_width() const { return options_.feed_forward > 0 ? options_.feed_forward : options_.dim; }

  TransformerBlockOptions options_;
  LayerNorm norm1_, norm2_;
  MultiHeadSelfAttention attention_;
  Dense inner_, outer_;
  GELU activation_;
  Dropout dropout_;
};

}  // namespace aisle
