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
#define AISLE_GEMM_VECTORISED 1
#include "backend/gemm_tiles.hpp"
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
  Eigen::Map<Matrix, 0, Eigen::OuterStride<>> mc(c.data, a.rows, b.cols, Eigen::OuterStride<>(c.row_stride));
  if (a.cols == 0) {
    // An empty inner dimension: Eigen would still offset the operands' null
    // pointers column by column, which is undefined behaviour.
    if (b_column_sums != nullptr) Eigen::Map<RowVector>(b_column_sums, b.cols).setZero();
    mc.setZero();
  } else {
    if (b_column_sums != nullptr) Eigen::Map<RowVector>(b_column_sums, b.cols) = mb.colwise().sum();
    mc.noalias() = ma * mb;
  }
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
