#pragma once

// packed_gemm's tile kernels: a kRows x kCols tile of c multiplied over k
// from rows of a and a panel of b, the packing of panels, and the epilogue
// (bias, ReLU, ReLU mask) applied as a tile is stored. Included by
// src/backend/packed_gemm.cpp alone (see gemm_simd.hpp for why it sits in an
// anonymous namespace); the scheduling of tiles over threads stays there.

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "backend/gemm_simd.hpp"
#include "backend/packed_gemm.hpp"

namespace aisle::detail {
namespace {

// A tile of c is kRows x kCols, held in 2 * kRows vector registers while the
// loop over k runs: 12 or 16 accumulators hide the FMA latency on two FMA
// ports. With AVX2's 16 registers (two loads of b and a broadcast of a
// besides) that allows 6 rows; AVX-512's 32 take 8, which reads each vector of
// b for 8 rows instead of 6 and divides the batch sizes and 784 without a
// remainder band. More rows would not pay: 8 already keeps both FMA ports
// fed, and taller tiles leave remainder bands again (docs/performance.md).
constexpr Index kRows = Simd::kLanes == 16 ? 8 : 6;
constexpr Index kVecsPerRow = 2;
constexpr Index kCols = kVecsPerRow * Simd::kLanes;

struct Tile {
  Vec acc[kRows][kVecsPerRow];
};

// How the kernel reads kRows rows of a: either kRows row pointers walking
// along k (a row-major), or one pointer to kRows consecutive floats per k,
// stepping k_stride (a transposed, or a packed edge panel).
struct RowMajorRows {
  const float* base;
  Index row_stride;
  const float* at(Index r, Index k) const { return base + r * row_stride + k; }
  RowMajorRows from_row(Index r) const { return {base + r * row_stride, row_stride}; }
};
struct KMajorRows {
  const float* base;
  Index k_stride;
  const float* at(Index r, Index k) const { return base + k * k_stride + r; }
  KMajorRows from_row(Index r) const { return {base + r, k_stride}; }
};

// With kPacking, b_panel points into b itself (any alignment) and each row of
// the panel is also stored to packed_panel as it is read: the first band to
// use a panel packs it, instead of a separate pass over b before the product.
template <class Rows, bool kPacking = false>
[[gnu::always_inline]] inline void multiply_tile(const Rows a, const float* b_panel, Index b_stride, Index k,
                                                 Tile& tile, float* packed_panel = nullptr) {
  // A local array, fully unrolled, that GCC keeps in registers (accumulating
  // into the caller's tile directly would go through memory).
  Vec acc[kRows][kVecsPerRow];
#pragma GCC unroll 8
  for (Index r = 0; r < kRows; ++r)
#pragma GCC unroll 2
    for (Index v = 0; v < kVecsPerRow; ++v) acc[r][v] = Simd::zero();
  // Unrolled, so that the loop counter and pointer steps are paid once per
  // four steps of k instead of competing with every step's FMAs.
#pragma GCC unroll 4
  for (Index p = 0; p < k; ++p) {
    const float* b_row = b_panel + p * b_stride;
    Vec b[kVecsPerRow];
#pragma GCC unroll 2
    for (Index v = 0; v < kVecsPerRow; ++v) {
      if constexpr (kPacking) {
        b[v] = Simd::load(b_row + v * Simd::kLanes);
        Simd::store_aligned(packed_panel + p * kCols + v * Simd::kLanes, b[v]);
      } else {
        b[v] = Simd::load_aligned(b_row + v * Simd::kLanes);
      }
    }
#pragma GCC unroll 8
    for (Index r = 0; r < kRows; ++r) {
      const Vec ar = Simd::broadcast(a.at(r, p));
#pragma GCC unroll 2
      for (Index v = 0; v < kVecsPerRow; ++v) acc[r][v] = Simd::fmadd(ar, b[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (Index r = 0; r < kRows; ++r)
#pragma GCC unroll 2
    for (Index v = 0; v < kVecsPerRow; ++v) tile.acc[r][v] = acc[r][v];
}

// p + offset, or null for an epilogue input that is not there.
inline const float* offset_or_null(const float* p, Index offset) { return p != nullptr ? p + offset : nullptr; }

// The first `lanes` floats at p (a whole vector, or fewer without touching
// the memory past them).
[[gnu::always_inline]] inline Vec load_lanes(const float* p, Index lanes) {
  return lanes == Simd::kLanes ? Simd::load(p) : Simd::load_first(p, lanes);
}
[[gnu::always_inline]] inline void store_lanes(float* p, Vec v, Index lanes) {
  if (lanes == Simd::kLanes) {
    Simd::store(p, v);
  } else {
    Simd::store_first(p, v, lanes);
  }
}

// bias and mask point at the result's column in the bias row and at its
// place in the mask, or are null.
// With lanes < Simd::kLanes only the first lanes of bias and mask are read.
[[gnu::always_inline]] inline Vec finish(Vec v, const float* bias, const float* mask, const GemmEpilogue& e,
                                         Index lanes = Simd::kLanes) {
  if (bias != nullptr) v = Simd::add(v, load_lanes(bias, lanes));
  // Zero first: where v is NaN, max returns its second operand, so a NaN
  // stays NaN (as std::max(v, 0.0f) and the other backends keep it) instead
  // of turning into a plausible 0.
  if (e.relu) v = Simd::max(Simd::zero(), v);
  if (mask != nullptr) v = Simd::where_positive(load_lanes(mask, lanes), v);
  return v;
}

float finish(float v, const float* bias, const float* mask, const GemmEpilogue& e) {
  if (bias != nullptr) v += *bias;
  if (e.relu) v = std::max(v, 0.0f);
  if (mask != nullptr && !(*mask > 0.0f)) v = 0.0f;
  return v;
}

// The partial tiles at the edges of c, element by element.
[[gnu::noinline]] void store_partial_tile(const Tile& t, Index rows, Index cols, float* c, Index ldc,
                                          const float* bias, const float* mask, const GemmEpilogue& e) {
  alignas(64) float spill[kRows][kCols];
  for (Index r = 0; r < rows; ++r)
    for (Index v = 0; v < kVecsPerRow; ++v) Simd::store(&spill[r][v * Simd::kLanes], t.acc[r][v]);
  for (Index r = 0; r < rows; ++r)
    for (Index j = 0; j < cols; ++j)
      c[r * ldc + j] =
          finish(spill[r][j], offset_or_null(bias, j), offset_or_null(mask, r * e.relu_mask_stride + j), e);
}

// Stores rows x cols of the tile at c, which is element (row0, col0) of the
// product. Inlined, so that a whole tile goes from registers to c.
[[gnu::always_inline]] inline void store_tile(const Tile& t, Index rows, Index cols, float* c, Index ldc, Index row0,
                                              Index col0, const GemmEpilogue& e) {
  const float* bias = offset_or_null(e.bias, col0);
  const float* mask = offset_or_null(e.relu_mask, row0 * e.relu_mask_stride + col0);
  if (rows != kRows || cols != kCols) return store_partial_tile(t, rows, cols, c, ldc, bias, mask, e);
  // Two loops, so that the common unmasked store has no mask test in it.
  if (mask == nullptr) {
    for (Index r = 0; r < kRows; ++r)
      for (Index v = 0; v < kVecsPerRow; ++v)
        Simd::store(c + r * ldc + v * Simd::kLanes,
                    finish(t.acc[r][v], offset_or_null(bias, v * Simd::kLanes), nullptr, e));
  } else {
    for (Index r = 0; r < kRows; ++r)
      for (Index v = 0; v < kVecsPerRow; ++v)
        Simd::store(c + r * ldc + v * Simd::kLanes,
                    finish(t.acc[r][v], offset_or_null(bias, v * Simd::kLanes),
                           mask + r * e.relu_mask_stride + v * Simd::kLanes, e));
  }
}

// Transposes the 8 x 8 block whose rows are in r.
void transpose_8x8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

// Eight panel columns from eight rows of a row-major matrix (row i, element
// p at rows[i * stride + p]): panel[p * kCols + i] = rows[i * stride + p].
void pack_transposed_columns(const float* rows, Index stride, Index k, float* panel) {
  Index p = 0;
  for (; p + 8 <= k; p += 8) {
    __m256 block[8];
    for (int i = 0; i < 8; ++i) block[i] = _mm256_loadu_ps(rows + i * stride + p);
    transpose_8x8(block);
    for (int q = 0; q < 8; ++q) _mm256_storeu_ps(panel + (p + q) * kCols, block[q]);
  }
  for (; p < k; ++p)
    for (Index i = 0; i < 8; ++i) panel[p * kCols + i] = rows[i * stride + p];
}

// Copies columns [col0, col0 + kCols) of b into k rows of kCols floats,
// zero past the last column, so that the kernel loads whole aligned vectors.
// (Whole panels of a row-major b are packed by the kernel as it reads them.)
void pack_b_panel(const GemmOperand& b, Index col0, float* panel) {
  const Index cols = std::min(kCols, b.cols - col0);
  if (cols < kCols) std::fill(panel, panel + b.rows * kCols, 0.0f);
  if (b.col_stride == 1) {
    for (Index p = 0; p < b.rows; ++p)
      std::memcpy(panel + p * kCols, b.data + p * b.row_stride + col0, static_cast<std::size_t>(cols) * sizeof(float));
    return;
  }
  Index j = 0;
  if (b.row_stride == 1)  // b is a transposed row-major matrix: 8 x 8 blocks
    for (; j + 8 <= cols; j += 8) pack_transposed_columns(b.data + (col0 + j) * b.col_stride, b.col_stride, b.rows,
                                                         panel + j);
  for (; j < cols; ++j) {
    const float* column = b.data + (col0 + j) * b.col_stride;
    for (Index p = 0; p < b.rows; ++p) panel[p * kCols + j] = column[p * b.row_stride];
  }
}

// Rows [row0, row0 + rows) of a as k groups of kRows floats, zero-padded.
void pack_a_panel(const GemmOperand& a, Index row0, Index rows, float* panel) {
  std::fill(panel, panel + a.cols * kRows, 0.0f);
  for (Index r = 0; r < rows; ++r) {
    const float* row = a.data + (row0 + r) * a.row_stride;
    for (Index p = 0; p < a.cols; ++p) panel[p * kRows + r] = row[p * a.col_stride];
  }
}

// Where the kernel reads b: column panel j starts at base + j * panel_step,
// and its row p lies k_step floats after row p - 1. Either packed panels, or
// b itself when its rows are aligned whole panels.
struct Panels {
  const float* base;
  Index panel_step;
  Index k_step;

  const float* panel(Index j) const { return base + j * panel_step; }
};

// A band of at most kShortRows rows (the last of a product whose rows are
// not a multiple of kRows: with AVX2's 6 rows, 2 of 128, 4 of 256 or 784)
// would keep the full tile's FMAs busy on zero rows: instead two rows at a
// time meet two panels at once, in 8 accumulators, which still hide the FMA
// latency.
constexpr Index kShortRows = 4;
constexpr Index kPairRows = 2;

template <class Rows>
[[gnu::always_inline]] inline void multiply_two_rows(const Rows a, const float* b0, const float* b1, Index b_stride,
                                                     Index k, Tile& t0, Tile& t1) {
  Vec acc[kPairRows][2 * kVecsPerRow];
#pragma GCC unroll 2
  for (Index r = 0; r < kPairRows; ++r)
#pragma GCC unroll 4
    for (Index v = 0; v < 2 * kVecsPerRow; ++v) acc[r][v] = Simd::zero();
#pragma GCC unroll 4
  for (Index p = 0; p < k; ++p) {
    Vec b[2 * kVecsPerRow];
#pragma GCC unroll 2
    for (Index v = 0; v < kVecsPerRow; ++v) {
      b[v] = Simd::load_aligned(b0 + p * b_stride + v * Simd::kLanes);
      b[kVecsPerRow + v] = Simd::load_aligned(b1 + p * b_stride + v * Simd::kLanes);
    }
#pragma GCC unroll 2
    for (Index r = 0; r < kPairRows; ++r) {
      const Vec ar = Simd::broadcast(a.at(r, p));
#pragma GCC unroll 4
      for (Index v = 0; v < 2 * kVecsPerRow; ++v) acc[r][v] = Simd::fmadd(ar, b[v], acc[r][v]);
    }
  }
#pragma GCC unroll 2
  for (Index r = 0; r < kPairRows; ++r)
#pragma GCC unroll 2
    for (Index v = 0; v < kVecsPerRow; ++v) {
      t0.acc[r][v] = acc[r][v];
      t1.acc[r][v] = acc[r][kVecsPerRow + v];
    }
}

template <class Rows>
void multiply_short_band(const Rows rows_of_a, Index rows, Index row0, Index first, Index last, const Panels& panels,
                         const GemmOperand& b, GemmOutput c, const GemmEpilogue& e) {
  for (Index r = 0; r < rows; r += kPairRows) {
    const Index pair_rows = std::min(kPairRows, rows - r);
    for (Index j = first; j < last; j += 2) {
      const Index pair = std::min(j + 1, last - 1);  // an odd last panel pairs with itself
      Tile t0, t1;
      multiply_two_rows(rows_of_a.from_row(r), panels.panel(j), panels.panel(pair), panels.k_step, b.rows, t0, t1);
      auto store = [&](const Tile& tile, Index panel) {
        const Index col0 = panel * kCols;
        store_tile(tile, pair_rows, std::min(kCols, b.cols - col0), c.data + (row0 + r) * c.row_stride + col0,
                   c.row_stride, row0 + r, col0, e);
      };
      store(t0, j);
      if (pair != j) store(t1, pair);
    }
  }
}

// Column panels [first, last) of one band of c, from kRows rows of a. With
// packed_b (the buffer panels reads from), the panels are packed into it on
// the way (see multiply_tile).
template <class Rows>
void multiply_panels(const Rows rows_of_a, Index rows, Index row0, Index first, Index last, const Panels& panels,
                     const GemmOperand& b, GemmOutput c, const GemmEpilogue& e, float* packed_b) {
  if (rows <= kShortRows && packed_b == nullptr)
    return multiply_short_band(rows_of_a, rows, row0, first, last, panels, b, c, e);
  for (Index j = first; j < last; ++j) {
    const Index col0 = j * kCols;
    const Index cols = std::min(kCols, b.cols - col0);
    Tile tile;
    if (packed_b != nullptr && cols == kCols && b.col_stride == 1) {
      multiply_tile<Rows, true>(rows_of_a, b.data + col0, b.row_stride, b.rows, tile, packed_b + j * kCols * b.rows);
    } else {
      if (packed_b != nullptr) pack_b_panel(b, col0, packed_b + j * kCols * b.rows);
      multiply_tile(rows_of_a, panels.panel(j), panels.k_step, b.rows, tile);
    }
    store_tile(tile, rows, cols, c.data + row0 * c.row_stride + col0, c.row_stride, row0, col0, e);
  }
}

// A b of at most one vector's width (a 10-class layer: 10 of a full tile's 32
// columns with AVX-512) is read in place, a row of b one partial vector, and
// the band's rows each accumulate into one register: a third of the FMAs of
// a full tile, and no packing.
bool narrow(const GemmOperand& b) { return b.cols <= Simd::kLanes && b.col_stride == 1; }

template <class Rows>
void multiply_narrow(const Rows a, Index rows, const GemmOperand& b, float* c, Index ldc, Index row0,
                     const GemmEpilogue& e) {
  const Index n = b.cols, k = b.rows, b_stride = b.row_stride;
  const float* b_data = b.data;
  Vec acc[kRows];
#pragma GCC unroll 8
  for (Index r = 0; r < kRows; ++r) acc[r] = Simd::zero();
#pragma GCC unroll 4
  for (Index p = 0; p < k; ++p) {
    const Vec b_row = Simd::load_first(b_data + p * b_stride, n);
#pragma GCC unroll 8
    for (Index r = 0; r < kRows; ++r) acc[r] = Simd::fmadd(Simd::broadcast(a.at(r, p)), b_row, acc[r]);
  }
  // Unrolled with a test instead of a loop to `rows`: indexed by a variable,
  // acc would live in memory and be stored on every step over k.
#pragma GCC unroll 8
  for (Index r = 0; r < kRows; ++r) {
    if (r >= rows) break;
    const float* mask = offset_or_null(e.relu_mask, (row0 + r) * e.relu_mask_stride);
    store_lanes(c + r * ldc, finish(acc[r], e.bias, mask, e, n), n);
  }
}

// Column panels [first, last) of band `band` (kRows rows) of c, or all its
// columns for a narrow b. Whole bands of a row-major or transposed a are read
// in place; the last, partial band (and an a with other strides) is packed
// into edge_panel first.
void multiply_band(const GemmOperand& a, Index band, Index first, Index last, const Panels& panels,
                   const GemmOperand& b, GemmOutput c, const GemmEpilogue& e, float* edge_panel,
                   float* packed_b = nullptr) {
  const Index row0 = band * kRows;
  const Index rows = std::min(kRows, a.rows - row0);
  auto multiply = [&](const auto rows_of_a) {
    if (narrow(b)) return multiply_narrow(rows_of_a, rows, b, c.data + row0 * c.row_stride, c.row_stride, row0, e);
    multiply_panels(rows_of_a, rows, row0, first, last, panels, b, c, e, packed_b);
  };
  if (rows == kRows && a.col_stride == 1) return multiply(RowMajorRows{a.data + row0 * a.row_stride, a.row_stride});
  if (rows == kRows && a.row_stride == 1) return multiply(KMajorRows{a.data + row0, a.col_stride});
  pack_a_panel(a, row0, rows, edge_panel);
  multiply(KMajorRows{edge_panel, kRows});
}

// A short row-major b whose rows start on cache lines and hold whole panels
// is read in place: the kernel's loads are as aligned as from packed panels,
// and the copy is saved. A long one is packed: its panels' rows, a power-of-two
// stride apart, crowd into a few cache sets and evict each other before the
// next band reads them again, which costs more than the copy saves.
bool readable_in_place(const GemmOperand& b) {
  constexpr std::uintptr_t kLine = 64;
  constexpr Index kMaxRows = 256;
  return b.col_stride == 1 && b.rows <= kMaxRows && b.cols % kCols == 0 &&
         (b.row_stride * sizeof(float)) % kLine == 0 && reinterpret_cast<std::uintptr_t>(b.data) % kLine == 0;
}

// An empty sum is zero: what is left is the epilogue.
void finish_empty_sums(Index m, Index n, GemmOutput c, const GemmEpilogue& e) {
  for (Index i = 0; i < m; ++i)
    for (Index j = 0; j < n; ++j) {
      float* out = c.data + i * c.row_stride + j;
      *out = finish(0.0f, offset_or_null(e.bias, j), offset_or_null(e.relu_mask, i * e.relu_mask_stride + j), e);
    }
}

// Columns [begin, end) of b summed over its rows, row after row.
void sum_columns(const GemmOperand& b, Index begin, Index end, float* sums) {
  std::fill(sums + begin, sums + end, 0.0f);
  for (Index p = 0; p < b.rows; ++p) {
    const float* row = b.data + p * b.row_stride;
    if (b.col_stride == 1) {
      for (Index j = begin; j < end; ++j) sums[j] += row[j];
    } else {
      for (Index j = begin; j < end; ++j) sums[j] += row[j * b.col_stride];
    }
  }
}

}  // namespace
}  // namespace aisle::detail
