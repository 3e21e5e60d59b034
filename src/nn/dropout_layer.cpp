#include "aisle/nn/dropout_layer.hpp"

namespace aisle {

// The mask lives in the state's pre_activation: empty after an inference
// forward, so that backward knows which forward it follows.
void DropoutLayer::forward_impl(const Backend&, ConstMatrixRef x, LayerState& state) const {
  if (state.training_rng == nullptr || dropout_.rate() == 0.0f) {
    state.pre_activation.resize(0, 0);
    state.output = x;
    return;
  }
  dropout_.forward_training(x, *state.training_rng, state.pre_activation, state.output);
}

void DropoutLayer::backward_impl(const Backend&, ConstMatrixRef, LayerState& state, std::span<Matrix>,
                                 const BackwardPlan& plan) const {
  if (!plan.need_input_gradient) return;
  if (state.pre_activation.size() == 0) {
    state.grad_input = state.grad_output;
  } else {
    Dropout::backward(state.pre_activation, state.grad_output, state.grad_input);
  }
}

}  // namespace aisle
