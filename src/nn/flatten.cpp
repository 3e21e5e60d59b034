#include "aisle/nn/flatten.hpp"

namespace aisle {

void Flatten::forward_impl(const Backend&, ConstMatrixRef x, LayerState& state) const { state.output = x; }

void Flatten::backward_impl(const Backend&, ConstMatrixRef, LayerState& state, std::span<Matrix>,
                            const BackwardPlan& plan) const {
  if (plan.need_input_gradient) state.grad_input = state.grad_output;
}

}  // namespace aisle
