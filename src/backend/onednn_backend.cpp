#include "backend/onednn_backend.hpp"

#include <array>
#include <unordered_map>
#include <vector>

#include "aisle/core/error.hpp"
#include "backend/onednn_compat.hpp"
#include "backend/onednn_engine.hpp"
#include "backend/row_kernel.hpp"

namespace aisle::detail {
namespace {

using dnnl::memory;
using Dims = memory::dims;

memory::desc matrix_desc(Index rows, Index cols, Index row_stride, Index col_stride) {
  return memory::desc(Dims{rows, cols}, memory::data_type::f32, Dims{row_stride, col_stride});
}

// One primitive with its memory objects and argument map, for one shape.
struct CachedPrimitive {
  std::array<Index, 6> key{};
  dnnl::primitive primitive;
  std::unordered_map<int, memory> args;
  memory scratchpad;
};

class OneDnnCache final : public KernelCache {
 public:
  OneDnnCache() : stream_(cpu_engine()) {}

  template <class MakePd>
  CachedPrimitive& find_or_make(const std::array<Index, 6>& key, const MakePd& make_pd,
                                std::initializer_list<std::pair<int, memory::desc>> arg_descs) {
    for (auto& entry : entries_)
      if (entry.key == key) return entry;
    auto pd = make_pd();
    CachedPrimitive entry;
    entry.key = key;
    entry.primitive = dnnl::primitive(pd);
    for (const auto& [arg, desc] : arg_descs) entry.args.emplace(arg, memory(desc, cpu_engine(), nullptr));
    entry.scratchpad = memory(pd.scratchpad_desc(), cpu_engine());
    entry.args.emplace(DNNL_ARG_SCRATCHPAD, entry.scratchpad);
    entries_.push_back(std::move(entry));
    return entries_.back();
  }

  void run(CachedPrimitive& entry, std::initializer_list<std::pair<int, const float*>> handles) {
    for (const auto& [arg, ptr] : handles) entry.args.at(arg).set_data_handle(const_cast<float*>(ptr));
    entry.primitive.execute(stream_, entry.args);
    stream_.wait();
  }

 private:
  dnnl::stream stream_;
  std::vector<CachedPrimitive> entries_;
};

constexpr Index kDirectRowLimit = 1;

enum Op : Index { kDenseForward = 1, kDenseForwardRelu, kInputGrad, kRelu, kSoftmax };

}  // namespace

void OneDnnBackend::dense_forward(ConstMatrixRef x, const Matrix& w, const Matrix& b, Activation act, Matrix& y,
                                  KernelSlot& slot) const {
  const Index m = x.rows(), k = x.cols(), n = w.cols();
  y.resize(m, n);
  const bool relu = act == Activation::relu;
  if (m == 0) return;
  // A single row is a matrix-vector product: direct code beats a primitive's
  // dispatch overhead there.
  if (m == 1) return dense_row_forward(x.data(), w, b, relu, y.data());
  auto& cache = slot.get<OneDnnCache>();
  const auto src = matrix_desc(m, k, x.outerStride(), 1);
  const auto weights = matrix_desc(k, n, n, 1);
  const auto bias = matrix_desc(1, n, n, 1);
  const auto dst = matrix_desc(m, n, n, 1);
  auto& entry = cache.find_or_make({relu ? kDenseForwardRelu : kDenseForward, m, k, n, x.outerStride(), 0},
                                   [&] { return onednn::matmul_pd(cpu_engine(), src, weights, &bias, dst, relu); },
                                   {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_BIAS, bias},
                                    {DNNL_ARG_DST, dst}});
  cache.run(entry, {{DNNL_ARG_SRC, x.data()}, {DNNL_ARG_WEIGHTS, w.data()}, {DNNL_ARG_BIAS, b.data()},
                    {DNNL_ARG_DST, y.data()}});
}

void OneDnnBackend::dense_backward(ConstMatrixRef x, const Matrix& w, ConstMatrixRef dz, Matrix& dw, Matrix& db,
                                   Matrix* dx, bool mask_dx_with_relu_of_x, KernelSlot& slot) const {
  const Index m = x.rows(), k = x.cols(), n = w.cols();
  auto& cache = slot.get<OneDnnCache>();
  dw.resize(k, n);
  // dw = x^T dz through oneDNN's GEMM: at these shapes (a short batch, a
  // long k) it shares the work between threads better than a matmul
  // primitive over a transposed source (docs/performance.md).
  const auto status = dnnl::sgemm('T', 'N', k, n, m, 1.0f, x.data(), x.outerStride(), dz.data(), dz.outerStride(),
                                  0.0f, dw.data(), n);
  if (status != dnnl::status::success) throw Error("oneDNN sgemm failed for the weight gradient");
  db.resize(1, n);
  db.noalias() = dz.colwise().sum();
  if (dx == nullptr) return;
  dx->resize(m, k);
  const auto dz_md = matrix_desc(m, n, dz.outerStride(), 1);
  const auto w_t = matrix_desc(n, k, 1, n);
  const auto dx_md = matrix_desc(m, k, k, 1);
  auto& entry = cache.find_or_make({kInputGrad, m, k, n, dz.outerStride(), 0},
                                   [&] { return onednn::matmul_pd(cpu_engine(), dz_md, w_t, nullptr, dx_md, false); },
                                   {{DNNL_ARG_SRC, dz_md}, {DNNL_ARG_WEIGHTS, w_t}, {DNNL_ARG_DST, dx_md}});
  cache.run(entry, {{DNNL_ARG_SRC, dz.data()}, {DNNL_ARG_WEIGHTS, w.data()}, {DNNL_ARG_DST, dx->data()}});
  if (mask_dx_with_relu_of_x) EigenBackend::relu_backward(x, *dx, *dx, slot);
}

void OneDnnBackend::relu_forward(ConstMatrixRef x, Matrix& y, KernelSlot& slot) const {
  if (x.outerStride() != x.cols() || x.rows() <= kDirectRowLimit) return EigenBackend::relu_forward(x, y, slot);
  y.resize(x.rows(), x.cols());
  const auto data = matrix_desc(x.rows(), x.cols(), x.cols(), 1);
  auto& cache = slot.get<OneDnnCache>();
  auto& entry = cache.find_or_make({kRelu, x.rows(), x.cols(), 0, 0, 0},
                                   [&] { return onednn::relu_pd(cpu_engine(), data); },
                                   {{DNNL_ARG_SRC, data}, {DNNL_ARG_DST, data}});
  cache.run(entry, {{DNNL_ARG_SRC, x.data()}, {DNNL_ARG_DST, y.data()}});
}

void OneDnnBackend::softmax_forward(ConstMatrixRef x, Matrix& y, KernelSlot& slot) const {
  if (x.outerStride() != x.cols() || x.rows() <= kDirectRowLimit) return EigenBackend::softmax_forward(x, y, slot);
  y.resize(x.rows(), x.cols());
  const auto data = matrix_desc(x.rows(), x.cols(), x.cols(), 1);
  auto& cache = slot.get<OneDnnCache>();
  auto& entry = cache.find_or_make({kSoftmax, x.rows(), x.cols(), 0, 0, 0},
                                   [&] { return onednn::softmax_pd(cpu_engine(), data, 1); },
                                   {{DNNL_ARG_SRC, data}, {DNNL_ARG_DST, data}});
  cache.run(entry, {{DNNL_ARG_SRC, x.data()}, {DNNL_ARG_DST, y.data()}});
}

}  // namespace aisle::detail
