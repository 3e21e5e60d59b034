#pragma once

// Max pooling over images in rows (ImageShape: HWC): each channel's
// pool x pool windows, `stride` apart (default: the pool size), 'valid'
// (windows that do not fit at the right or bottom edge are dropped). The
// backward pass routes each output's gradient to the input its maximum came
// from (the first one on ties).

#include <cstdint>

#include "aisle/nn/image_shape.hpp"
#include "aisle/nn/layer.hpp"

namespace aisle {

struct MaxPool2DOptions {
  ImageShape input;
  Index pool = 2;
  Index stride = 0;  // 0: the pool size
};

class MaxPool2D final : public Layer {
 public:
  explicit MaxPool2D(MaxPool2DOptions options);

  std::string kind() const override { return "max_pool2d"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<MaxPool2D>(*this); }
  Index declared_input_size() const override { return options_.input.size(); }
  // Its backward can differentiate the ReLU below it.
  LayerFusion fusion() const override;
  nlohmann::json config() const override;
  static MaxPool2D from_config(const nlohmann::json& config);

  ImageShape output_shape() const { return output_; }

 private:
  Index output_size_for(Index input_size) const override { (void)input_size; return output_.size(); }
  void forward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state) const override;
  void backward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                     const BackwardPlan& plan) const override;
  void pool_pixel(const float* image, Index oy, Index ox, float* out, std::int32_t* from) const;
  void route_tiled(const float* dy, const std::int32_t* from, float* dx) const;
  void route_scattered(const float* dy, const std::int32_t* from, float* dx) const;

  MaxPool2DOptions options_;
  ImageShape output_;
};

}  // namespace aisle
