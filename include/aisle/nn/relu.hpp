#pragma once

#include "aisle/nn/layer.hpp"

namespace aisle {

// y = max(x, 0), element-wise.
class ReLU final : public Layer {
 public:
  std::string kind() const override { return "relu"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<ReLU>(*this); }
  nlohmann::json config() const override { return {{"type", kind()}}; }
  bool ends_with_relu() const override { return true; }

 private:
  Index output_size_for(Index input_size) const override { return input_size; }
  void forward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state) const override;
  void backward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                     bool need_input_gradient, bool skip_activation, const Matrix* input_relu_mask) const override;
};

}  // namespace aisle
