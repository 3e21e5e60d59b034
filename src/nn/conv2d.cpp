#include "aisle/nn/conv2d.hpp"

#include <cmath>
#include <cstring>

#include "aisle/core/error.hpp"
#include "core/parallel_for.hpp"

namespace aisle {
namespace {

constexpr Index kParallelRows = 64;

// What a forward pass keeps for its backward: the im2col matrix, and the
// backend's own state for the dense kernel. In the caller's LayerState.
struct ConvScratch final : KernelCache {
  Matrix cols;
  Matrix dz;
  Matrix dcols;
  KernelSlot dense;
};

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
  pad_top_ = leading_padding(in.height, output_.height, options_.kernel, options_.stride, options_.padding);
  pad_left_ = leading_padding(in.width, output_.width, options_.kernel, options_.stride, options_.padding);
}

nlohmann::json Conv2D::config() const {
  return {{"type", kind()},
          {"input", options_.input.to_json()},
          {"filters", options_.filters},
          {"kernel", options_.kernel},
          {"stride", options_.stride},
          {"padding", std::string(to_string(options_.padding))},
          {"activation", std::string(aisle::to_string(options_.activation))}};
}

Conv2D Conv2D::from_config(const nlohmann::json& config) {
  Conv2DOptions o;
  o.input = ImageShape::from_json(config.at("input"), "conv2d layer input");
  o.filters = config.at("filters").get<Index>();
  o.kernel = config.at("kernel").get<Index>();
  o.stride = config.value("stride", Index{1});
  o.padding = padding_from_string(config.value("padding", std::string("same")));
  o.activation = activation_from_string(config.value("activation", std::string("none")));
  return Conv2D(o);
}

Index Conv2D::output_size_for(Index input_size) const {
  (void)input_size;  // checked against declared_input_size() by Layer::build
  return output_.size();
}

// He initialisation for the ReLU that follows: N(0, 2 / fan_in).
void Conv2D::init_parameters(Rng& rng) {
  const float scale = std::sqrt(2.0f / static_cast<float>(patch_size()));
  params_.assign(2, Matrix());
  params_[0].resize(patch_size(), options_.filters);
  for (Index i = 0; i < params_[0].size(); ++i) params_[0].data()[i] = scale * rng.normal();
  params_[1] = Matrix::Zero(1, options_.filters);
}

// Row (b * out_pixels + oy * out_width + ox) of cols: the receptive field of
// that output pixel, (ky, kx, c) fastest last; zeros where it falls in the
// padding.
void Conv2D::im2col(ConstMatrixRef x, Matrix& cols) const {
  const auto& in = options_.input;
  const Index k = options_.kernel, c = in.channels, s = options_.stride;
  const Index out_pixels = output_.pixels();
  cols.resize(x.rows() * out_pixels, patch_size());
  detail::parallel_for(cols.rows(), {.chunk = kParallelRows, .parallel = cols.size() > (1 << 15)}, [&](Index row) {
    const Index b = row / out_pixels, pixel = row % out_pixels;
    const Index oy = pixel / output_.width, ox = pixel % output_.width;
    const float* image = x.row(b).data();
    float* patch = cols.row(row).data();
    for (Index ky = 0; ky < k; ++ky) {
      const Index iy = oy * s + ky - pad_top_;
      for (Index kx = 0; kx < k; ++kx) {
        const Index ix = ox * s + kx - pad_left_;
        float* to = patch + (ky * k + kx) * c;
        if (iy < 0 || iy >= in.height || ix < 0 || ix >= in.width) {
          std::memset(to, 0, static_cast<std::size_t>(c) * sizeof(float));
        } else {
          std::memcpy(to, image + (iy * in.width + ix) * c, static_cast<std::size_t>(c) * sizeof(float));
        }
      }
    }
  });
}

// The adjoint of im2col: each patch entry added back to the input pixel it
// came from. One image per iteration, so that no two threads add to the
// same pixel.
void Conv2D::col2im(const Matrix& cols, Matrix& dx) const {
  const auto& in = options_.input;
  const Index k = options_.kernel, c = in.channels, s = options_.stride;
  const Index out_pixels = output_.pixels();
  dx.setZero(cols.rows() / out_pixels, in.size());
  detail::parallel_for(dx.rows(), {.chunk = 1, .parallel = cols.size() > (1 << 15)}, [&](Index b) {
    float* image = dx.row(b).data();
    for (Index pixel = 0; pixel < out_pixels; ++pixel) {
      const Index oy = pixel / output_.width, ox = pixel % output_.width;
      const float* patch = cols.row(b * out_pixels + pixel).data();
      for (Index ky = 0; ky < k; ++ky) {
        const Index iy = oy * s + ky - pad_top_;
        if (iy < 0 || iy >= in.height) continue;
        for (Index kx = 0; kx < k; ++kx) {
          const Index ix = ox * s + kx - pad_left_;
          if (ix < 0 || ix >= in.width) continue;
          float* to = image + (iy * in.width + ix) * c;
          const float* from = patch + (ky * k + kx) * c;
          for (Index ch = 0; ch < c; ++ch) to[ch] += from[ch];
        }
      }
    }
  });
}

void Conv2D::forward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state) const {
  auto& scratch = state.kernels.get<ConvScratch>();
  im2col(x, scratch.cols);
  backend.dense_forward(scratch.cols, weight(), bias(), options_.activation, state.output, scratch.dense);
  // [batch * pixels x filters] row-major is [batch x pixels * filters]: the
  // same floats, so the resize keeps them (Eigen reallocates only when the
  // number of coefficients changes).
  state.output.resize(x.rows(), output_.size());
}

void Conv2D::backward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                           const BackwardPlan& plan) const {
  auto& scratch = state.kernels.get<ConvScratch>();
  if (scratch.cols.rows() != x.rows() * output_.pixels()) im2col(x, scratch.cols);  // backward without its forward
  // The output gradient as [pixels x filters]: the dense product's shape.
  const Eigen::Map<const Matrix> dy(state.grad_output.data(), x.rows() * output_.pixels(), options_.filters);
  const bool relu = options_.activation == Activation::relu;
  if (relu) {
    const Eigen::Map<const Matrix> y(state.output.data(), dy.rows(), dy.cols());
    scratch.dz = (y.array() > 0.0f).select(dy, 0.0f);
  }
  const ConstMatrixRef dz = relu ? ConstMatrixRef(scratch.dz) : ConstMatrixRef(dy);
  backend.dense_backward(scratch.cols, weight(), dz, grads[0], grads[1],
                         plan.need_input_gradient ? &scratch.dcols : nullptr, false, scratch.dense);
  if (plan.need_input_gradient) col2im(scratch.dcols, state.grad_input);
}

}  // namespace aisle
