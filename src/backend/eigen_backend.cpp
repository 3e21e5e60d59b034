#include "backend/eigen_backend.hpp"

#include "aisle/nn/functional.hpp"

namespace aisle::detail {

void EigenBackend::dense_forward(ConstMatrixRef x, const Matrix& w, const Matrix& b, Activation act, Matrix& y,
                                 KernelSlot&) const {
  y.resize(x.rows(), w.cols());
  y.noalias() = x * w;
  y.rowwise() += b.row(0);
  if (act == Activation::relu) y = y.cwiseMax(0.0f);
}

void EigenBackend::dense_backward(ConstMatrixRef x, const Matrix& w, ConstMatrixRef dz, Matrix& dw, Matrix& db,
                                  Matrix* dx, bool mask_dx_with_relu_of_x, KernelSlot& slot) const {
  dw.resize(w.rows(), w.cols());
  dw.noalias() = x.transpose() * dz;
  db.resize(1, w.cols());
  db.noalias() = dz.colwise().sum();
  if (dx != nullptr) {
    dx->resize(x.rows(), x.cols());
    dx->noalias() = dz * w.transpose();
    if (mask_dx_with_relu_of_x) relu_backward(x, *dx, *dx, slot);
  }
}

void EigenBackend::relu_forward(ConstMatrixRef x, Matrix& y, KernelSlot&) const {
  y.resize(x.rows(), x.cols());
  y = x.cwiseMax(0.0f);
}

void EigenBackend::relu_backward(ConstMatrixRef y, ConstMatrixRef dy, Matrix& dx, KernelSlot&) const {
  dx.resize(dy.rows(), dy.cols());
  dx = (y.array() > 0.0f).select(dy, 0.0f);
}

void EigenBackend::softmax_forward(ConstMatrixRef x, Matrix& y, KernelSlot&) const { functional::softmax(x, y); }

void EigenBackend::softmax_backward(ConstMatrixRef y, ConstMatrixRef dy, Matrix& dx, KernelSlot&) const {
  dx.resize(dy.rows(), dy.cols());
  const Eigen::VectorXf dots = (dy.array() * y.array()).rowwise().sum();
  dx = (y.array() * (dy.array().colwise() - dots.array())).matrix();
}

}  // namespace aisle::detail
