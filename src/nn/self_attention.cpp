#include "aisle/nn/self_attention.hpp"

#include <cmath>
#include <limits>

#include "aisle/core/error.hpp"
#include "aisle/nn/dense.hpp"
#include "core/parallel_for.hpp"

namespace aisle {
namespace {

enum Parameter : std::size_t { kQkvWeight, kQkvBias, kOutWeight, kOutBias };

// Below this many score entries a batch's heads run on the calling thread.
constexpr Index kParallelScores = 1 << 14;

}  // namespace

MultiHeadSelfAttention::MultiHeadSelfAttention(SelfAttentionOptions options) : options_(options) {
  if (options_.dim <= 0 || options_.heads <= 0 || options_.dim % options_.heads != 0)
    throw Error("MultiHeadSelfAttention: dim must be a positive multiple of heads, got dim " +
                std::to_string(options_.dim) + " and " + std::to_string(options_.heads) + " heads");
}

void MultiHeadSelfAttention::build(Rng& rng) {
  const Index d = options_.dim;
  params_.assign(4, Matrix());
  params_[kQkvWeight].resize(d, 3 * d);
  // Each of Q, K, V initialised as its own [d x d] layer would be.
  for (Index part = 0; part < 3; ++part) {
    Matrix w(d, d);
    initialise_weights(w, Init::glorot_uniform, rng);
    params_[kQkvWeight].middleCols(part * d, d) = w;
  }
  params_[kQkvBias] = Matrix::Zero(1, 3 * d);
  params_[kOutWeight].resize(d, d);
  initialise_weights(params_[kOutWeight], Init::glorot_uniform, rng);
  params_[kOutBias] = Matrix::Zero(1, d);
}

nlohmann::json MultiHeadSelfAttention::config() const {
  return {{"type", "self_attention"}, {"dim", options_.dim}, {"heads", options_.heads}, {"causal", options_.causal}};
}

MultiHeadSelfAttention MultiHeadSelfAttention::from_config(const nlohmann::json& config) {
  return MultiHeadSelfAttention({.dim = config.at("dim").get<Index>(),
                                 .heads = config.value("heads", Index{1}),
                                 .causal = config.value("causal", true)});
}

void MultiHeadSelfAttention::check(ConstMatrixRef x, const SequenceBatch& batch) const {
  if (params_.size() != 4) throw Error("MultiHeadSelfAttention: forward before build");
  if (x.cols() != options_.dim)
    throw Error("MultiHeadSelfAttention: input of shape " + shape_string(x) + ", expected [rows x " +
                std::to_string(options_.dim) + "]");
  if (batch.length <= 0 || x.rows() % batch.length != 0)
    throw Error("MultiHeadSelfAttention: " + std::to_string(x.rows()) + " rows are not whole sequences of length " +
                std::to_string(batch.length));
  if (static_cast<Index>(batch.valid.size()) != x.rows())
    throw Error("MultiHeadSelfAttention: " + std::to_string(batch.valid.size()) + " validity flags for " +
                std::to_string(x.rows()) + " rows");
}

bool MultiHeadSelfAttention::visible(const SequenceBatch& batch, Index first, Index i, Index j) const {
  if (options_.causal && j > i) return false;
  return batch.valid[static_cast<std::size_t>(first + i)] != 0 && batch.valid[static_cast<std::size_t>(first + j)] != 0;
}

// One head of one sequence: its scores, their softmax over the visible keys
// (a query that sees none gets all-zero weights) and the weighted values.
void MultiHeadSelfAttention::attend(const SequenceBatch& batch, Index sequence, Index head,
                                    SelfAttentionState& state) const {
  const Index t = batch.length, dh = head_dim(), d = options_.dim, first = sequence * t;
  const auto q = state.qkv.block(first, head * dh, t, dh);
  const auto k = state.qkv.block(first, d + head * dh, t, dh);
  const auto v = state.qkv.block(first, 2 * d + head * dh, t, dh);
  auto weights = state.weights.middleRows((sequence * options_.heads + head) * t, t);
  weights.noalias() = q * k.transpose();
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  for (Index i = 0; i < t; ++i) {
    float top = -std::numeric_limits<float>::infinity();
    for (Index j = 0; j < t; ++j)
      if (visible(batch, first, i, j)) top = std::max(top, weights(i, j) * scale);
    float total = 0;
    for (Index j = 0; j < t; ++j) {
      const float e = visible(batch, first, i, j) ? std::exp(weights(i, j) * scale - top) : 0.0f;
      weights(i, j) = e;
      total += e;
    }
    if (total > 0) weights.row(i) /= total;
  }
  state.context.block(first, head * dh, t, dh).noalias() = weights * v;
}

void MultiHeadSelfAttention::forward(const Backend& backend, ConstMatrixRef x, const SequenceBatch& batch,
                                     SelfAttentionState& state) const {
  check(x, batch);
  const Index t = batch.length, sequences = x.rows() / t;
  backend.dense_forward(x, params_[kQkvWeight], params_[kQkvBias], Activation::none, state.qkv,
                        state.projection_kernels);
  state.weights.resize(sequences * options_.heads * t, t);
  state.context.resize(x.rows(), options_.dim);
  const Index pairs = sequences * options_.heads;
  detail::parallel_for(pairs, {.parallel = pairs * t * t >= kParallelScores}, [&](Index p) {
    attend(batch, p / options_.heads, p % options_.heads, state);
  });
  backend.dense_forward(state.context, params_[kOutWeight], params_[kOutBias], Activation::none, state.output,
                        state.output_kernels);
}

// With P the weights, dC the gradient at the head's output:
//   dV = P^T dC, dP = dC V^T, dS = P * (dP - rowsum(dP * P)) / sqrt(dh),
//   dQ = dS K, dK = dS^T Q. Masked entries have P = 0, hence dS = 0.
void MultiHeadSelfAttention::attend_backward(const SequenceBatch& batch, Index sequence, Index head,
                                             SelfAttentionState& state, Matrix& grad_scores) const {
  const Index t = batch.length, dh = head_dim(), d = options_.dim, first = sequence * t;
  const auto q = state.qkv.block(first, head * dh, t, dh);
  const auto k = state.qkv.block(first, d + head * dh, t, dh);
  const auto v = state.qkv.block(first, 2 * d + head * dh, t, dh);
  const auto weights = state.weights.middleRows((sequence * options_.heads + head) * t, t);
  const auto grad_context = state.grad_context.block(first, head * dh, t, dh);
  state.grad_qkv.block(first, 2 * d + head * dh, t, dh).noalias() = weights.transpose() * grad_context;
  grad_scores.noalias() = grad_context * v.transpose();  // dP, then dS in place
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  for (Index i = 0; i < t; ++i) {
    const float dot = weights.row(i).dot(grad_scores.row(i));
    grad_scores.row(i) = (weights.row(i).array() * (grad_scores.row(i).array() - dot) * scale).matrix();
  }
  state.grad_qkv.block(first, head * dh, t, dh).noalias() = grad_scores * k;
  state.grad_qkv.block(first, d + head * dh, t, dh).noalias() = grad_scores.transpose() * q;
}

void MultiHeadSelfAttention::backward(const Backend& backend, ConstMatrixRef x, const SequenceBatch& batch,
                                      SelfAttentionState& state, std::span<Matrix> grads,
                                      bool need_input_gradient) const {
  check(x, batch);
  if (grads.size() != 4) throw Error("MultiHeadSelfAttention: backward needs 4 gradient tensors");
  if (state.grad_output.rows() != x.rows() || state.grad_output.cols() != options_.dim)
    throw Error("MultiHeadSelfAttention: output gradient of shape " + shape_string(state.grad_output) +
                ", expected " + shape_string(x.rows(), options_.dim));
  backend.dense_backward(state.context, params_[kOutWeight], state.grad_output, grads[kOutWeight], grads[kOutBias],
                         &state.grad_context, /*mask_dx_with_relu_of_x=*/false, state.output_kernels);
  const Index t = batch.length, sequences = x.rows() / t, pairs = sequences * options_.heads;
  state.grad_qkv.resize(x.rows(), 3 * options_.dim);
  detail::parallel_for_with_state(
      pairs, {.parallel = pairs * t * t >= kParallelScores}, [t] { return Matrix(t, t); },
      [&](Matrix& grad_scores, Index p) {
        attend_backward(batch, p / options_.heads, p % options_.heads, state, grad_scores);
      });
  backend.dense_backward(x, params_[kQkvWeight], state.grad_qkv, grads[kQkvWeight], grads[kQkvBias],
                         need_input_gradient ? &state.grad_input : nullptr, /*mask_dx_with_relu_of_x=*/false,
                         state.projection_kernels);
}

}  // namespace aisle
