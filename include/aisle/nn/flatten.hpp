#pragma once

#include "aisle/nn/layer.hpp"

namespace aisle {

// Images to vectors between the convolutional part and the dense part. Rows
// already hold each image as one flat HWC vector, so Flatten only marks the
// boundary in a model's description: its output is its input.
class Flatten final : public Layer {
 public:
  std::string kind() const override { return "flatten"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Flatten>(*this); }
  nlohmann::json config() const override { return {{"type", kind()}}; }

 private:
  Index output_size_for(Index input_size) const override { return input_size; }
  void forward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state) const override;
  void backward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                     const BackwardPlan& plan) const override;
};

}  // namespace aisle
