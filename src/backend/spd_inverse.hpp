#pragma once

// The inverse of a symmetric positive definite matrix, in place, with nearly
// all of its arithmetic in large matrix products (oneDNN's GEMM, on every
// thread of the calling thread's OpenMP team). EASE's closed form is one such
// inverse of an items x items matrix per l2 it tries.

#include "aisle/core/tensor.hpp"

namespace aisle::detail {

// Where the recursion stops: below `leaf` an inverse is one Cholesky solve
// on Eigen; below `symmetric_leaf` a symmetric product is computed whole.
// The defaults keep every product large enough for the GEMM to run near its
// peak; tests take small ones to reach every path on small matrices.
struct SpdInverseShape {
  Index leaf = 192;
  Index symmetric_leaf = 1536;
};

// a: a symmetric positive definite [n x n] matrix, both triangles stored,
// rows ld floats apart. Replaced by its inverse (both triangles). Throws
// aisle::Error when a is not numerically positive definite. Needs a
// workspace of about n * n / 3 floats (n/2 x n/2, then n/4 x n/4, ...),
// allocated here.
void invert_spd_in_place(float* a, Index n, Index ld, const SpdInverseShape& shape = {});

// The floats invert_spd_in_place allocates for an [n x n] matrix, so that a
// caller can refuse work before it starts.
std::size_t spd_inverse_workspace_floats(Index n, const SpdInverseShape& shape = {});

}  // namespace aisle::detail
