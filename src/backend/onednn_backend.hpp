#pragma once

#include "backend/eigen_backend.hpp"

namespace aisle::detail {

// oneDNN kernels: matmul with bias and fused ReLU for Dense, eltwise ReLU and
// softmax. Primitives are created once per (layer, shape) and kept in the
// caller's KernelSlot. Backward passes of ReLU and softmax are element-wise
// and stay on the Eigen path.
class OneDnnBackend final : public EigenBackend {
 public:
  BackendKind kind() const override { return BackendKind::onednn; }
  void dense_forward(ConstMatrixRef x, const Matrix& w, const Matrix& b, Activation act, Matrix& y,
                     KernelSlot& slot) const override;
  void dense_backward(ConstMatrixRef x, const Matrix& w, ConstMatrixRef dz, Matrix& dw, Matrix& db, Matrix* dx,
                      bool mask_dx_with_relu_of_x, KernelSlot& slot) const override;
  void relu_forward(ConstMatrixRef x, Matrix& y, KernelSlot& slot) const override;
  void softmax_forward(ConstMatrixRef x, Matrix& y, KernelSlot& slot) const override;
  // oneDNN's convolution primitives (onednn_convolution.cpp).
  void conv_forward(ConstMatrixRef x, const ConvGeometry& g, const Matrix& w, const Matrix& b, Activation act,
                    Matrix& y, KernelSlot& slot) const override;
  void conv_backward(ConstMatrixRef x, const ConvGeometry& g, const Matrix& w, ConstMatrixRef dz, Matrix& dw,
                     Matrix& db, Matrix* dx, KernelSlot& slot) const override;
};

}  // namespace aisle::detail
