#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "aisle/backend/backend.hpp"
#include "aisle/core/random.hpp"
#include "aisle/core/tensor.hpp"
#include "aisle/nn/workspace.hpp"

namespace aisle {

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
  // need_input_gradient, state.grad_input.
  //   skip_activation: grad_output is already the gradient before this
  //     layer's activation (fused softmax + cross-entropy, or a ReLU backward
  //     that the layer above fused into its input gradient).
  //   input_relu_mask: x is the output of a ReLU (this matrix, x's shape);
  //     the input gradient is masked by it, that ReLU's backward fused in.
  //     Only for layers whose fuses_input_relu_backward() is true.
  void backward(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                bool need_input_gradient, bool skip_activation = false, const Matrix* input_relu_mask = nullptr) const;

  // True when the output is a softmax whose logits backward can start from.
  virtual bool ends_with_softmax() const { return false; }
  // True when the output is a ReLU's, so that its backward can be skipped
  // (skip_activation) once the layer above has masked its input gradient.
  virtual bool ends_with_relu() const { return false; }
  // True when backward takes an input_relu_mask.
  virtual bool fuses_input_relu_backward() const { return false; }

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
                             bool need_input_gradient, bool skip_activation, const Matrix* input_relu_mask) const = 0;

  std::vector<Matrix> params_;

 private:
  Index input_size_ = 0;
  Index output_size_ = 0;
  bool built_ = false;
};

}  // namespace aisle
