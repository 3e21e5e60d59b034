#include "aisle/nn/relu.hpp"

namespace aisle {

void ReLU::forward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state) const {
  backend.relu_forward(x, state.output, state.kernels);
}

void ReLU::backward_impl(const Backend& backend, ConstMatrixRef, LayerState& state, std::span<Matrix>,
                         bool need_input_gradient, bool skip_activation, const Matrix*) const {
  if (!need_input_gradient) return;
  if (skip_activation) {
    state.grad_input.swap(state.grad_output);  // grad_output is scratch: no copy
  } else {
    backend.relu_backward(state.output, state.grad_output, state.grad_input, state.kernels);
  }
}

}  // namespace aisle
