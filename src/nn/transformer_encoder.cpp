#include "aisle/nn/transformer_encoder.hpp"

#include "aisle/core/error.hpp"

namespace aisle {

TransformerEncoder::TransformerEncoder(TransformerEncoderOptions options)
    : options_(options), input_dropout_(options.dropout) {
  if (options_.max_length <= 0 || options_.dim <= 0 || options_.blocks <= 0)
    throw Error("TransformerEncoder: max_length, dim and blocks must be positive");
  for (Index k = 0; k < options_.blocks; ++k)
    blocks_.emplace_back(TransformerBlockOptions{.dim = options_.dim,
                                                 .heads = options_.heads,
                                                 .feed_forward = options_.feed_forward,
                                                 .dropout = options_.dropout,
                                                 .causal = options_.causal});
}

void TransformerEncoder::build(Rng& rng) {
  positions_ = PositionalEmbedding({.max_length = options_.max_length, .dim = options_.dim}, rng);
  for (auto& block : blocks_) block.build(rng);
  final_norm_ = LayerNorm();
  final_norm_.build(options_.dim, rng);
}

void TransformerEncoder::forward(const Backend& backend, ConstMatrixRef x, const SequenceBatch& batch,
                                 TransformerEncoderState& state, Rng* rng) const {
  state.input = x;
  positions_.forward(batch, state.input);
  if (rng != nullptr && input_dropout_.rate() > 0) {
    input_dropout_.forward_training(state.input, *rng, state.input_mask, state.scratch);
    state.input.swap(state.scratch);
  } else {
    state.input_mask.resize(0, 0);
  }
  state.blocks.resize(blocks_.size());
  for (std::size_t k = 0; k < blocks_.size(); ++k)
    blocks_[k].forward(backend, block_input(state, k), batch, state.blocks[k], rng);
  final_norm_.forward(backend, state.blocks.back().output, state.final_norm);
}

void TransformerEncoder::backward(const Backend& backend, const SequenceBatch& batch, TransformerEncoderState& state,
                                  std::span<Matrix> grads) const {
  if (grads.size() != parameter_count())
    throw Error("TransformerEncoder: backward needs " + std::to_string(parameter_count()) +
                " gradient tensors, got " + std::to_string(grads.size()));
  if (state.blocks.size() != blocks_.size() || state.grad_output.rows() != state.input.rows() ||
      state.grad_output.cols() != options_.dim)
    throw Error("TransformerEncoder: output gradient of shape " + shape_string(state.grad_output) +
                " for a forward of " + std::to_string(state.input.rows()) + " rows of width " +
                std::to_string(options_.dim));
  state.final_norm.grad_output.swap(state.grad_output);
  final_norm_.backward(backend, state.blocks.back().output, state.final_norm, grads.subspan(grads.size() - 2, 2));
  const Matrix* grad_above = &state.final_norm.grad_input;
  for (std::size_t k = blocks_.size(); k-- > 0;) {
    state.blocks[k].grad_output = *grad_above;
    blocks_[k].backward(backend, block_input(state, k), batch, state.blocks[k],
                        grads.subspan(1 + k * TransformerBlock::kParameterCount, TransformerBlock::kParameterCount));
    grad_above = &state.blocks[k].grad_input;
  }
  state.grad_input = *grad_above;
  if (state.input_mask.size() != 0) Dropout::backward(state.input_mask, state.grad_input, state.grad_input);
  positions_.backward(batch, state.grad_input, grads[0]);
}

std::vector<Matrix*> TransformerEncoder::parameters() {
  std::vector<Matrix*> out{&positions_.table()};
  for (auto& block : blocks_)
    for (Matrix* p : block.parameters()) out.push_back(p);
  for (Matrix& p : final_norm_.parameters()) out.push_back(&p);
  return out;
}

std::vector<const Matrix*> TransformerEncoder::parameters() const {
  auto mutable_params = const_cast<TransformerEncoder*>(this)->parameters();
  return {mutable_params.begin(), mutable_params.end()};
}

std::vector<std::string> TransformerEncoder::parameter_names() const {
  std::vector<std::string> names{"positions"};
  for (std::size_t k = 0; k < blocks_.size(); ++k)
    for (const auto& name : blocks_[k].parameter_names()) names.push_back("block" + std::to_string(k) + "." + name);
  for (const auto& name : final_norm_.parameter_names()) names.push_back("final_norm." + name);
  return names;
}

nlohmann::json TransformerEncoder::config() const {
  return {{"type", "transformer_encoder"}, {"max_length", options_.max_length}, {"dim", options_.dim},
          {"blocks", options_.blocks},     {"heads", options_.heads},           {"feed_forward", options_.feed_forward},
          {"dropout", options_.dropout},   {"causal", options_.causal}};
}

TransformerEncoder TransformerEncoder::from_config(const nlohmann::json& config) {
  return TransformerEncoder({.max_length = config.at("max_length").get<Index>(),
                             .dim = config.at("dim").get<Index>(),
                             .blocks = config.value("blocks", Index{2}),
                             .heads = config.value("heads", Index{1}),
                             .feed_forward = config.value("feed_forward", Index{0}),
                             .dropout = config.value("dropout", 0.0f),
                             .causal = config.value("causal", true)});
}

}  // namespace aisle
