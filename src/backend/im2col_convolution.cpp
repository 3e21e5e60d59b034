// The convolution every backend has unless it brings its own (oneDNN does):
// im2col, then the backend's dense kernels, so the native packed GEMM and
// the Eigen reference run convolutions with no code of their own.

#include <cstring>

#include "aisle/backend/backend.hpp"
#include "core/parallel_for.hpp"

namespace aisle {
namespace {

constexpr Index kParallelRows = 64;
constexpr Index kParallelValues = Index{1} << 15;

// What conv_forward keeps for conv_backward, in the caller's slot: the
// im2col matrix of the last forward (and which input it came from), and the
// dense kernel's own state.
struct Im2colScratch final : KernelCache {
  Matrix cols;
  const float* cols_source = nullptr;
  Matrix dz;  // a contiguous copy of a strided output gradient
  Matrix dcols;
  KernelSlot dense;
};

// Row (b * out_pixels + oy * out_width + ox) of cols: the receptive field of
// that output pixel, (ky, kx, c) fastest last; zeros where it falls in the
// padding.
void im2col(ConstMatrixRef x, const ConvGeometry& g, Matrix& cols) {
  const Index k = g.kernel, c = g.in_channels, out_pixels = g.out_pixels();
  cols.resize(x.rows() * out_pixels, g.patch_size());
  detail::parallel_for(cols.rows(), {.chunk = kParallelRows, .parallel = cols.size() > kParallelValues}, [&](Index row) {
    const Index b = row / out_pixels, pixel = row % out_pixels;
    const Index oy = pixel / g.out_width, ox = pixel % g.out_width;
    const float* image = x.row(b).data();
    float* patch = cols.row(row).data();
    for (Index ky = 0; ky < k; ++ky) {
      const Index iy = oy * g.stride + ky - g.pad_top;
      for (Index kx = 0; kx < k; ++kx) {
        const Index ix = ox * g.stride + kx - g.pad_left;
        float* to = patch + (ky * k + kx) * c;
        if (iy < 0 || iy >= g.in_height || ix < 0 || ix >= g.in_width) {
          std::memset(to, 0, static_cast<std::size_t>(c) * sizeof(float));
        } else {
          std::memcpy(to, image + (iy * g.in_width + ix) * c, static_cast<std::size_t>(c) * sizeof(float));
        }
      }
    }
  });
}

// The adjoint of im2col: each patch entry added back to the input pixel it
// came from. One image per iteration, so that no two threads add to the
// same pixel.
void col2im(const Matrix& cols, const ConvGeometry& g, Matrix& dx) {
  const Index k = g.kernel, c = g.in_channels, out_pixels = g.out_pixels();
  dx.setZero(cols.rows() / out_pixels, g.in_size());
  detail::parallel_for(dx.rows(), {.chunk = 1, .parallel = cols.size() > kParallelValues}, [&](Index b) {
    float* image = dx.row(b).data();
    for (Index pixel = 0; pixel < out_pixels; ++pixel) {
      const Index oy = pixel / g.out_width, ox = pixel % g.out_width;
      const float* patch = cols.row(b * out_pixels + pixel).data();
      for (Index ky = 0; ky < k; ++ky) {
        const Index iy = oy * g.stride + ky - g.pad_top;
        if (iy < 0 || iy >= g.in_height) continue;
        for (Index kx = 0; kx < k; ++kx) {
          const Index ix = ox * g.stride + kx - g.pad_left;
          if (ix < 0 || ix >= g.in_width) continue;
          float* to = image + (iy * g.in_width + ix) * c;
          const float* from = patch + (ky * k + kx) * c;
          for (Index ch = 0; ch < c; ++ch) to[ch] += from[ch];
        }
      }
    }
  });
}

}  // namespace

void Backend::conv_forward(ConstMatrixRef x, const ConvGeometry& g, const Matrix& w, const Matrix& b, Activation act,
                           Matrix& y, KernelSlot& slot) const {
  auto& scratch = slot.get<Im2colScratch>();
  im2col(x, g, scratch.cols);
  scratch.cols_source = x.data();
  dense_forward(scratch.cols, w, b, act, y, scratch.dense);
  // [batch * pixels x filters] row-major is [batch x pixels * filters]: the
  // same floats, so the resize keeps them (Eigen reallocates only when the
  // number of coefficients changes).
  y.resize(x.rows(), g.out_size());
}

void Backend::conv_backward(ConstMatrixRef x, const ConvGeometry& g, const Matrix& w, ConstMatrixRef dz, Matrix& dw,
                            Matrix& db, Matrix* dx, KernelSlot& slot) const {
  auto& scratch = slot.get<Im2colScratch>();
  if (scratch.cols_source != x.data() || scratch.cols.rows() != x.rows() * g.out_pixels()) im2col(x, g, scratch.cols);
  scratch.cols_source = x.data();
  const float* dz_data = dz.data();
  if (dz.outerStride() != dz.cols()) {
    scratch.dz = dz;
    dz_data = scratch.dz.data();
  }
  // The output gradient as [pixels x filters]: the dense product's shape.
  const Eigen::Map<const Matrix> dz_pixels(dz_data, x.rows() * g.out_pixels(), g.filters);
  dense_backward(scratch.cols, w, dz_pixels, dw, db, dx != nullptr ? &scratch.dcols : nullptr, false, scratch.dense);
  if (dx != nullptr) col2im(scratch.dcols, g, *dx);
}

}  // namespace aisle
