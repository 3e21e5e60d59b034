#pragma once

// Dropout as a layer of a Sequential model: in training (a LayerState with a
// training_rng, which Sequential's training step sets) each value is zeroed
// with chance `rate` and the others scaled by 1 / (1 - rate); in inference
// it is the identity. The mask is drawn from the model's training generator,
// so the same seed gives the same model.

#include "aisle/nn/dropout.hpp"
#include "aisle/nn/layer.hpp"

namespace aisle {

class DropoutLayer final : public Layer {
 public:
  // Throws aisle::Error unless 0 <= rate < 1.
  explicit DropoutLayer(float rate = 0.5f) : dropout_(rate) {}

  std::string kind() const override { return "dropout"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<DropoutLayer>(*this); }
  nlohmann::json config() const override { return {{"type", kind()}, {"rate", dropout_.rate()}}; }
  static DropoutLayer from_config(const nlohmann::json& config) { return DropoutLayer(config.at("rate").get<float>()); }
  float rate() const { return dropout_.rate(); }

 private:
  Index output_size_for(Index input_size) const override { return input_size; }
  void forward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state) const override;
  void backward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                     const BackwardPlan& plan) const override;

  Dropout dropout_;
};

}  // namespace aisle
