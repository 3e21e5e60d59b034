#include "aisle/nn/max_pool2d.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "aisle/core/error.hpp"
#include "core/parallel_for.hpp"

namespace aisle {
namespace {

// Where each output's maximum came from (a column of the input row), kept
// by forward for backward, in the caller's LayerState.
struct PoolScratch final : KernelCache {
  std::vector<std::int32_t> argmax;
};

}  // namespace

MaxPool2D::MaxPool2D(MaxPool2DOptions options) : options_(options) {
  if (options_.stride == 0) options_.stride = options_.pool;
  const auto& in = options_.input;
  in.check("max_pool2d layer input");
  if (options_.pool <= 0 || options_.stride <= 0 || options_.pool > kMaxImageExtent || options_.stride > kMaxImageExtent)
    throw Error("max_pool2d layer: pool and stride must be from 1 to " + std::to_string(kMaxImageExtent));
  if (options_.pool > in.height || options_.pool > in.width)
    throw Error("max_pool2d layer: a " + std::to_string(options_.pool) + "x" + std::to_string(options_.pool) +
                " pool does not fit a " + in.text() + " image");
  output_ = {(in.height - options_.pool) / options_.stride + 1, (in.width - options_.pool) / options_.stride + 1,
             in.channels};
}

nlohmann::json MaxPool2D::config() const {
  return {{"type", kind()}, {"input", options_.input.to_json()}, {"pool", options_.pool}, {"stride", options_.stride}};
}

MaxPool2D MaxPool2D::from_config(const nlohmann::json& config) {
  MaxPool2DOptions o;
  o.input = ImageShape::from_json(config.at("input"), "max_pool2d layer input");
  o.pool = config.value("pool", Index{2});
  o.stride = config.value("stride", Index{0});
  return MaxPool2D(o);
}

// One output pixel: the maximum of each channel over its window, and where
// it came from. The channel loop is innermost and branch-free, so that it
// runs on vectors (the channels are contiguous in HWC).
void MaxPool2D::pool_pixel(const float* image, Index oy, Index ox, float* out, std::int32_t* from) const {
  const Index c = options_.input.channels, width = options_.input.width, s = options_.stride;
  const Index first = (oy * s * width + ox * s) * c;
  for (Index ch = 0; ch < c; ++ch) {
    out[ch] = image[first + ch];
    from[ch] = static_cast<std::int32_t>(first + ch);
  }
  for (Index py = 0; py < options_.pool; ++py)
    for (Index px = 0; px < options_.pool; ++px) {
      const Index at = ((oy * s + py) * width + ox * s + px) * c;
      for (Index ch = 0; ch < c; ++ch) {
        const float v = image[at + ch];
        const bool larger = v > out[ch];
        out[ch] = larger ? v : out[ch];
        from[ch] = larger ? static_cast<std::int32_t>(at + ch) : from[ch];
      }
    }
}

void MaxPool2D::forward_impl(const Backend&, ConstMatrixRef x, LayerState& state) const {
  auto& scratch = state.kernels.get<PoolScratch>();
  const Index c = options_.input.channels, out_size = output_.size();
  state.output.resize(x.rows(), out_size);
  scratch.argmax.resize(static_cast<std::size_t>(x.rows() * out_size));
  detail::parallel_for(x.rows(), {.chunk = 1, .parallel = x.size() > (1 << 15)}, [&](Index b) {
    const float* image = x.row(b).data();
    float* out = state.output.row(b).data();
    std::int32_t* from = scratch.argmax.data() + b * out_size;
    for (Index oy = 0; oy < output_.height; ++oy)
      for (Index ox = 0; ox < output_.width; ++ox) {
        const Index o = (oy * output_.width + ox) * c;
        pool_pixel(image, oy, ox, out + o, from + o);
      }
  });
}

LayerFusion MaxPool2D::fusion() const { return {.masks_input_gradient_with_relu = true}; }

// Windows that tile the image (stride == pool): every input value is written
// once, the gradient where the maximum came from and 0 elsewhere, row by row
// as it lies in memory; rows and columns that no window covers get 0.
void MaxPool2D::route_tiled(const float* dy, const std::int32_t* from, float* dx) const {
  const Index c = options_.input.channels, p = options_.pool, width = options_.input.width;
  const Index covered_width = output_.width * p;
  for (Index iy = 0; iy < options_.input.height; ++iy) {
    float* row = dx + iy * width * c;
    const Index oy = iy / p;
    if (oy >= output_.height) {
      std::fill(row, row + width * c, 0.0f);
      continue;
    }
    for (Index ix = 0; ix < covered_width; ++ix) {
      const Index o = (oy * output_.width + ix / p) * c;
      const std::int32_t at = static_cast<std::int32_t>((iy * width + ix) * c);
      float* to = row + ix * c;
      for (Index ch = 0; ch < c; ++ch) to[ch] = from[o + ch] == at + ch ? dy[o + ch] : 0.0f;
    }
    std::fill(row + covered_width * c, row + width * c, 0.0f);
  }
}

// Any windows: zero the image, then add each output's gradient where its
// maximum came from.
void MaxPool2D::route_scattered(const float* dy, const std::int32_t* from, float* dx) const {
  std::fill(dx, dx + options_.input.size(), 0.0f);
  for (Index o = 0; o < output_.size(); ++o) dx[from[o]] += dy[o];
}

// A ReLU below (a convolution's) is differentiated here: a maximum that the
// ReLU cut to 0 (this layer's output is that maximum) passes no gradient.
void MaxPool2D::backward_impl(const Backend&, ConstMatrixRef x, LayerState& state, std::span<Matrix>,
                              const BackwardPlan& plan) const {
  if (!plan.need_input_gradient) return;
  auto& scratch = state.kernels.get<PoolScratch>();
  const Index out_size = output_.size();
  if (scratch.argmax.size() != static_cast<std::size_t>(x.rows() * out_size))
    throw Error("max_pool2d layer: backward without the forward of the same batch");
  if (plan.mask_input_gradient_with_relu)
    state.grad_output = (state.output.array() > 0.0f).select(state.grad_output, 0.0f);
  state.grad_input.resize(x.rows(), x.cols());
  const bool tiled = options_.stride == options_.pool;
  detail::parallel_for(x.rows(), {.chunk = 1, .parallel = x.size() > (1 << 15)}, [&](Index b) {
    const float* dy = state.grad_output.row(b).data();
    const std::int32_t* from = scratch.argmax.data() + b * out_size;
    float* dx = state.grad_input.row(b).data();
    if (tiled) {
      route_tiled(dy, from, dx);
    } else {
      route_scattered(dy, from, dx);
    }
  });
}

}  // namespace aisle
