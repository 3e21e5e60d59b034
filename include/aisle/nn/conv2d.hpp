#pragma once

// A 2-D convolution over images in rows (ImageShape: HWC), with square
// kernels, a stride, 'valid' or 'same' padding (TensorFlow's: the extra
// padding row or column of an odd total goes at the bottom and right), and
// a fusable ReLU.
//
// The backend runs it (Backend::conv_forward and conv_backward): oneDNN's
// convolution primitives on the onednn backend; im2col then the dense
// kernels (the native packed GEMM, or Eigen, the reference) on the others.

#include "aisle/backend/backend.hpp"
#include "aisle/nn/image_shape.hpp"
#include "aisle/nn/layer.hpp"

namespace aisle {

enum class Padding { valid, same };
std::string_view to_string(Padding padding);
Padding padding_from_string(const std::string& name);

struct Conv2DOptions {
  ImageShape input;
  Index filters = 32;
  Index kernel = 3;
  Index stride = 1;
  Padding padding = Padding::same;
  Activation activation = Activation::none;  // none or relu
  // Products in bfloat16 with f32 sums (ConvGeometry::bf16_products): twice
  // the rate where the CPU has AVX-512 BF16, on the onednn backend; other
  // backends compute in f32. Saved as "precision": "bf16".
  bool bf16_products = false;
};

class Conv2D final : public Layer {
 public:
  // Throws aisle::Error for sizes that make no output (a kernel larger than
  // a 'valid' image, a non-positive size) or a softmax activation.
  explicit Conv2D(Conv2DOptions options);

  std::string kind() const override { return "conv2d"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Conv2D>(*this); }
  Index declared_input_size() const override { return options_.input.size(); }
  LayerFusion fusion() const override;
  std::vector<std::string> parameter_names() const override { return {"weight", "bias"}; }
  nlohmann::json config() const override;
  static Conv2D from_config(const nlohmann::json& config);

  const Conv2DOptions& options() const { return options_; }
  ImageShape output_shape() const { return output_; }
  // [kernel*kernel*channels x filters]: row (ky * kernel + kx) * channels + c.
  const Matrix& weight() const { return params_[0]; }
  const Matrix& bias() const { return params_[1]; }

 private:
  Index output_size_for(Index input_size) const override;
  void init_parameters(Rng& rng) override;
  void forward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state) const override;
  void backward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                     const BackwardPlan& plan) const override;

  Conv2DOptions options_;
  ImageShape output_;
  ConvGeometry geometry_;
};

}  // namespace aisle
