#pragma once

#include "aisle/nn/activation_layer.hpp"

namespace aisle {

// y = max(x, 0), element-wise.
class ReLU final : public ActivationLayer {
 public:
  std::string kind() const override { return "relu"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<ReLU>(*this); }
  LayerFusion fusion() const override { return {.output_is_relu = true}; }

 private:
  void activate(const Backend& backend, ConstMatrixRef x, Matrix& y, KernelSlot& slot) const override {
    backend.relu_forward(x, y, slot);
  }
  void differentiate(const Backend& backend, ConstMatrixRef y, ConstMatrixRef dy, Matrix& dx,
                     KernelSlot& slot) const override {
    backend.relu_backward(y, dy, dx, slot);
  }
};

}  // namespace aisle
