#pragma once

#include "aisle/nn/layer.hpp"

namespace aisle {

// Row-wise softmax. Followed by a cross-entropy loss, the model fuses the two
// and starts backward from the logits, which stays finite for any input.
class Softmax final : public Layer {
 public:
  std::string kind() const override { return "softmax"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Softmax>(*this); }
  bool ends_with_softmax() const override { return true; }
  nlohmann::json config() const override { return {{"type", kind()}}; }

 private:
  Index output_size_for(Index input_size) const override { return input_size; }
  void forward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state) const override;
  void backward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                     bool need_input_gradient, bool skip_activation, const Matrix* input_relu_mask) const override;
};

}  // namespace aisle
