#include "aisle/nn/dense.hpp"

#include <cmath>

#include "aisle/core/error.hpp"

namespace aisle {
namespace {

std::string_view to_string(Init init) {
  switch (init) {
    case Init::he_uniform: return "he_uniform";
    case Init::he_normal: return "he_normal";
    case Init::glorot_uniform: break;
  }
  return "glorot_uniform";
}

Init init_from_string(std::string_view name) {
  if (name == "glorot_uniform") return Init::glorot_uniform;
  if (name == "he_uniform") return Init::he_uniform;
  if (name == "he_normal") return Init::he_normal;
  throw Error("unknown initialiser '" + std::string(name) + "'");
}

}  // namespace

void initialise_weights(Matrix& w, Init init, Rng& rng) {
  const auto fan_in = static_cast<float>(w.rows());
  const auto fan_out = static_cast<float>(w.cols());
  float* data = w.data();
  const Index n = w.size();
  switch (init) {
    case Init::glorot_uniform: {
      const float limit = std::sqrt(6.0f / (fan_in + fan_out));
      for (Index i = 0; i < n; ++i) data[i] = rng.uniform(-limit, limit);
      break;
    }
    case Init::he_uniform: {
      const float limit = std::sqrt(6.0f / fan_in);
      for (Index i = 0; i < n; ++i) data[i] = rng.uniform(-limit, limit);
      break;
    }
    case Init::he_normal: {
      const float stddev = std::sqrt(2.0f / fan_in);
      for (Index i = 0; i < n; ++i) data[i] = stddev * rng.normal();
      break;
    }
  }
}


Dense::Dense(DenseOptions options) : options_(options) {
  if (options_.units <= 0) throw Error("Dense: units must be positive, got " + std::to_string(options_.units));
  if (options_.input_size < 0) throw Error("Dense: input_size must not be negative");
}

Dense::Dense(Index units, Activation activation, Index input_size)
    : Dense(DenseOptions{.units = units, .activation = activation, .input_size = input_size}) {}

nlohmann::json Dense::config() const {
  return {{"type", kind()},
          {"units", options_.units},
          {"activation", std::string(to_string(options_.activation))},
          {"input_size", input_size()},
          {"init", std::string(to_string(options_.init))}};
}

Dense Dense::from_config(const nlohmann::json& config) {
  return Dense(DenseOptions{.units = config.at("units").get<Index>(),
                            .activation = activation_from_string(config.at("activation").get<std::string>()),
                            .input_size = config.value("input_size", Index{0}),
                            .init = init_from_string(config.value("init", std::string("glorot_uniform")))});
}

Index Dense::output_size_for(Index) const { return options_.units; }

void Dense::init_parameters(Rng& rng) {
  params_.resize(2);
  params_[0].resize(input_size(), options_.units);
  initialise_weights(params_[0], options_.init, rng);
  params_[1] = Matrix::Zero(1, options_.units);
}

void Dense::forward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state) const {
  if (options_.activation == Activation::softmax) {
    backend.dense_forward(x, weight(), bias(), Activation::none, state.pre_activation, state.kernels);
    backend.softmax_forward(state.pre_activation, state.output, state.kernels);
  } else {
    backend.dense_forward(x, weight(), bias(), options_.activation, state.output, state.kernels);
  }
}

LayerFusion Dense::fusion() const {
  return {.softmax_logits = options_.activation == Activation::softmax ? LayerFusion::SoftmaxLogits::pre_activation
                                                                      : LayerFusion::SoftmaxLogits::none,
          .output_is_relu = options_.activation == Activation::relu,
          .masks_input_gradient_with_relu = true};
}

void Dense::backward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                          const BackwardPlan& plan) const {
  Matrix* dx = plan.need_input_gradient ? &state.grad_input : nullptr;
  // Turn grad_output into the gradient at the pre-activation, in place.
  if (options_.activation == Activation::relu && !plan.gradient_is_before_activation) {
    backend.relu_backward(state.output, state.grad_output, state.grad_output, state.kernels);
  } else if (options_.activation == Activation::softmax && !plan.gradient_is_before_activation) {
    backend.softmax_backward(state.output, state.grad_output, state.grad_output, state.kernels);
  }
  backend.dense_backward(x, weight(), state.grad_output, grads[0], grads[1], dx, plan.mask_input_gradient_with_relu,
                         state.kernels);
}

}  // namespace aisle
