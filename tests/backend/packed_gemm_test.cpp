// packed_gemm against a double-precision triple loop: every operand layout
// (row-major, transposed, strided views), partial tiles on every edge, the
// bias, ReLU and ReLU-mask epilogues, and the same bits on any thread count.

#include "backend/packed_gemm.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "aisle/core/error.hpp"
#include "support/gradient_check.hpp"

namespace aisle::detail {
namespace {

using test_support::random_matrix;

float element(const GemmOperand& x, Index r, Index c) { return x.data[r * x.row_stride + c * x.col_stride]; }

Matrix reference(const GemmOperand& a, const GemmOperand& b, const GemmEpilogue& e) {
  Matrix c(a.rows, b.cols);
  for (Index i = 0; i < a.rows; ++i)
    for (Index j = 0; j < b.cols; ++j) {
      double sum = 0.0;
      for (Index p = 0; p < a.cols; ++p) sum += double{element(a, i, p)} * double{element(b, p, j)};
      if (e.bias != nullptr) sum += e.bias[j];
      if (e.relu) sum = std::max(sum, 0.0);
      if (e.relu_mask != nullptr && !(e.relu_mask[i * e.relu_mask_stride + j] > 0.0f)) sum = 0.0;
      c(i, j) = static_cast<float>(sum);
    }
  return c;
}

RowVector column_sums_of(const GemmOperand& b) {
  RowVector sums(b.cols);
  for (Index j = 0; j < b.cols; ++j) {
    double sum = 0.0;
    for (Index p = 0; p < b.rows; ++p) sum += element(b, p, j);
    sums(j) = static_cast<float>(sum);
  }
  return sums;
}

struct Shape {
  Index m, n, k;
};

// Shapes around the tile edges (6 or 8 rows, 16 or 32 columns), the classic
// model's layers, long sums split in two (an odd k, a narrow b), and empty
// sums.
const Shape kShapes[] = {{1, 1, 1},     {5, 15, 3},     {6, 16, 8},   {7, 17, 9},       {9, 31, 5},
                         {13, 33, 64},  {14, 32, 11},   {12, 64, 1},  {128, 10, 128},   {128, 128, 784},
                         {784, 128, 7}, {3, 130, 50},   {37, 21, 1001}, {20, 10, 2000}, {4, 5, 0},
                         {12, 64, 0}};

enum class Layout { row_major, transposed };

// Storage for an operand of rows x cols in the given layout, with padding
// between rows so that strides differ from widths.
struct Stored {
  Matrix storage;
  GemmOperand view;
};

Stored store(Index rows, Index cols, Layout layout, std::uint64_t seed) {
  constexpr Index kPad = 3;
  Stored s;
  if (layout == Layout::row_major) {
    s.storage = random_matrix(rows, cols + kPad, seed);
    s.view = {s.storage.data(), rows, cols, cols + kPad, 1};
  } else {
    s.storage = random_matrix(cols, rows + kPad, seed);
    s.view = GemmOperand{s.storage.data(), cols, rows, rows + kPad, 1}.transposed();
  }
  return s;
}

struct Epilogue {
  bool bias = false;
  bool relu = false;
  bool relu_mask = false;
};

// A ReLU output to mask by: about half zeros, the rest positive, with
// padding between rows.
Matrix relu_output(Index rows, Index cols) {
  constexpr Index kPad = 2;
  return random_matrix(rows, cols + kPad, 4).cwiseMax(0.0f);
}

void check(const Shape& shape, Layout a_layout, Layout b_layout, Epilogue what) {
  const Stored a = store(shape.m, shape.k, a_layout, 1);
  const Stored b = store(shape.k, shape.n, b_layout, 2);
  const Matrix bias = random_matrix(1, shape.n, 3);
  const Matrix mask = relu_output(shape.m, shape.n);
  const GemmEpilogue epilogue{.bias = what.bias ? bias.data() : nullptr,
                              .relu = what.relu,
                              .relu_mask = what.relu_mask ? mask.data() : nullptr,
                              .relu_mask_stride = mask.cols()};
  Matrix c(shape.m, shape.n);
  const Matrix expected = reference(a.view, b.view, epilogue);
  // Float rounding grows with the length of the sums.
  const double tolerance = std::max(1e-6, 2e-9 * static_cast<double>(shape.k));
  GemmBuffers buffers;
  RowVector column_sums = RowVector::Constant(shape.n, 42.0f);
  // With the column sums of b, and without (a long k is then split in two).
  for (float* sums : {column_sums.data(), static_cast<float*>(nullptr)}) {
    c.setConstant(42.0f);
    packed_gemm(a.view, b.view, {c.data(), c.cols()}, epilogue, buffers, sums);
    EXPECT_LT(test_support::relative_error(c, expected), tolerance)
        << shape.m << "x" << shape.n << "x" << shape.k << " a " << static_cast<int>(a_layout) << " b "
        << static_cast<int>(b_layout) << " bias " << (epilogue.bias != nullptr) << " relu " << epilogue.relu
        << " mask " << what.relu_mask << " sums " << (sums != nullptr);
  }
  EXPECT_LT(test_support::relative_error(column_sums, column_sums_of(b.view)), tolerance)
      << shape.m << "x" << shape.n << "x" << shape.k;
}

TEST(PackedGemm, MatchesReferenceForEveryLayoutAndEdge) {
  for (const Shape& shape : kShapes)
    for (Layout a : {Layout::row_major, Layout::transposed})
      for (Layout b : {Layout::row_major, Layout::transposed}) {
        check(shape, a, b, {});
        check(shape, a, b, {.bias = true, .relu = true});
        check(shape, a, b, {.bias = true});
        check(shape, a, b, {.relu_mask = true});
      }
}

TEST(PackedGemm, ReluMaskZeroesWhereTheMaskIsNotPositive) {
  const Matrix a = Matrix::Constant(7, 3, 1.0f), b = Matrix::Constant(3, 18, 1.0f);
  Matrix mask = Matrix::Constant(7, 18, 2.0f);
  mask(0, 0) = 0.0f;
  mask(6, 17) = -1.0f;
  mask(3, 9) = std::numeric_limits<float>::quiet_NaN();
  Matrix c(7, 18);
  GemmBuffers buffers;
  const GemmEpilogue masked{.relu_mask = mask.data(), .relu_mask_stride = 18};
  packed_gemm(GemmOperand::of(a), GemmOperand::of(b), {c.data(), 18}, masked, buffers);
  Matrix expected = Matrix::Constant(7, 18, 3.0f);
  expected(0, 0) = expected(6, 17) = expected(3, 9) = 0.0f;
  EXPECT_EQ(c, expected);
}

// An unpadded, cache-line aligned b with whole panels is read in place
// rather than packed; both must give the same products.
TEST(PackedGemm, AlignedRowMajorRightOperand) {
  for (Index k : {100, 300}) {  // read in place, and packed (too long)
    const Matrix a = random_matrix(20, k, 9), b = random_matrix(k, 64, 10), bias = random_matrix(1, 64, 11);
    ASSERT_EQ(reinterpret_cast<std::uintptr_t>(b.data()) % 64, 0u);
    Matrix c(20, 64);
    const GemmEpilogue epilogue{.bias = bias.data(), .relu = true};
    const Matrix expected = reference(GemmOperand::of(a), GemmOperand::of(b), epilogue);
    GemmBuffers buffers;
    packed_gemm(GemmOperand::of(a), GemmOperand::of(b), {c.data(), 64}, epilogue, buffers);
    EXPECT_LT(test_support::relative_error(c, expected), 1e-6) << "k " << k;
  }
}

TEST(PackedGemm, ReluClampsNegativeSums) {
  const Matrix a = Matrix::Constant(7, 3, 1.0f), b = Matrix::Constant(3, 18, -1.0f);
  Matrix c(7, 18);
  GemmBuffers buffers;
  packed_gemm(GemmOperand::of(a), GemmOperand::of(b), {c.data(), 18}, {.relu = true}, buffers);
  EXPECT_EQ(c.maxCoeff(), 0.0f);
  packed_gemm(GemmOperand::of(a), GemmOperand::of(b), {c.data(), 18}, {}, buffers);
  EXPECT_EQ(c.maxCoeff(), -3.0f);
}

// Every way of sharing a product out: by column panels (b packed: 300 rows
// are too many to read in place), by bands of rows (b read in place), and
// over the halves of a long k (without column sums).
TEST(PackedGemm, SameBitsOnAnyThreadCount) {
  for (const Shape shape : {Shape{130, 100, 300}, Shape{130, 96, 128}, Shape{61, 45, 300}})
    for (const bool with_sums : {true, false}) {
      const Matrix a = random_matrix(shape.m, shape.k, 5), b = random_matrix(shape.k, shape.n, 6);
      const Matrix expected = reference(GemmOperand::of(a), GemmOperand::of(b), {});
      Matrix first;
      RowVector first_sums = RowVector::Zero(shape.n);
      GemmBuffers buffers;
      const int saved = omp_get_max_threads();
      for (int threads : {1, 2, 3}) {
        omp_set_num_threads(threads);
        Matrix c(shape.m, shape.n);
        RowVector sums = RowVector::Zero(shape.n);
        packed_gemm(GemmOperand::of(a), GemmOperand::of(b), {c.data(), shape.n}, {}, buffers,
                    with_sums ? sums.data() : nullptr);
        EXPECT_LT(test_support::relative_error(c, expected), 1e-6) << shape.k << " rows of b, " << threads << " threads";
        if (with_sums) {
          EXPECT_LT(test_support::relative_error(sums, column_sums_of(GemmOperand::of(b))), 1e-6);
        }
        if (threads == 1) {
          first = c;
          first_sums = sums;
        }
        EXPECT_EQ(std::memcmp(first.data(), c.data(), sizeof(float) * c.size()), 0) << threads << " threads";
        EXPECT_EQ(std::memcmp(first_sums.data(), sums.data(), sizeof(float) * sums.size()), 0);
      }
      omp_set_num_threads(saved);
    }
}

// Independent products in one call give the bits of separate calls, on one
// thread or several, with every product's own epilogue and column sums.
TEST(PackedGemm, SeveralProductsInOneCallEqualSeparateCalls) {
  const Matrix a1 = random_matrix(130, 128, 12), b1 = random_matrix(128, 128, 13);
  const Matrix a2 = random_matrix(128, 10, 14), b2 = random_matrix(128, 10, 15);  // b2 used transposed
  const Matrix a3 = random_matrix(7, 0, 16), b3 = random_matrix(0, 5, 17), bias3 = random_matrix(1, 5, 18);
  const Matrix mask2 = random_matrix(128, 128, 19).cwiseMax(0.0f);
  struct Outputs {
    Matrix c1 = Matrix(130, 128), c2 = Matrix(128, 128), c3 = Matrix(7, 5);
    RowVector sums1 = RowVector(128), sums3 = RowVector(5);
  };
  GemmBuffers buffers[3];
  auto products = [&](Outputs& o) {
    return std::array<GemmProduct, 3>{
        GemmProduct{GemmOperand::of(a1), GemmOperand::of(b1), {o.c1.data(), 128}, {}, &buffers[0], o.sums1.data()},
        GemmProduct{GemmOperand::of(a2), GemmOperand::of(b2).transposed(), {o.c2.data(), 128},
                    {.relu_mask = mask2.data(), .relu_mask_stride = 128}, &buffers[1]},
        GemmProduct{GemmOperand::of(a3), GemmOperand::of(b3), {o.c3.data(), 5}, {.bias = bias3.data()}, &buffers[2],
                    o.sums3.data()}};
  };
  Outputs separate;
  for (const GemmProduct& p : products(separate))
    packed_gemm(p.a, p.b, p.c, p.epilogue, *p.buffers, p.b_column_sums);
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    Outputs together;
    packed_gemm(products(together));
    EXPECT_EQ(together.c1, separate.c1) << threads << " threads";
    EXPECT_EQ(together.c2, separate.c2) << threads << " threads";
    EXPECT_EQ(together.c3, separate.c3) << threads << " threads";
    EXPECT_EQ(together.sums1, separate.sums1) << threads << " threads";
    EXPECT_EQ(together.sums3, RowVector::Zero(5)) << threads << " threads";
  }
  omp_set_num_threads(saved);
  EXPECT_LT(test_support::relative_error(separate.c1, a1 * b1), 1e-5);
  EXPECT_EQ(separate.c3, bias3.replicate(7, 1));
}

TEST(PackedGemm, RejectsMoreThanFourProductsPerCall) {
  const Matrix a = random_matrix(2, 2, 20);
  Matrix c(2, 2);
  GemmBuffers buffers;
  std::vector<GemmProduct> five(5, GemmProduct{GemmOperand::of(a), GemmOperand::of(a), {c.data(), 2}, {}, &buffers});
  EXPECT_THROW(packed_gemm(five), Error);
}

TEST(PackedGemm, WritesOnlyItsOutputBlock) {
  // c is a 5 x 7 block inside a 9 x 12 matrix: the rest must stay untouched.
  const Matrix a = random_matrix(5, 4, 7), b = random_matrix(4, 7, 8);
  Matrix big = Matrix::Constant(9, 12, 42.0f);
  GemmBuffers buffers;
  packed_gemm(GemmOperand::of(a), GemmOperand::of(b), {big.data() + 2 * 12 + 3, 12}, {}, buffers);
  Matrix outside = big;
  outside.block(2, 3, 5, 7).setConstant(42.0f);
  EXPECT_EQ(outside, Matrix::Constant(9, 12, 42.0f));
  EXPECT_LT(test_support::relative_error(big.block(2, 3, 5, 7), a * b), 1e-6);
}

}  // namespace
}  // namespace aisle::detail
