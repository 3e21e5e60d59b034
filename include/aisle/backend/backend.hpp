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

  // Row-wise softmax.
  virtual void softmax_forward(ConstMatrixRef x, Matrix& y, KernelSlot& slot) const = 0;
  // dx = y * (dy - rowsum(dy * y)).
  virtual void softmax_backward(ConstMatrixRef y, ConstMatrixRef dy, Matrix& dx, KernelSlot& slot) const = 0;
};

// The process-wide backend instances.
const Backend& backend(BackendKind kind);

// The backend models use unless told otherwise: AISLE_BACKEND from the
// environment ("native", "onednn" or "eigen"), else native when this build
// has its vector kernels (AVX2 with FMA, or AVX-512), else oneDNN.
BackendKind default_backend();
void set_default_backend(BackendKind kind);

}  // namespace aisle
