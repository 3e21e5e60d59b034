#include "aisle/nn/conv2d.hpp"

#include <cmath>

#include "aisle/core/error.hpp"

namespace aisle {
namespace {

Index output_extent(Index input, Index kernel, Index stride, Padding padding) {
  return padding == Padding::same ? (input + stride - 1) / stride : (input - kernel) / stride + 1;
}

// TensorFlow's 'same': the total padding that makes the output extent, the
// odd one at the end.
Index leading_padding(Index input, Index output, Index kernel, Index stride, Padding padding) {
  if (padding == Padding::valid) return 0;
  return std::max<Index>((output - 1) * stride + kernel - input, 0) / 2;
}

}  // namespace

std::string_view to_string(Padding padding) { return padding == Padding::same ? "same" : "valid"; }

Padding padding_from_string(const std::string& name) {
  if (name == "same") return Padding::same;
  if (name == "valid") return Padding::valid;
  throw Error("conv2d layer: unknown padding '" + name + "' (same or valid)");
}

Conv2D::Conv2D(Conv2DOptions options) : options_(options) {
  const auto& in = options_.input;
  in.check("conv2d layer input");
  for (const Index v : {options_.filters, options_.kernel, options_.stride})
    if (v <= 0 || v > kMaxImageExtent)
      throw Error("conv2d layer: filters, kernel and stride must be from 1 to " + std::to_string(kMaxImageExtent));
  if (options_.kernel * options_.kernel * in.channels * options_.filters > kMaxImageValues)
    throw Error("conv2d layer: " + std::to_string(options_.kernel * options_.kernel * in.channels * options_.filters) +
                " weights; at most " + std::to_string(kMaxImageValues));
  if (options_.activation == Activation::softmax) throw Error("conv2d layer: activation must be none or relu");
  if (options_.padding == Padding::valid && (options_.kernel > in.height || options_.kernel > in.width))
    throw Error("conv2d layer: a " + std::to_string(options_.kernel) + "x" + std::to_string(options_.kernel) +
                " kernel does not fit a " + in.text() + " image without padding");
  output_ = {output_extent(in.height, options_.kernel, options_.stride, options_.padding),
             output_extent(in.width, options_.kernel, options_.stride, options_.padding), options_.filters};
  output_.check("conv2d layer output");
  geometry_ = {.in_height = in.height,
               .in_width = in.width,
               .in_channels = in.channels,
               .out_height = output_.height,
               .out_width = output_.width,
               .filters = options_.filters,
               .kernel = options_.kernel,
               .stride = options_.stride,
               .pad_top = leading_padding(in.height, output_.height, options_.kernel, options_.stride, options_.padding),
               .pad_left = leading_padding(in.width, output_.width, options_.kernel, options_.stride, options_.padding),
               .bf16_products = options_.bf16_products};
}

nlohmann::json Conv2D::config() const {
  return {{"type", kind()},
          {"input", options_.input.to_json()},
          {"filters", options_.filters},
          {"kernel", options_.kernel},
          {"stride", options_.stride},
          {"padding", std::string(to_string(options_.padding))},
          {"activation", std::string(aisle::to_string(options_.activation))},
          {"precision", options_.bf16_products ? "bf16" : "f32"}};
}

Conv2D Conv2D::from_config(const nlohmann::json& config) {
  Conv2DOptions o;
  o.input = ImageShape::from_json(config.at("input"), "conv2d layer input");
  o.filters = config.at("filters").get<Index>();
  o.kernel = config.at("kernel").get<Index>();
  o.stride = config.value("stride", Index{1});
  o.padding = padding_from_string(config.value("padding", std::string("same")));
  o.activation = activation_from_string(config.value("activation", std::string("none")));
  const auto precision = config.value("precision", std::string("f32"));
  if (precision != "f32" && precision != "bf16")
    throw Error("conv2d layer: unknown precision '" + precision + "' (f32 or bf16)");
  o.bf16_products = precision == "bf16";
  return Conv2D(o);
}

Index Conv2D::output_size_for(Index input_size) const {
  (void)input_size;  // checked against declared_input_size() by Layer::build
  return output_.size();
}

// He initialisation for the ReLU that follows: N(0, 2 / fan_in).
void Conv2D::init_parameters(Rng& rng) {
  const float scale = std::sqrt(2.0f / static_cast<float>(geometry_.patch_size()));
  params_.assign(2, Matrix());
  params_[0].resize(geometry_.patch_size(), options_.filters);
  for (Index i = 0; i < params_[0].size(); ++i) params_[0].data()[i] = scale * rng.normal();
  params_[1] = Matrix::Zero(1, options_.filters);
}

LayerFusion Conv2D::fusion() const { return {.output_is_relu = options_.activation == Activation::relu}; }

void Conv2D::forward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state) const {
  backend.conv_forward(x, geometry_, weight(), bias(), options_.activation, state.output, state.kernels);
}

void Conv2D::backward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                           const BackwardPlan& plan) const {
  // The ReLU's backward, in place (grad_output is this layer's scratch),
  // unless the layer above fused it into its input gradient.
  if (options_.activation == Activation::relu && !plan.gradient_is_before_activation)
    state.grad_output = (state.output.array() > 0.0f).select(state.grad_output, 0.0f);
  backend.conv_backward(x, geometry_, weight(), state.grad_output, grads[0], grads[1],
                        plan.need_input_gradient ? &state.grad_input : nullptr, state.kernels);
}

}  // namespace aisle
