#include "aisle/nn/activation_layer.hpp"

namespace aisle {

void ActivationLayer::backward_impl(const Backend& backend, ConstMatrixRef, LayerState& state, std::span<Matrix>,
                                    bool need_input_gradient, bool skip_activation, const Matrix*) const {
  if (!need_input_gradient) return;
  if (skip_activation) {
    state.grad_input.swap(state.grad_output);  // grad_output is scratch: no copy
  } else {
    differentiate(backend, state.output, state.grad_output, state.grad_input, state.kernels);
  }
}

}  // namespace aisle
