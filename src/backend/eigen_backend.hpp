#pragma once

#include "aisle/backend/backend.hpp"

namespace aisle::detail {

// The plain Eigen kernels: the reference the oneDNN path is tested against.
class EigenBackend : public Backend {
 public:
  BackendKind kind() const override { return BackendKind::eigen; }
  void dense_forward(ConstMatrixRef x, const Matrix& w, const Matrix& b, Activation act, Matrix& y,
                     KernelSlot& slot) const override;
  void dense_backward(ConstMatrixRef x, const Matrix& w, ConstMatrixRef dz, Matrix& dw, Matrix& db, Matrix* dx,
                      bool mask_dx_with_relu_of_x, KernelSlot& slot) const override;
  void relu_forward(ConstMatrixRef x, Matrix& y, KernelSlot& slot) const override;
  void relu_backward(ConstMatrixRef y, ConstMatrixRef dy, Matrix& dx, KernelSlot& slot) const override;
  void softmax_forward(ConstMatrixRef x, Matrix& y, KernelSlot& slot) const override;
  void softmax_backward(ConstMatrixRef y, ConstMatrixRef dy, Matrix& dx, KernelSlot& slot) const override;
};

}  // namespace aisle::detail
