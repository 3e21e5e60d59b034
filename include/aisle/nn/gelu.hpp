#pragma once

#include "aisle/nn/layer.hpp"

namespace aisle {

// How GELU's Gaussian CDF is computed.
enum class GeluApproximation {
  none,  // exact: x Phi(x) = x (1 + erf(x / sqrt 2)) / 2 (PyTorch's default)
  tanh,  // x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2 (BERT's, GPT-2's)
};

// The Gaussian error linear unit, element-wise: the Transformer
// feed-forward's activation. Its derivative needs the input, not only the
// output, so it is a layer of its own rather than an ActivationLayer.
class GELU final : public Layer {
 public:
  explicit GELU(GeluApproximation approximation = GeluApproximation::none) : approximation_(approximation) {}

  std::string kind() const override { return "gelu"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<GELU>(*this); }
  nlohmann::json config() const override;
  static GELU from_config(const nlohmann::json& config);
  GeluApproximation approximation() const { return approximation_; }

 private:
  Index output_size_for(Index input_size) const override { return input_size; }
  void forward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state) const override;
  void backward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                     const BackwardPlan& plan) const override;

  GeluApproximation approximation_;
};

}  // namespace aisle
