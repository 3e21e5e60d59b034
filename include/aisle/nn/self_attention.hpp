#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "aisle/backend/backend.hpp"
#include "aisle/core/random.hpp"
#include "aisle/core/tensor.hpp"

namespace aisle {

struct SelfAttentionOptions {
  Index dim = 0;       // the width of each position's vector; a multiple of heads
  Index heads = 1;     // each head attends over dim / heads of it
  bool causal = true;  // a position attends only to itself and earlier ones
};

// A batch of sequences laid out for attention: `length` consecutive rows of
// x per sequence, and which rows hold an item (1) and which padding (0).
struct SequenceBatch {
  Index length = 0;
  std::span<const std::uint8_t> valid;  // one per row of x
};

// What one call keeps for its backward: the projections, each head's
// attention weights, the heads' outputs, and the kernels' state. Owned by
// the caller (one per thread), never by the layer.
struct SelfAttentionState {
  Matrix qkv;          // [rows x 3 dim]: queries, keys, values side by side
  Matrix weights;      // [sequences * heads * length x length]: each query's softmax over the keys
  Matrix context;      // [rows x dim]: the heads' weighted values, side by side
  Matrix output;       // [rows x dim]
  Matrix grad_output;  // set by the caller before backward
  Matrix grad_input;   // after backward
  Matrix grad_context, grad_qkv;  // scratch
  KernelSlot projection_kernels, output_kernels;
};

// Multi-head scaled dot-product self-attention over each sequence of a
// batch, with padding masked out as keys (and a padded query attending to
// nothing: its heads' output is 0) and, when causal, the future too:
//   Q, K, V = x Wq + bq, x Wk + bk, x Wv + bv   (one product, W_qkv [dim x 3 dim])
//   head h: softmax(Q_h K_h^T / sqrt(dim / heads) + mask) V_h
//   y = concat(heads) Wo + bo.
// Parameters W_qkv, b_qkv, Wo, bo; forward and backward are const, the
// state is the caller's: one layer serves many threads.
class MultiHeadSelfAttention {
 public:
  explicit MultiHeadSelfAttention(SelfAttentionOptions options);

  // Glorot-uniform projections from rng, zero biases.
  void build(Rng& rng);
  const SelfAttentionOptions& options() const { return options_; }

  void forward(const Backend& backend, ConstMatrixRef x, const SequenceBatch& batch, SelfAttentionState& state) const;
  // From state.grad_output: the parameters' gradients into grads (the order
  // of parameters()) and, when need_input_gradient, state.grad_input.
  void backward(const Backend& backend, ConstMatrixRef x, const SequenceBatch& batch, SelfAttentionState& state,
                std::span<Matrix> grads, bool need_input_gradient = true) const;

  std::span<Matrix> parameters() { return params_; }
  std::span<const Matrix> parameters() const { return params_; }
  std::vector<std::string> parameter_names() const { return {"qkv_weight", "qkv_bias", "out_weight", "out_bias"}; }
  nlohmann::json config() const;
  static MultiHeadSelfAttention from_config(const nlohmann::json& config);

 private:
  void check(ConstMatrixRef x, const SequenceBatch& batch) const;
  Index head_dim() const { return options_.dim / options_.heads; }
  // Whether key j is visible from query i of a sequence starting at row `first`.
  bool visible(const SequenceBatch& batch, Index first, Index i, Index j) const;
  void attend(const SequenceBatch& batch, Index sequence, Index head, SelfAttentionState& state) const;
  void attend_backward(const SequenceBatch& batch, Index sequence, Index head, SelfAttentionState& state,
                       Matrix& grad_scores) const;

  SelfAttentionOptions options_;
  std::vector<Matrix> params_;
};

}  // namespace aisle
