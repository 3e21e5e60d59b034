#pragma once

#include <memory>
#include <span>
#include <vector>

#include "aisle/core/tensor.hpp"

namespace aisle::detail {

// A read-only matrix operand: element (r, c) lies at
// data[r * row_stride + c * col_stride]. A row-major matrix has col_stride 1,
// its transpose row_stride 1; both are read in place, without a copy.
struct GemmOperand {
  const float* data = nullptr;
  Index rows = 0;
  Index cols = 0;
  Index row_stride = 0;
  Index col_stride = 1;

  static GemmOperand of(ConstMatrixRef m) { return {m.data(), m.rows(), m.cols(), m.outerStride(), 1}; }
  GemmOperand transposed() const { return {data, cols, rows, col_stride, row_stride}; }
};

struct GemmOutput {
  float* data = nullptr;
  Index row_stride = 0;
};

// What happens to each result before it is stored.
struct GemmEpilogue {
  const float* bias = nullptr;  // added to every row (one value per column)
  bool relu = false;
  // Zero wherever relu_mask (an [m x n] matrix, rows relu_mask_stride apart)
  // is not positive: the backward of the ReLU whose output is relu_mask.
  const float* relu_mask = nullptr;
  Index relu_mask_stride = 0;
};

// The packed right-hand operand and the per-thread edge panels of one call
// site; for a product split over k, the sums of its second half and that
// half's own buffers. Kept in a Workspace between calls: a steady state
// allocates nothing.
class GemmBuffers {
 public:
  float* packed_b(Index floats);
  float* edge_panels(Index floats);
  float* second_half_sums(Index floats);
  GemmBuffers& second_half();

 private:
  static float* reserve(std::vector<float>& storage, Index floats);
  std::vector<float> packed_b_;
  std::vector<float> edge_panels_;
  std::vector<float> second_half_sums_;
  std::unique_ptr<GemmBuffers> second_half_;
};

// One product c = act(a b + bias) of a packed_gemm call; with b_column_sums
// (b.cols floats), the column sums of b are written there too, each a
// sequential sum over b's rows (a bias gradient next to its weight gradient).
struct GemmProduct {
  GemmOperand a;
  GemmOperand b;
  GemmOutput c;
  GemmEpilogue epilogue;
  GemmBuffers* buffers = nullptr;  // one per product of a call
  float* b_column_sums = nullptr;
};

// Whether this build has the vector micro-kernels (AVX2 with FMA, or
// AVX-512); without them packed_gemm falls back to Eigen's product.
bool packed_gemm_vectorised();

// c = act(a b + bias) for a [m x k], b [k x n], c [m x n], split over
// the calling thread's OpenMP thread count when the product is large enough.
// Each element is one thread's sequential sum over k (or, when k is long
// against m and n, the sum of two such sums over the halves of k, in that
// order: the halves depend on the shape alone), so the result does not depend
// on the thread count (nor do the column sums of b).
void packed_gemm(const GemmOperand& a, const GemmOperand& b, GemmOutput c, const GemmEpilogue& epilogue,
                 GemmBuffers& buffers, float* b_column_sums = nullptr);

// Up to four independent products (none reads what another writes) by one
// team of threads: each thread starts on a product of its own and then helps
// with the others, so small products pay one start and one wait, not one each.
void packed_gemm(std::span<const GemmProduct> products);

}  // namespace aisle::detail
