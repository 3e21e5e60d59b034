#include "backend/row_kernel.hpp"

#include <algorithm>

namespace aisle::detail {
namespace {

// Outputs per pass: 64 floats are 8 AVX2 or 4 AVX-512 registers, leaving
// room for the broadcast x value and the loads.
constexpr Index kBlock = 64;

template <Index Width>
void accumulate_block(const float* x, Index k, const float* w, Index stride, float* out) {
  float acc[Width];
  std::copy(out, out + Width, acc);
  for (Index i = 0; i < k; ++i) {
    const float xi = x[i];
    if (xi == 0.0f) continue;
    const float* row = w + i * stride;
#pragma GCC unroll 64
    for (Index c = 0; c < Width; ++c) acc[c] += xi * row[c];
  }
  std::copy(acc, acc + Width, out);
}

void accumulate_tail(const float* x, Index k, const float* w, Index stride, Index width, float* out) {
  for (Index i = 0; i < k; ++i) {
    const float xi = x[i];
    if (xi == 0.0f) continue;
    const float* row = w + i * stride;
    for (Index c = 0; c < width; ++c) out[c] += xi * row[c];
  }
}

}  // namespace

void dense_row_forward(const float* x, const Matrix& w, const Matrix& b, bool relu, float* y) {
  const Index k = w.rows(), n = w.cols();
  std::copy(b.data(), b.data() + n, y);
  Index c = 0;
  for (; c + kBlock <= n; c += kBlock) accumulate_block<kBlock>(x, k, w.data() + c, n, y + c);
  if (c < n) accumulate_tail(x, k, w.data() + c, n, n - c, y + c);
  if (relu) std::transform(y, y + n, y, [](float v) { return std::max(v, 0.0f); });
}

}  // namespace aisle::detail
