#include "backend/spd_inverse.hpp"

#include <Eigen/Cholesky>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "aisle/core/error.hpp"
#include "core/parallel_for.hpp"
#include "core/thread_binding.hpp"

namespace aisle::detail {
namespace {

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

// dst = src^T for src [rows x cols], in tiles that stay in cache, on all threads.
void copy_transposed(const float* src, Index rows, Index cols, Index lds, float* dst, Index ldd) {
  constexpr Index kTile = 64;
  const Index row_tiles = (rows + kTile - 1) / kTile;
  parallel_for(row_tiles, {}, [&](Index tile) {
    const Index r0 = tile * kTile, r1 = std::min(rows, r0 + kTile);
    for (Index c0 = 0; c0 < cols; c0 += kTile) {
      const Index c1 = std::min(cols, c0 + kTile);
      for (Index c = c0; c < c1; ++c)
        for (Index r = r0; r < r1; ++r) dst[c * ldd + r] = src[r * lds + c];
    }
  });
}

// Fills the symmetric [n x n] result c (rows ldc apart) by calling
// product(row, rows, col, cols) on its diagonal blocks and the blocks below
// them, then mirroring those onto the blocks above: half the work of the
// whole product, down to blocks of leaf rows.
template <class Product>
void symmetric_blocks(Index offset, Index n, Index leaf, float* c, Index ldc, const Product& product) {
  if (n <= leaf) {
    product(offset, n, offset, n);
    return;
  }
  const Index h = split_point(n);
  product(offset + h, n - h, offset, h);
  symmetric_blocks(offset, h, leaf, c, ldc, product);
  symmetric_blocks(offset + h, n - h, leaf, c, ldc, product);
  float* lower_left = c + (offset + h) * ldc + offset;
  copy_transposed(lower_left, n - h, h, ldc, c + offset * ldc + offset + h, ldc);
}

// With A = [A11 A21^T; A21 A22], X = A^-1 and the Schur complement
// S = A22 - A21 A11^-1 A21^T:
//   X11 = A11^-1 + T^T S^-1 T,  X21 = -S^-1 T,  X22 = S^-1,  where T = A21 A11^-1.
// Four products of about (n/2)^3 each, two of them symmetric (half the
// work), then two half-size inverses: about n^3 in all.
void invert(float* a, Index n, Index ld, float* workspace, const SpdInverseShape& shape) {
  if (n <= shape.leaf) {
    invert_leaf(a, n, ld);
    return;
  }
  const Index h = split_point(n), r = n - h;
  float* a11 = a;
  float* a12 = a + h;
  float* a21 = a + h * ld;
  float* a22 = a21 + h;
  float* t = workspace;  // [r x h]
  invert(a11, h, ld, workspace, shape);
  gemm('N', 'N', r, h, h, 1.0f, a21, ld, a11, ld, 0.0f, t, h);  // T = A21 X11
  symmetric_blocks(0, r, shape.symmetric_leaf, a22, ld, [&](Index i, Index rows, Index j, Index cols) {  // S = A22 - T A12
    gemm('N', 'N', rows, cols, h, -1.0f, t + i * h, h, a12 + j, ld, 1.0f, a22 + i * ld + j, ld);
  });
  invert(a22, r, ld, workspace + r * h, shape);
  gemm('N', 'N', r, h, r, -1.0f, a22, ld, t, h, 0.0f, a21, ld);  // X21 = -X22 T
  symmetric_blocks(0, h, shape.symmetric_leaf, a11, ld, [&](Index i, Index rows, Index j, Index cols) {  // X11 -= T^T X21
    gemm('T', 'N', rows, cols, r, -1.0f, t + i, h, a21 + j, ld, 1.0f, a11 + i * ld + j, ld);
  });
  copy_transposed(a21, r, h, ld, a12, ld);
}

}  // namespace

std::size_t spd_inverse_workspace_floats(Index n, const SpdInverseShape& shape) {
  std::size_t floats = 0;
  while (n > shape.leaf) {
    const Index h = split_point(n);
    floats += static_cast<std::size_t>(n - h) * static_cast<std::size_t>(h);
    n -= h;  // the deepest chain of live workspaces runs through the A22 halves
  }
  return floats;
}

void invert_spd_in_place(float* a, Index n, Index ld, const SpdInverseShape& shape) {
  if (n == 0) return;
  if (shape.leaf < 16 || shape.symmetric_leaf < 16) throw Error("spd inverse: leaves under 16 rows");
  bind_thread_count();
  std::vector<float> workspace(spd_inverse_workspace_floats(n, shape));
  invert(a, n, ld, workspace.data(), shape);
}

}  // namespace aisle::detail
