#include "backend/native_backend.hpp"

#include "backend/packed_gemm.hpp"
#include "backend/row_kernel.hpp"

namespace aisle::detail {
namespace {

struct GemmCache final : KernelCache {
  GemmBuffers buffers;
};

GemmOutput output_of(Matrix& m) { return {m.data(), m.cols()}; }

}  // namespace

void NativeBackend::dense_forward(ConstMatrixRef x, const Matrix& w, const Matrix& b, Activation act, Matrix& y,
                                  KernelSlot& slot) const {
  y.resize(x.rows(), w.cols());
  const bool relu = act == Activation::relu;
  if (x.rows() == 1) return dense_row_forward(x.data(), w, b, relu, y.data());
  packed_gemm(GemmOperand::of(x), GemmOperand::of(w), output_of(y), {.bias = b.data(), .relu = relu},
              slot.get<GemmCache>().buffers);
}

void NativeBackend::dense_backward(ConstMatrixRef x, const Matrix& w, ConstMatrixRef dz, Matrix& dw, Matrix& db,
                                   Matrix* dx, const Matrix* dx_relu_mask, KernelSlot& slot) const {
  GemmBuffers& buffers = slot.get<GemmCache>().buffers;
  dw.resize(w.rows(), w.cols());
  db.resize(1, w.cols());
  packed_gemm(GemmOperand::of(x).transposed(), GemmOperand::of(dz), output_of(dw), {}, buffers, db.data());
  if (dx == nullptr) return;
  dx->resize(x.rows(), x.cols());
  GemmEpilogue relu_backward;
  if (dx_relu_mask != nullptr) relu_backward = {.relu_mask = dx_relu_mask->data(), .relu_mask_stride = dx_relu_mask->cols()};
  packed_gemm(GemmOperand::of(dz), GemmOperand::of(w).transposed(), output_of(*dx), relu_backward, buffers);
}

}  // namespace aisle::detail
