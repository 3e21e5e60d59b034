#include "aisle/nn/layer.hpp"

#include "aisle/core/error.hpp"
#include "aisle/nn/conv2d.hpp"
#include "aisle/nn/dense.hpp"
#include "aisle/nn/dropout_layer.hpp"
#include "aisle/nn/flatten.hpp"
#include "aisle/nn/gelu.hpp"
#include "aisle/nn/layer_norm.hpp"
#include "aisle/nn/max_pool2d.hpp"
#include "aisle/nn/relu.hpp"
#include "aisle/nn/softmax.hpp"

namespace aisle {

void Layer::build(Index input_size, Rng& rng) {
  if (input_size <= 0) throw Error(kind() + " layer: input size must be positive, got " + std::to_string(input_size));
  if (declared_input_size() > 0 && declared_input_size() != input_size)
    throw Error(kind() + " layer declares input size " + std::to_string(declared_input_size()) +
                " but receives " + std::to_string(input_size));
  input_size_ = input_size;
  output_size_ = output_size_for(input_size);
  init_parameters(rng);
  built_ = true;
}

void Layer::forward(const Backend& backend, ConstMatrixRef x, LayerState& state) const {
  if (!built_) throw Error(kind() + " layer: forward before the layer is built");
  if (x.cols() != input_size_)
    throw Error(kind() + " layer expects " + std::to_string(input_size_) + " input columns, got input of shape " +
                shape_string(x));
  forward_impl(backend, x, state);
}

void Layer::backward(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                     const BackwardPlan& plan) const {
  if (grads.size() != params_.size())
    throw Error(kind() + " layer: backward got " + std::to_string(grads.size()) + " gradient tensors for " +
                std::to_string(params_.size()) + " parameters");
  if (state.grad_output.rows() != x.rows() || state.grad_output.cols() != output_size_)
    throw Error(kind() + " layer: output gradient has shape " + shape_string(state.grad_output) + ", expected " +
                shape_string(x.rows(), output_size_));
  if (plan.mask_input_gradient_with_relu && !fusion().masks_input_gradient_with_relu)
    throw Error(kind() + " layer: backward cannot fuse the ReLU backward of the layer below");
  backward_impl(backend, x, state, grads, plan);
}

std::unique_ptr<Layer> Layer::from_config(const nlohmann::json& config) {
  return layer_registry().make(config.at("type").get<std::string>(), config);
}

LayerRegistry& layer_registry() {
  static LayerRegistry registry = [] {
    LayerRegistry layers("layer");
    layers.add("dense", [](const nlohmann::json& config) { return std::make_unique<Dense>(Dense::from_config(config)); });
    layers.add("relu", [](const nlohmann::json&) { return std::make_unique<ReLU>(); });
    layers.add("softmax", [](const nlohmann::json&) { return std::make_unique<Softmax>(); });
    layers.add("layer_norm",
               [](const nlohmann::json& config) { return std::make_unique<LayerNorm>(LayerNorm::from_config(config)); });
    layers.add("gelu", [](const nlohmann::json& config) { return std::make_unique<GELU>(GELU::from_config(config)); });
    layers.add("conv2d", [](const nlohmann::json& config) { return std::make_unique<Conv2D>(Conv2D::from_config(config)); });
    layers.add("max_pool2d",
               [](const nlohmann::json& config) { return std::make_unique<MaxPool2D>(MaxPool2D::from_config(config)); });
    layers.add("flatten", [](const nlohmann::json&) { return std::make_unique<Flatten>(); });
    layers.add("dropout",
               [](const nlohmann::json& config) { return std::make_unique<DropoutLayer>(DropoutLayer::from_config(config)); });
    return layers;
  }();
  return registry;
}

}  // namespace aisle
