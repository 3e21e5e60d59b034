#pragma once

#include <vector>

#include "aisle/backend/backend.hpp"
#include "aisle/core/random.hpp"
#include "aisle/core/tensor.hpp"

namespace aisle {

// What one layer keeps for one call: its output, what backward needs, and
// its kernel cache. Owned by a Workspace, never by the layer.
struct LayerState {
  Matrix output;          // the layer's output
  Matrix pre_activation;  // Dense with softmax: the logits before softmax
  Matrix grad_output;     // scratch: the gradient at this layer's output or pre-activation
  Matrix grad_input;      // the gradient at this layer's input (after backward)
  KernelSlot kernels;
  // Training: the generator random layers (dropout) draw from; null in
  // inference, where they are the identity. Set by Sequential's training step.
  Rng* training_rng = nullptr;
};

// Per-call buffers of a Sequential model. Make one per thread (or per
// request); reusing it across calls of the same batch size allocates nothing.
class Workspace {
 public:
  Workspace() = default;
  explicit Workspace(std::size_t layer_count) : layers(layer_count) {}

  // The model output of the last forward call.
  const Matrix& output() const { return layers.back().output; }
  // d(loss)/d(input) of the last backward call that asked for it.
  const Matrix& input_gradient() const { return layers.front().grad_input; }

  std::vector<LayerState> layers;
  // The input of the last forward call; it must outlive the backward call.
  const float* input_data = nullptr;
  Index input_rows = 0;
  Index input_cols = 0;
  Index input_stride = 0;

  Eigen::Map<const Matrix, 0, Eigen::OuterStride<>> input() const {
    return {input_data, input_rows, input_cols, Eigen::OuterStride<>(input_stride)};
  }
};

}  // namespace aisle
