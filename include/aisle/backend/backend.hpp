#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "aisle/core/tensor.hpp"

namespace aisle {

// native: aisle's own packed-GEMM kernels; onednn: Intel oneDNN primitives;
// eigen: plain Eigen, the reference the others are tested against.
enum class BackendKind { onednn, eigen, native };

std::string_view to_string(BackendKind kind);
// "native", "onednn" or "eigen"; throws aisle::Error otherwise.
BackendKind backend_kind_from_string(std::string_view name);

enum class Activation { none, relu, softmax };

// A 2-D convolution's shape, for batches with one image a row, height x
// width x channels with the channels fastest (HWC). Kernels are square;
// weights are [kernel*kernel*in_channels x filters], row
// (ky * kernel + kx) * in_channels + c (oneDNN's hwio). The padding before
// the first row and column is given; after the last, whatever makes the
// output extents (negative when a 'valid' stride leaves input unread).
struct ConvGeometry {
  Index in_height = 0, in_width = 0, in_channels = 0;
  Index out_height = 0, out_width = 0, filters = 0;
  Index kernel = 1, stride = 1;
  Index pad_top = 0, pad_left = 0;
  // Multiply in bf16 (inputs, weights and output gradients rounded to
  // bfloat16; sums, outputs and gradients in f32) where the backend can:
  // oneDNN's primitives. The im2col backends compute in f32 regardless.
  bool bf16_products = false;

  Index in_size() const { return in_height * in_width * in_channels; }
  Index out_pixels() const { return out_height * out_width; }
  Index out_size() const { return out_pixels() * filters; }
  Index patch_size() const { return kernel * kernel * in_channels; }
  Index pad_bottom() const { return (out_height - 1) * stride + kernel - in_height - pad_top; }
  Index pad_right() const { return (out_width - 1) * stride + kernel - in_width - pad_left; }
};

std::string_view to_string(Activation activation);
Activation activation_from_string(std::string_view name);

// Per-layer, per-workspace state a backend keeps between calls: oneDNN
// primitives and memory descriptors, created once per batch size and reused.
// It lives in the caller's Workspace, never in the model, so the model stays
// const and shareable between threads.
class KernelCache {
 public:
  virtual ~KernelCache() = default;
};

struct KernelSlot {
  std::unique_ptr<KernelCache> cache;

  // The cache as a T, made fresh when the slot is empty or holds another type.
  template <class T>
  T& get() {
    if (auto* typed = dynamic_cast<T*>(cache.get())) return *typed;
    auto fresh = std::make_unique<T>();
    T& ref = *fresh;
    cache = std::move(fresh);
    return ref;
  }
};

// The kernels that layers run. Dense weights are [inputs x units], the bias
// [1 x units]; activations are [batch x features].
class Backend {
 public:
  virtual ~Backend() = default;

  virtual BackendKind kind() const = 0;

  // y = act(x w + b), act being none or relu (fused where the backend can).
  virtual void dense_forward(ConstMatrixRef x, const Matrix& w, const Matrix& b, Activation act, Matrix& y,
                             KernelSlot& slot) const = 0;

  // From dz, the gradient at the dense output before activation:
  // dw = x^T dz, db = column sums of dz, and dx = dz w^T when dx is not null.
  // With mask_dx_with_relu_of_x (x being the output of a ReLU), dx is zero
  // wherever x is not positive: that ReLU's backward, fused.
  virtual void dense_backward(ConstMatrixRef x, const Matrix& w, ConstMatrixRef dz, Matrix& dw, Matrix& db,
                              Matrix* dx, bool mask_dx_with_relu_of_x, KernelSlot& slot) const = 0;

  virtual void relu_forward(ConstMatrixRef x, Matrix& y, KernelSlot& slot) const = 0;
  // dx = dy where y > 0, else 0.
  virtual void relu_backward(ConstMatrixRef y, ConstMatrixRef dy, Matrix& dx, KernelSlot& slot) const = 0;

  // y = act(x (*) w + b), the convolution of g, act being none or relu; y is
  // [batch x g.out_size()]. By default im2col then dense_forward: each
  // output pixel's receptive field a row, which makes the product's rows the
  // output pixels with the filters fastest, already HWC.
  virtual void conv_forward(ConstMatrixRef x, const ConvGeometry& g, const Matrix& w, const Matrix& b, Activation act,
                            Matrix& y, KernelSlot& slot) const;

  // From dz, the gradient at the convolution's output before activation:
  // dw, db, and dx when dx is not null. By default dense_backward on the
  // im2col matrix (kept from conv_forward in the slot when x's batch is the
  // same), then its adjoint col2im for dx.
  virtual void conv_backward(ConstMatrixRef x, const ConvGeometry& g, const Matrix& w, ConstMatrixRef dz, Matrix& dw,
                             Matrix& db, Matrix* dx, KernelSlot& slot) const;

  // Row-wise softmax.
  virtual void softmax_forward(ConstMatrixRef x, Matrix& y, KernelSlot& slot) const = 0;
  // dx = y * (dy - rowsum(dy * y)).
  virtual void softmax_backward(ConstMatrixRef y, ConstMatrixRef dy, Matrix& dx, KernelSlot& slot) const = 0;
};

// Whether this CPU multiplies bfloat16 natively (AVX-512 BF16), where bf16
// products run at twice the f32 rate.
bool native_bf16();

// The process-wide backend instances.
const Backend& backend(BackendKind kind);

// The backend models use unless told otherwise: AISLE_BACKEND from the
// environment ("native", "onednn" or "eigen"), else native when this build
// has its vector kernels (AVX2 with FMA, or AVX-512), else oneDNN.
BackendKind default_backend();
void set_default_backend(BackendKind kind);

}  // namespace aisle
