#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "aisle/core/registry.hpp"
#include "aisle/backend/backend.hpp"
#include "aisle/core/random.hpp"
#include "aisle/core/tensor.hpp"
#include "aisle/nn/workspace.hpp"

namespace aisle {

// What a layer offers its neighbours' backward passes. Sequential reads it to
// plan each backward (Sequential::backward_plan); a layer that declares
// nothing, the default, is differentiated on its own and is always correct.
struct LayerFusion {
  // Where the logits of a softmax output are, when the output is one: a loss
  // that fuses with softmax (cross-entropy) then starts backward from them.
  enum class SoftmaxLogits { none, pre_activation, input };
  SoftmaxLogits softmax_logits = SoftmaxLogits::none;
  // The output is a ReLU's: the layer above may mask its input gradient with
  // it, so that this layer's ReLU backward is done.
  bool output_is_relu = false;
  // backward can mask its input gradient with a ReLU output x (above).
  bool masks_input_gradient_with_relu = false;
};

// How one call of a layer's backward runs, from Sequential's plan.
struct BackwardPlan {
  bool need_input_gradient = true;
  // grad_output is already the gradient before this layer's activation
  // (fused softmax + cross-entropy, or a ReLU backward that the layer above
  // fused into its input gradient).
  bool gradient_is_before_activation = false;
  // x is the output of a ReLU: mask the input gradient where x is 0, that
  // ReLU's backward fused in. Only for layers whose fusion() says they can.
  bool mask_input_gradient_with_relu = false;
};

// A layer holds its parameters only. Everything a call produces lives in the
// caller's LayerState, so forward is const and one layer serves many threads.
// The public calls are non-virtual and check shapes; subclasses implement the
// private *_impl hooks.
class Layer {
 public:
  virtual ~Layer() = default;

  // "dense", "relu", "softmax".
  virtual std::string kind() const = 0;
  virtual std::unique_ptr<Layer> clone() const = 0;

  // Declared input width, 0 when it comes from the previous layer.
  virtual Index declared_input_size() const { return 0; }
  Index input_size() const { return input_size_; }
  Index output_size() const { return output_size_; }
  bool built() const { return built_; }

  // Sizes the parameters for the given input width and initialises them.
  void build(Index input_size, Rng& rng);

  void forward(const Backend& backend, ConstMatrixRef x, LayerState& state) const;

  // From state.grad_output (the gradient at this layer's output), writes the
  // parameter gradients into grads (one per parameter, same order) and, when
  // plan.need_input_gradient, state.grad_input.
  void backward(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                const BackwardPlan& plan = {}) const;

  virtual LayerFusion fusion() const { return {}; }

  std::span<Matrix> parameters() { return params_; }
  std::span<const Matrix> parameters() const { return params_; }
  virtual std::vector<std::string> parameter_names() const { return {}; }

  virtual nlohmann::json config() const = 0;
  static std::unique_ptr<Layer> from_config(const nlohmann::json& config);

 protected:
  virtual Index output_size_for(Index input_size) const = 0;
  virtual void init_parameters(Rng& rng) { (void)rng; }
  virtual void forward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state) const = 0;
  virtual void backward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                             const BackwardPlan& plan) const = 0;

  std::vector<Matrix> params_;

 private:
  Index input_size_ = 0;
  Index output_size_ = 0;
  bool built_ = false;
};

using LayerRegistry = Registry<Layer, const nlohmann::json&>;

// Layers by the "type" of their config: dense, relu, softmax, and any
// registered since (see docs/contributing.md).
LayerRegistry& layer_registry();

}  // namespace aisle
