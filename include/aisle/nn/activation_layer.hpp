#pragma once

#include "aisle/nn/layer.hpp"

namespace aisle {

// A layer that is only an element- or row-wise activation y = f(x): no
// parameters, output as wide as its input. Subclasses name the backend's
// forward and backward kernels; the layer plumbing lives here once, including
// the backward that a fused neighbour already did
// (BackwardPlan::gradient_is_before_activation), which
// hands the gradient on without a copy.
class ActivationLayer : public Layer {
 public:
  nlohmann::json config() const override { return {{"type", kind()}}; }

 private:
  // y = f(x), and dx = f'(x) dy from the output y.
  virtual void activate(const Backend& backend, ConstMatrixRef x, Matrix& y, KernelSlot& slot) const = 0;
  virtual void differentiate(const Backend& backend, ConstMatrixRef y, ConstMatrixRef dy, Matrix& dx,
                             KernelSlot& slot) const = 0;

  Index output_size_for(Index input_size) const final { return input_size; }
  void forward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state) const final {
    activate(backend, x, state.output, state.kernels);
  }
  void backward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                     const BackwardPlan& plan) const final;
};

}  // namespace aisle
