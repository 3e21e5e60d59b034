#include "backend/native_backend.hpp"

#include <array>
#include <span>

#include "backend/packed_gemm.hpp"
#include "backend/row_kernel.hpp"

namespace aisle::detail {
namespace {

struct GemmCache final : KernelCache {
  GemmBuffers buffers;
  GemmBuffers input_gradient_buffers;  // dense_backward runs two products at once
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
                                   Matrix* dx, bool mask_dx_with_relu_of_x, KernelSlot& slot) const {
  GemmCache& cache = slot.get<GemmCache>();
  dw.resize(w.rows(), w.cols());
  db.resize(1, w.cols());
  // dw = x^T dz with db = the column sums of dz, and dx = dz w^T: independent
  // products, computed by one team.
  std::array<GemmProduct, 2> products;
  products[0] = {GemmOperand::of(x).transposed(), GemmOperand::of(dz), output_of(dw), {}, &cache.buffers, db.data()};
  if (dx == nullptr) return packed_gemm(std::span(products.data(), 1));
  dx->resize(x.rows(), x.cols());
  GemmEpilogue relu_backward;
  if (mask_dx_with_relu_of_x) relu_backward = {.relu_mask = x.data(), .relu_mask_stride = x.outerStride()};
  products[1] = {GemmOperand::of(dz), GemmOperand::of(w).transposed(), output_of(*dx), relu_backward,
                 &cache.input_gradient_buffers};
  packed_gemm(products);
}

}  // namespace aisle::detail
