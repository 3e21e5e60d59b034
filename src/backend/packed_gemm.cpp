#include "backend/packed_gemm.hpp"

#include <omp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "aisle/core/error.hpp"
#include "core/work_share.hpp"

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#define AISLE_GEMM_VECTORISED 1
#endif

namespace aisle::detail {

float* GemmBuffers::reserve(std::vector<float>& storage, Index floats) {
  constexpr Index kAlignFloats = 16;  // 64 bytes: one cache line, one zmm
  const auto needed = static_cast<std::size_t>(floats + kAlignFloats);
  if (storage.size() < needed) storage.resize(needed);
  auto address = reinterpret_cast<std::uintptr_t>(storage.data());
  address = (address + 63) & ~std::uintptr_t{63};
  return reinterpret_cast<float*>(address);
}

float* GemmBuffers::packed_b(Index floats) { return reserve(packed_b_, floats); }
float* GemmBuffers::edge_panels(Index floats) { return reserve(edge_panels_, floats); }
float* GemmBuffers::second_half_sums(Index floats) { return reserve(second_half_sums_, floats); }

GemmBuffers& GemmBuffers::second_half() {
  if (!second_half_) second_half_ = std::make_unique<GemmBuffers>();
  return *second_half_;
}

namespace {

constexpr std::size_t kMaxProducts = 4;

void check_product_count(std::span<const GemmProduct> products) {
  if (products.size() > kMaxProducts)
    throw Error("packed_gemm: at most " + std::to_string(kMaxProducts) + " products per call, got " +
                std::to_string(products.size()));
}

}  // namespace

#if AISLE_GEMM_VECTORISED

bool packed_gemm_vectorised() { return true; }

namespace {

constexpr std::size_t kMaxWork = 2 * kMaxProducts;  // each product may be split in two

#if defined(AISLE_GEMM_WIDE_EMULATION)
// Test builds only (aisle-kernel-wide-tests): 16-lane vectors from GCC's
// generic vector extension, so that the AVX-512 tiling (8 x 32 tiles, 32-wide
// panels) runs and is checked on machines without AVX-512.
struct Simd {
  using Vec = float __attribute__((vector_size(64)));
  static constexpr Index kLanes = 16;
  static Vec zero() { return Vec{}; }
  static Vec broadcast(const float* p) { return Vec{} + *p; }
  static Vec load(const float* p) {
    Vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static Vec load_aligned(const float* p) { return load(p); }
  static void store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }
  static void store_aligned(float* p, Vec v) { store(p, v); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return a * b + c; }
  static Vec add(Vec a, Vec b) { return a + b; }
  static Vec max(Vec a, Vec b) { return a > b ? a : b; }
  static Vec where_positive(Vec mask, Vec v) { return mask > Vec{} ? v : Vec{}; }
  static Vec load_first(const float* p, Index count) {
    Vec v{};
    std::memcpy(&v, p, static_cast<std::size_t>(count) * sizeof(float));
    return v;
  }
  static void store_first(float* p, Vec v, Index count) {
    std::memcpy(p, &v, static_cast<std::size_t>(count) * sizeof(float));
  }
};
#elif defined(__AVX512F__)
struct Simd {
  using Vec = __m512;
  static constexpr Index kLanes = 16;
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static Vec load_aligned(const float* p) { return _mm512_load_ps(p); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static void store_aligned(float* p, Vec v) { _mm512_store_ps(p, v); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  // The masked form: GCC 12's _mm512_max_ps reads an undefined register and
  // warns about it (-Wmaybe-uninitialized).
  static Vec max(Vec a, Vec b) { return _mm512_maskz_max_ps(0xFFFF, a, b); }
  static Vec where_positive(Vec mask, Vec v) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(mask, zero(), _CMP_GT_OQ), v);
  }
  // The first count lanes (the others zero, their memory not touched).
  static __mmask16 first_lanes(Index count) { return static_cast<__mmask16>((1u << count) - 1); }
  static Vec load_first(const float* p, Index count) { return _mm512_maskz_loadu_ps(first_lanes(count), p); }
  static void store_first(float* p, Vec v, Index count) { _mm512_mask_storeu_ps(p, first_lanes(count), v); }
};
#else
struct Simd {
  using Vec = __m256;
  static constexpr Index kLanes = 8;
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static Vec load_aligned(const float* p) { return _mm256_load_ps(p); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  static void store_aligned(float* p, Vec v) { _mm256_store_ps(p, v); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static Vec max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
  static Vec where_positive(Vec mask, Vec v) { return _mm256_and_ps(_mm256_cmp_ps(mask, zero(), _CMP_GT_OQ), v); }
  static __m256i first_lanes(Index count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Vec load_first(const float* p, Index count) { return _mm256_maskload_ps(p, first_lanes(count)); }
  static void store_first(float* p, Vec v, Index count) { _mm256_maskstore_ps(p, first_lanes(count), v); }
};
#endif

using Vec = Simd::Vec;

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

// Below this many FLOP a product runs on the calling thread: waking the
// OpenMP team costs more than it saves.
constexpr double kParallelFlop = 1 << 18;

// Bands of c per unit of work handed to a thread, and the most threads one
// product uses.
constexpr Index kBandsPerChunk = 2;
constexpr int kMaxThreads = 64;

// One group of column panels of one product: its chunk counter, alone on its
// cache line (counters sharing a line would bounce it between the cores on
// every chunk taken), who packs its panels, whether they are packed yet, and
// who sums its columns of b.
struct alignas(64) Group {
  std::atomic<Index> next{0};
  std::atomic<bool> packing_claimed{false};
  std::atomic<bool> packed{false};
  std::atomic<bool> sums_claimed{false};
  int product = 0;
  int index = 0;  // within the product's groups
};

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

double flop_of(const GemmProduct& p) {
  return 2.0 * static_cast<double>(p.a.rows) * static_cast<double>(p.b.cols) * static_cast<double>(p.a.cols);
}

// What the threads of a call share about one of its products. Its work is
// divided into groups, about one per thread. A packed b is divided by column
// panels: each group packs its own panels and multiplies them with all of
// a's bands. A b read in place is divided by bands: each group owns a block
// of c's rows, so that a thread writes the rows it (not the other core) reads
// next: the weight gradient's rows that its share of the optimizer updates,
// the hidden rows that its band of the next layer multiplies.
struct Job {
  const GemmProduct* product = nullptr;
  Index k = 0, col_panels = 0, bands = 0;
  bool in_place = false;
  float* packed_b = nullptr;  // null when b is read in place
  Panels panels{};
  float* edge_panels = nullptr;  // k * kRows floats per thread
  int groups = 0;

  Job(const GemmProduct& p, int threads, int group_count)
      : product(&p),
        k(p.a.cols),
        col_panels((p.b.cols + kCols - 1) / kCols),
        bands((p.a.rows + kRows - 1) / kRows),
        in_place(narrow(p.b) || readable_in_place(p.b)),
        packed_b(in_place ? nullptr : p.buffers->packed_b(col_panels * kCols * k)),
        panels(in_place ? Panels{p.b.data, kCols, p.b.row_stride} : Panels{packed_b, kCols * k, kCols}),
        edge_panels(p.buffers->edge_panels(threads * k * kRows)),
        groups(static_cast<int>(std::min<Index>(group_count, in_place ? bands : col_panels))) {}

  Range bands_of(int g) const { return in_place ? contiguous_share(bands, g, groups) : Range{0, bands}; }
  Range panels_of(int g) const { return in_place ? Range{0, col_panels} : contiguous_share(col_panels, g, groups); }
  Index chunks_of(int g) const {
    const Range r = bands_of(g);
    return (r.end - r.begin + kBandsPerChunk - 1) / kBandsPerChunk;
  }

  // Bands [begin, end) of group g's panels; with pack, band begin packs them.
  void multiply_bands(Index begin, Index end, int g, float* edge_panel, bool pack = false) const {
    const Range own = panels_of(g);
    const GemmProduct& p = *product;
    for (Index band = begin; band < end; ++band)
      multiply_band(p.a, band, own.begin, own.end, panels, p.b, p.c, p.epilogue, edge_panel,
                    pack && band == begin ? packed_b : nullptr);
  }
  // Chunk `chunk` of group g's bands, from its band `from` on.
  void multiply_chunk(Index chunk, int g, float* edge_panel, Index from = 0) const {
    const Range r = bands_of(g);
    const Index begin = r.begin + chunk * kBandsPerChunk;
    multiply_bands(begin + from, std::min(r.end, begin + kBandsPerChunk), g, edge_panel);
  }
  // The column sums of b are shared out by column panels, whichever way c is.
  void sum_columns_of_group(int g) const {
    const Range own = contiguous_share(col_panels, g, groups);
    sum_columns(product->b, own.begin * kCols, std::min(product->b.cols, own.end * kCols), product->b_column_sums);
  }
};

// Groups wanted for each product: in proportion to its share of the total
// FLOP, at least one (Job caps them at one per column panel, or per band).
std::array<int, kMaxWork> groups_per_product(std::span<const GemmProduct> products, double total, int threads) {
  std::array<int, kMaxWork> groups{};
  for (std::size_t i = 0; i < products.size(); ++i) {
    const double share_of_threads = total > 0 ? threads * flop_of(products[i]) / total : 1.0;
    groups[i] = std::max(1, static_cast<int>(share_of_threads + 0.5));
  }
  return groups;
}

// Products with nothing to multiply: an empty sum is zero, the epilogue is
// left (and the column sums of b).
bool finish_trivial(const GemmProduct& p) {
  const Index m = p.a.rows, n = p.b.cols, k = p.a.cols;
  if (m != 0 && n != 0 && k != 0) return false;
  if (p.b_column_sums != nullptr) sum_columns(p.b, 0, n, p.b_column_sums);
  if (k == 0) finish_empty_sums(m, n, p.c, p.epilogue);
  return true;
}

// A product whose k is long against its result (the first layer's forward:
// k = 784 for a 128 x 128 result) is computed as two products over the
// halves of k, the first into c and the second into a buffer, added when both
// are done. Each thread then reads only its half of b, the weights' rows
// whose gradient it computes (a product by bands, see Job) and whose share of
// the optimizer it runs, which stay in its core's cache from one training
// step to the next instead of crossing between cores, where moving data is
// slow (docs/performance.md). The halves depend on the shape alone, so the
// result does not depend on the thread count.
bool split_over_k(const GemmProduct& p) {
  const Index k = p.a.cols;
  return p.b_column_sums == nullptr && flop_of(p) >= kParallelFlop && k >= 2 * std::max(p.a.rows, p.b.cols);
}

// The second half's sums, to add to c's (the first half's) before the
// epilogue, which waits until then.
struct SecondHalf {
  GemmOutput c;
  const float* sums = nullptr;  // m x n, rows n apart
  Index m = 0, n = 0;
  GemmEpilogue epilogue;

  // Rows [begin, end) of c = finish(c + sums).
  void add(Index begin, Index end) const {
    for (Index i = begin; i < end; ++i) {
      float* out = c.data + i * c.row_stride;
      const float* in = sums + i * n;
      for (Index j = 0; j < n; j += Simd::kLanes) {
        const Index lanes = std::min(Simd::kLanes, n - j);
        const Vec sum = Simd::add(load_lanes(out + j, lanes), load_lanes(in + j, lanes));
        store_lanes(out + j,
                    finish(sum, offset_or_null(epilogue.bias, j),
                           offset_or_null(epilogue.relu_mask, i * epilogue.relu_mask_stride + j), epilogue, lanes),
                    lanes);
      }
    }
  }
};

// p's two halves over k, appended to work, and what is left to do after both.
SecondHalf split(const GemmProduct& p, std::span<GemmProduct> work, std::size_t& count) {
  const Index k = p.a.cols, half = k / 2, m = p.a.rows, n = p.b.cols;
  GemmProduct first = p, second = p;
  first.a.cols = half;
  first.b.rows = half;
  first.epilogue = {};
  second.a.data += half * p.a.col_stride;
  second.a.cols = k - half;
  second.b.data += half * p.b.row_stride;
  second.b.rows = k - half;
  second.epilogue = {};
  second.buffers = &p.buffers->second_half();
  float* sums = p.buffers->second_half_sums(m * n);
  second.c = {sums, n};
  work[count++] = first;
  work[count++] = second;
  return {p.c, sums, m, n, p.epilogue};
}

}  // namespace

void packed_gemm(std::span<const GemmProduct> products) {
  check_product_count(products);
  std::array<GemmProduct, kMaxWork> work;
  std::array<SecondHalf, kMaxProducts> second_halves;
  std::size_t count = 0, halves = 0;
  double flop = 0;
  for (const GemmProduct& p : products) {
    if (finish_trivial(p)) continue;
    flop += flop_of(p);
    if (split_over_k(p)) {
      second_halves[halves++] = split(p, work, count);
    } else {
      work[count++] = p;
    }
  }
  if (count == 0) return;
  const std::span<const GemmProduct> todo(work.data(), count);
  const int threads = flop >= kParallelFlop ? std::min(omp_get_max_threads(), kMaxThreads) : 1;
  const auto wanted_groups = groups_per_product(todo, flop, threads);
  // Each product forms groups (about one per thread, split between the
  // products by their FLOP; see Job); each group's bands are handed out in
  // chunks from its own counter. Thread t starts on group t: it packs that
  // group's panels (so they stay in its core's cache) and works through it,
  // then helps with the chunks left in the other groups. When one core runs
  // slower (a busy neighbour on a virtual machine), the others finish its
  // share instead of waiting for it; independent products in one call share
  // one start of the team and one wait at its end.
  std::array<std::optional<Job>, kMaxWork> jobs;
  std::array<Group, kMaxThreads + kMaxWork> groups;
  int group_count = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const Job& job = jobs[i].emplace(todo[i], threads, wanted_groups[i]);
    for (int g = 0; g < job.groups; ++g) {
      Group& group = groups[static_cast<std::size_t>(group_count++)];
      group.product = static_cast<int>(i);
      group.index = g;
      // Packing needs no pass of its own: whoever claims the group first
      // keeps its chunk 0 and packs the panels as its first band multiplies
      // them. The others wait for that (one band), not for a barrier.
      group.next = job.in_place ? 0 : 1;
      group.packed = job.in_place;
    }
  }
  auto work_through_group = [&](Group& group, int t) {
    const Job& job = *jobs[static_cast<std::size_t>(group.product)];
    float* edge_panel = job.edge_panels + t * job.k * kRows;
    const bool packer = !job.in_place && !group.packing_claimed.exchange(true, std::memory_order_acq_rel);
    if (packer) {
      const Index first_band = job.bands_of(group.index).begin;
      job.multiply_bands(first_band, first_band + 1, group.index, edge_panel, true);
      group.packed.store(true, std::memory_order_release);
    }
    // The column sums of b, by the first thread to come (a helper, while
    // the packer multiplies its first band).
    if (job.product->b_column_sums != nullptr && !group.sums_claimed.exchange(true, std::memory_order_relaxed))
      job.sum_columns_of_group(group.index);
    if (packer) job.multiply_chunk(0, group.index, edge_panel, 1);
    while (!group.packed.load(std::memory_order_acquire)) _mm_pause();
    const Index chunks = job.chunks_of(group.index);
    for (Index chunk; (chunk = group.next.fetch_add(1, std::memory_order_relaxed)) < chunks;)
      job.multiply_chunk(chunk, group.index, edge_panel);
  };
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int t = omp_get_thread_num();
    for (int step = 0; step < group_count; ++step)
      work_through_group(groups[static_cast<std::size_t>((t + step) % group_count)], t);
    if (halves > 0) {
#pragma omp barrier
      const int team = omp_get_num_threads();
      for (std::size_t h = 0; h < halves; ++h) {
        const Range rows = contiguous_share(second_halves[h].m, t, team);
        second_halves[h].add(rows.begin, rows.end);
      }
    }
  }
}

#else  // no vector micro-kernels in this build

bool packed_gemm_vectorised() { return false; }

namespace {

void eigen_gemm(const GemmOperand& a, const GemmOperand& b, GemmOutput c, const GemmEpilogue& epilogue,
                float* b_column_sums) {
  using Strided = Eigen::Map<const Eigen::MatrixXf, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;
  const Strided ma(a.data, a.rows, a.cols, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(a.col_stride, a.row_stride));
  const Strided mb(b.data, b.rows, b.cols, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(b.col_stride, b.row_stride));
  if (b_column_sums != nullptr) Eigen::Map<RowVector>(b_column_sums, b.cols) = mb.colwise().sum();
  Eigen::Map<Matrix, 0, Eigen::OuterStride<>> mc(c.data, a.rows, b.cols, Eigen::OuterStride<>(c.row_stride));
  mc.noalias() = ma * mb;
  if (epilogue.bias != nullptr) mc.rowwise() += Eigen::Map<const RowVector>(epilogue.bias, b.cols);
  if (epilogue.relu) mc = mc.cwiseMax(0.0f);
  if (epilogue.relu_mask != nullptr) {
    const Eigen::Map<const Matrix, 0, Eigen::OuterStride<>> mask(epilogue.relu_mask, a.rows, b.cols,
                                                                Eigen::OuterStride<>(epilogue.relu_mask_stride));
    mc = (mask.array() > 0.0f).select(mc, 0.0f);
  }
}

}  // namespace

void packed_gemm(std::span<const GemmProduct> products) {
  check_product_count(products);
  for (const GemmProduct& p : products) eigen_gemm(p.a, p.b, p.c, p.epilogue, p.b_column_sums);
}

#endif

void packed_gemm(const GemmOperand& a, const GemmOperand& b, GemmOutput c, const GemmEpilogue& epilogue,
                 GemmBuffers& buffers, float* b_column_sums) {
  const GemmProduct product{a, b, c, epilogue, &buffers, b_column_sums};
  packed_gemm(std::span(&product, 1));
}

}  // namespace aisle::detail
