#pragma once

#include "aisle/nn/activation_layer.hpp"

namespace aisle {

// Row-wise softmax. Followed by a cross-entropy loss, the model fuses the two
// and starts backward from the logits, which stays finite for any input.
class Softmax final : public ActivationLayer {
 public:
  std::string kind() const override { return "softmax"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Softmax>(*this); }
  LayerFusion fusion() const override { return {.softmax_logits = LayerFusion::SoftmaxLogits::input}; }

 private:
  void activate(const Backend& backend, ConstMatrixRef x, Matrix& y, KernelSlot& slot) const override {
    backend.softmax_forward(x, y, slot);
  }
  void differentiate(const Backend& backend, ConstMatrixRef y, ConstMatrixRef dy, Matrix& dx,
                     KernelSlot& slot) const override {
    backend.softmax_backward(y, dy, dx, slot);
  }
};

}  // namespace aisle
