#include "backend/spd_inverse.hpp"

#include <Eigen/Cholesky>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "aisle/core/error.hpp"
#include "core/thread_binding.hpp"

namespace aisle::detail {
namespace {

// Below this size the inverse is one Cholesky solve on Eigen; above it the
// recursion's products are large enough for the GEMM to run near peak.
constexpr Index kLeafSize = 192;

using RowBlock = Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Eigen::OuterStride<>>;

// c = alpha op(a) op(b) + beta c, row-major, through oneDNN's GEMM.
void gemm(char transa, char transb, Index m, Index n, Index k, float alpha, const float* a, Index lda, const float* b,
          Index ldb, float beta, float* c, Index ldc) {
  const auto status = dnnl::sgemm(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (status != dnnl::status::success)
    throw Error("oneDNN sgemm failed on a [" + std::to_string(m) + " x " + std::to_string(k) + "] x [" +
                std::to_string(k) + " x " + std::to_string(n) + "] product");
}

void invert_leaf(float* a, Index n, Index ld) {
  RowBlock block(a, n, n, Eigen::OuterStride<>(ld));
  const Eigen::MatrixXf copy = block;
  const Eigen::LLT<Eigen::MatrixXf> llt(copy);
  if (llt.info() != Eigen::Success) throw Error("the matrix is not positive definite");
  block = llt.solve(Eigen::MatrixXf::Identity(n, n));
}

// The half split rounded to a multiple of 16 floats, so that the blocks'
// rows start on cache-line boundaries whenever the matrix's do.
Index split_point(Index n) { return std::max<Index>(16, (n / 2) / 16 * 16); }

// With A = [A11 A21^T; A21 A22], X = A^-1 and the Schur complement
// S = A22 - A21 A11^-1 A21^T:
//   X11 = A11^-1 + T^T S^-1 T,  X21 = -S^-1 T,  X22 = S^-1,  where T = A21 A11^-1.
// Four products of about (n/2)^3 each, then two half-size inverses.
void invert(float* a, Index n, Index ld, float* workspace) {
  if (n <= kLeafSize) {
    invert_leaf(a, n, ld);
    return;
  }
  const Index h = split_point(n), r = n - h;
  float* a11 = a;
  float* a12 = a + h;
  float* a21 = a + h * ld;
  float* a22 = a21 + h;
  float* t = workspace;  // [r x h]
  invert(a11, h, ld, workspace);
  gemm('N', 'N', r, h, h, 1.0f, a21, ld, a11, ld, 0.0f, t, h);     // T = A21 X11
  gemm('N', 'N', r, r, h, -1.0f, t, h, a12, ld, 1.0f, a22, ld);    // S = A22 - T A12
  invert(a22, r, ld, workspace + r * h);
  gemm('N', 'N', r, h, r, -1.0f, a22, ld, t, h, 0.0f, a21, ld);    // X21 = -X22 T
  gemm('T', 'N', h, h, r, -1.0f, t, h, a21, ld, 1.0f, a11, ld);    // X11 -= T^T X21
  RowBlock(a12, h, r, Eigen::OuterStride<>(ld)) = RowBlock(a21, r, h, Eigen::OuterStride<>(ld)).transpose();
}

}  // namespace

std::size_t spd_inverse_workspace_floats(Index n) {
  std::size_t floats = 0;
  while (n > kLeafSize) {
    const Index h = split_point(n);
    floats += static_cast<std::size_t>(n - h) * static_cast<std::size_t>(h);
    n -= h;  // the deepest chain of live workspaces runs through the A22 halves
  }
  return floats;
}

void invert_spd_in_place(float* a, Index n, Index ld) {
  if (n == 0) return;
  bind_thread_count();
  std::vector<float> workspace(spd_inverse_workspace_floats(n));
  invert(a, n, ld, workspace.data());
}

}  // namespace aisle::detail
