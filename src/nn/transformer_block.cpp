#include "aisle/nn/transformer_block.hpp"

#include "aisle/core/error.hpp"

namespace aisle {
namespace {

// Where each part's gradients start in the block's parameter order.
constexpr std::size_t kNorm1 = 0, kAttention = 2, kNorm2 = 6, kInner = 8, kOuter = 10;

// The dropout of a branch in training, or the branch itself.
const Matrix& dropped(const Dropout& dropout, const Matrix& branch, Rng* rng, Matrix& mask, Matrix& scratch) {
  if (rng == nullptr || dropout.rate() == 0.0f) {
    mask.resize(0, 0);
    return branch;
  }
  dropout.forward_training(branch, *rng, mask, scratch);
  return scratch;
}

// The gradient through a branch's dropout, in place.
void undrop(const Matrix& mask, Matrix& grad) {
  if (mask.size() != 0) Dropout::backward(mask, grad, grad);
}

}  // namespace

TransformerBlock::TransformerBlock(TransformerBlockOptions options)
    : options_(options),
      attention_({.dim = options.dim, .heads = options.heads, .causal = options.causal}),
      inner_(DenseOptions{.units = options.feed_forward > 0 ? options.feed_forward : options.dim,
                          .input_size = options.dim}),
      outer_(DenseOptions{.units = options.dim}),
      dropout_(options.dropout) {
  if (options_.feed_forward < 0) throw Error("TransformerBlock: feed_forward must not be negative");
}

void TransformerBlock::build(Rng& rng) {
  norm1_.build(options_.dim, rng);
  attention_.build(rng);
  norm2_.build(options_.dim, rng);
  inner_.build(options_.dim, rng);
  activation_.build(feed_forward_width(), rng);
  outer_.build(feed_forward_width(), rng);
}

void TransformerBlock::forward(const Backend& backend, ConstMatrixRef x, const SequenceBatch& batch,
                               TransformerBlockState& state, Rng* rng) const {
  norm1_.forward(backend, x, state.norm1);
  attention_.forward(backend, state.norm1.output, batch, state.attention);
  state.middle = x + dropped(dropout_, state.attention.output, rng, state.attention_mask, state.grad_branch);
  norm2_.forward(backend, state.middle, state.norm2);
  inner_.forward(backend, state.norm2.output, state.inner);
  activation_.forward(backend, state.inner.output, state.activation);
  outer_.forward(backend, state.activation.output, state.outer);
  state.output = state.middle + dropped(dropout_, state.outer.output, rng, state.feed_forward_mask, state.grad_branch);
}

void TransformerBlock::backward(const Backend& backend, ConstMatrixRef x, const SequenceBatch& batch,
                                TransformerBlockState& state, std::span<Matrix> grads) const {
  if (grads.size() != kParameterCount)
    throw Error("TransformerBlock: backward needs " + std::to_string(kParameterCount) + " gradient tensors, got " +
                std::to_string(grads.size()));
  if (state.grad_output.rows() != x.rows() || state.grad_output.cols() != options_.dim)
    throw Error("TransformerBlock: output gradient of shape " + shape_string(state.grad_output) + ", expected " +
                shape_string(x.rows(), options_.dim));
  // The feed-forward branch, from the output back to the middle.
  state.outer.grad_output = state.grad_output;
  undrop(state.feed_forward_mask, state.outer.grad_output);
  outer_.backward(backend, state.activation.output, state.outer, grads.subspan(kOuter, 2));
  state.activation.grad_output.swap(state.outer.grad_input);
  activation_.backward(backend, state.inner.output, state.activation, {});
  state.inner.grad_output.swap(state.activation.grad_input);
  inner_.backward(backend, state.norm2.output, state.inner, grads.subspan(kInner, 2));
  state.norm2.grad_output.swap(state.inner.grad_input);
  norm2_.backward(backend, state.middle, state.norm2, grads.subspan(kNorm2, 2));
  state.grad_branch = state.grad_output + state.norm2.grad_input;  // at the middle: residual + branch
  // The attention branch, from the middle back to the input.
  state.attention.grad_output = state.grad_branch;
  undrop(state.attention_mask, state.attention.grad_output);
  attention_.backward(backend, state.norm1.output, batch, state.attention, grads.subspan(kAttention, 4));
  state.norm1.grad_output.swap(state.attention.grad_input);
  norm1_.backward(backend, x, state.norm1, grads.subspan(kNorm1, 2));
  state.grad_input = state.grad_branch + state.norm1.grad_input;
}

std::vector<Matrix*> TransformerBlock::parameters() {
  std::vector<Matrix*> out;
  for (Matrix& m : norm1_.parameters()) out.push_back(&m);
  for (Matrix& m : attention_.parameters()) out.push_back(&m);
  for (Matrix& m : norm2_.parameters()) out.push_back(&m);
  for (Matrix& m : inner_.parameters()) out.push_back(&m);
  for (Matrix& m : outer_.parameters()) out.push_back(&m);
  return out;
}

std::vector<const Matrix*> TransformerBlock::parameters() const {
  auto mutable_params = const_cast<TransformerBlock*>(this)->parameters();
  return {mutable_params.begin(), mutable_params.end()};
}

std::vector<std::string> TransformerBlock::parameter_names() const {
  std::vector<std::string> names;
  const auto add = [&](const std::string& prefix, const std::vector<std::string>& parts) {
    for (const auto& part : parts) names.push_back(prefix + "." + part);
  };
  add("norm1", norm1_.parameter_names());
  add("attention", attention_.parameter_names());
  add("norm2", norm2_.parameter_names());
  add("inner", inner_.parameter_names());
  add("outer", outer_.parameter_names());
  return names;
}

nlohmann::json TransformerBlock::config() const {
  return {{"type", "transformer_block"},   {"dim", options_.dim},         {"heads", options_.heads},
          {"feed_forward", feed_forward_width()}, {"dropout", options_.dropout}, {"causal", options_.causal}};
}

TransformerBlock TransformerBlock::from_config(const nlohmann::json& config) {
  return TransformerBlock({.dim = config.at("dim").get<Index>(),
                           .heads = config.value("heads", Index{1}),
                           .feed_forward = config.value("feed_forward", Index{0}),
                           .dropout = config.value("dropout", 0.0f),
                           .causal = config.value("causal", true)});
}

}  // namespace aisle
