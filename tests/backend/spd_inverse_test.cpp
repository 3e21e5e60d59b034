// The in-place SPD inverse against Eigen's double-precision inverse, at sizes
// that are one leaf, just over one, and several levels of recursion, inside
// a wider buffer whose other cells must not change.

#include "backend/spd_inverse.hpp"

#include <gtest/gtest.h>
#include <Eigen/LU>

#include <random>

#include "aisle/core/error.hpp"

namespace aisle::detail {
namespace {

// B B^T / k + ridge I for a random [n x k] B: symmetric, positive definite,
// with a spread of eigenvalues like a Gram matrix's.
Eigen::MatrixXd random_spd(Index n, std::uint32_t seed, double ridge = 0.5) {
  std::mt19937 generator(seed);
  std::normal_distribution<double> normal;
  const Index k = n + 7;
  Eigen::MatrixXd b(n, k);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < k; ++j) b(i, j) = normal(generator);
  Eigen::MatrixXd a = b * b.transpose() / static_cast<double>(k);
  a.diagonal().array() += ridge;
  return a;
}

double worst_error(Index n, Index ld, std::uint32_t seed, const SpdInverseShape& shape = {}) {
  const Eigen::MatrixXd a = random_spd(n, seed);
  const float sentinel = -7.25f;
  std::vector<float> buffer(static_cast<std::size_t>(n * ld), sentinel);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j) buffer[static_cast<std::size_t>(i * ld + j)] = static_cast<float>(a(i, j));
  invert_spd_in_place(buffer.data(), n, ld, shape);
  const Eigen::MatrixXd expected = a.inverse();
  double worst = 0;
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < n; ++j)
      worst = std::max(worst, std::abs(expected(i, j) - buffer[static_cast<std::size_t>(i * ld + j)]));
    for (Index j = n; j < ld; ++j) EXPECT_EQ(buffer[static_cast<std::size_t>(i * ld + j)], sentinel) << i << ", " << j;
  }
  return worst / expected.cwiseAbs().maxCoeff();
}

TEST(SpdInverse, MatchesEigensDoubleInverseAtEverySize) {
  for (const Index n : {1, 2, 17, 192, 193, 450, 1001}) {
    EXPECT_LT(worst_error(n, n, static_cast<std::uint32_t>(n)), 2e-5) << "n " << n;
    EXPECT_LT(worst_error(n, n + 5, static_cast<std::uint32_t>(n + 1)), 2e-5) << "n " << n << " in a wider buffer";
  }
}

// Small leaves take every path (Schur steps inside Schur steps, symmetric
// products split three levels deep, uneven halves) on matrices Eigen inverts fast.
TEST(SpdInverse, SmallLeavesReachEveryPathAndStillMatch) {
  const SpdInverseShape small{.leaf = 16, .symmetric_leaf = 24};
  for (const Index n : {17, 40, 97, 250}) {
    EXPECT_LT(worst_error(n, n, static_cast<std::uint32_t>(n), small), 2e-5) << "n " << n;
    EXPECT_LT(worst_error(n, n + 3, static_cast<std::uint32_t>(n + 2), small), 2e-5) << "n " << n << " in a wider buffer";
  }
}

TEST(SpdInverse, TwoRunsGiveTheSameBits) {
  const Index n = 700;
  const Eigen::MatrixXd a = random_spd(n, 5);
  std::vector<float> original(static_cast<std::size_t>(n * n));
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j) original[static_cast<std::size_t>(i * n + j)] = static_cast<float>(a(i, j));
  auto first = original, second = original;
  invert_spd_in_place(first.data(), n, n);
  invert_spd_in_place(second.data(), n, n);
  EXPECT_EQ(first, second) << "two runs with the same thread count differ";
}

TEST(SpdInverse, RefusesAMatrixThatIsNotPositiveDefinite) {
  for (const Index n : {3, 400}) {
    Eigen::MatrixXd a = random_spd(n, 9);
    a(n - 1, n - 1) = -1.0;  // caught in the last leaf, after the Schur complements
    std::vector<float> buffer(static_cast<std::size_t>(n * n));
    for (Index i = 0; i < n; ++i)
      for (Index j = 0; j < n; ++j) buffer[static_cast<std::size_t>(i * n + j)] = static_cast<float>(a(i, j));
    EXPECT_THROW(invert_spd_in_place(buffer.data(), n, n), aisle::Error) << n;
  }
}

TEST(SpdInverse, WorkspaceIsAboutAThirdOfTheMatrix) {
  EXPECT_EQ(spd_inverse_workspace_floats(100), 0u);
  for (const Index n : {193, 1000, 12101})
    EXPECT_LE(spd_inverse_workspace_floats(n), static_cast<std::size_t>(n * n / 3 + 64 * n)) << n;
}

}  // namespace
}  // namespace aisle::detail
