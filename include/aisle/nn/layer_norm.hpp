#pragma once

#include "aisle/nn/layer.hpp"

namespace aisle {

struct LayerNormOptions {
  float epsilon = 1e-5f;  // added to each row's variance (PyTorch's default)
};

// Normalises each row over its features, then scales and shifts it:
//   y = (x - mean(x)) / sqrt(var(x) + epsilon) * gamma + beta,
// the variance the biased one (divided by the width), gamma [1 x width]
// starting at 1 and beta at 0. The pre-norm Transformer block's
// normalisation; each row (a token, an example) is independent.
class LayerNorm final : public Layer {
 public:
  explicit LayerNorm(LayerNormOptions options = {});

  std::string kind() const override { return "layer_norm"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<LayerNorm>(*this); }
  std::vector<std::string> parameter_names() const override { return {"gamma", "beta"}; }
  nlohmann::json config() const override;
  static LayerNorm from_config(const nlohmann::json& config);
  const LayerNormOptions& options() const { return options_; }

 private:
  Index output_size_for(Index input_size) const override { return input_size; }
  void init_parameters(Rng& rng) override;
  void forward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state) const override;
  void backward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                     const BackwardPlan& plan) const override;
  // x_hat = (x - mean) / sqrt(var + epsilon) of each row, and each row's
  // 1 / sqrt(var + epsilon).
  void normalise(ConstMatrixRef x, Matrix& x_hat, std::vector<float>& inverse_std) const;

  LayerNormOptions options_;
};

}  // namespace aisle
