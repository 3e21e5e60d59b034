#pragma once

#include "backend/eigen_backend.hpp"

namespace aisle::detail {

// aisle's own kernels: Dense runs on packed_gemm (AVX2/AVX-512 micro-kernels
// with bias and ReLU fused into the store, packing buffers kept in the
// caller's KernelSlot) and on the direct single-row kernel at batch 1. A
// steady state allocates nothing. ReLU and softmax layers take the Eigen path.
class NativeBackend final : public EigenBackend {
 public:
  BackendKind kind() const override { return BackendKind::native; }
  void dense_forward(ConstMatrixRef x, const Matrix& w, const Matrix& b, Activation act, Matrix& y,
                     KernelSlot& slot) const override;
  void dense_backward(ConstMatrixRef x, const Matrix& w, ConstMatrixRef dz, Matrix& dw, Matrix& db, Matrix* dx,
                      bool mask_dx_with_relu_of_x, KernelSlot& slot) const override;
};

}  // namespace aisle::detail
