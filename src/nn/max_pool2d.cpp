#include "aisle/nn/max_pool2d.hpp"

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

void MaxPool2D::forward_impl(const Backend&, ConstMatrixRef x, LayerState& state) const {
  auto& scratch = state.kernels.get<PoolScratch>();
  const auto& in = options_.input;
  const Index c = in.channels, p = options_.pool, s = options_.stride, out_size = output_.size();
  state.output.resize(x.rows(), out_size);
  scratch.argmax.resize(static_cast<std::size_t>(x.rows() * out_size));
  detail::parallel_for(x.rows(), {.chunk = 1, .parallel = x.size() > (1 << 15)}, [&](Index b) {
    const float* image = x.row(b).data();
    float* out = state.output.row(b).data();
    std::int32_t* from = scratch.argmax.data() + b * out_size;
    for (Index oy = 0; oy < output_.height; ++oy)
      for (Index ox = 0; ox < output_.width; ++ox)
        for (Index ch = 0; ch < c; ++ch) {
          Index best = ((oy * s) * in.width + ox * s) * c + ch;
          for (Index py = 0; py < p; ++py)
            for (Index px = 0; px < p; ++px) {
              const Index at = ((oy * s + py) * in.width + ox * s + px) * c + ch;
              if (image[at] > image[best]) best = at;
            }
          const Index o = (oy * output_.width + ox) * c + ch;
          out[o] = image[best];
          from[o] = static_cast<std::int32_t>(best);
        }
  });
}

void MaxPool2D::backward_impl(const Backend&, ConstMatrixRef x, LayerState& state, std::span<Matrix>,
                              const BackwardPlan& plan) const {
  if (!plan.need_input_gradient) return;
  auto& scratch = state.kernels.get<PoolScratch>();
  const Index out_size = output_.size();
  if (scratch.argmax.size() != static_cast<std::size_t>(x.rows() * out_size))
    throw Error("max_pool2d layer: backward without the forward of the same batch");
  state.grad_input.setZero(x.rows(), x.cols());
  detail::parallel_for(x.rows(), {.chunk = 1, .parallel = x.size() > (1 << 15)}, [&](Index b) {
    const float* dy = state.grad_output.row(b).data();
    const std::int32_t* from = scratch.argmax.data() + b * out_size;
    float* dx = state.grad_input.row(b).data();
    for (Index o = 0; o < out_size; ++o) dx[from[o]] += dy[o];
  });
}

}  // namespace aisle
