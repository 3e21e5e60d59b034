#include "aisle/nn/activation_layer.hpp"

namespace aisle {

void ActivationLayer::backward_impl(const Backend& backend, ConstMatrixRef, LayerState& state, std::span<Matrix>,
                                    const BackwardPlan& plan) const {
  if (!plan.need_input_gradient) return;
  if (plan.gradient_is_before_activation) {
    state.grad_input.swap(state.grad_output);  // grad_output is scratch: no copy
  } else {
    differentiate(backend, state.output, state.grad_output, state.grad_input, state.kernels);
  }
}

}  // namespace aisle
