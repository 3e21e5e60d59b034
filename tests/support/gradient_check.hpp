#pragma once

// Central finite differences for gradient tests (mlpack-style): perturb each
// entry of a tensor, recompute a scalar in double, and compare with the
// analytic gradient by the relative error of the whole gradient.

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "aisle/backend/backend.hpp"
#include "aisle/core/random.hpp"
#include "aisle/core/tensor.hpp"

namespace aisle {

// Readable names for backend-parameterised tests.
inline void PrintTo(BackendKind kind, std::ostream* os) { *os << to_string(kind); }
inline void PrintTo(Activation activation, std::ostream* os) { *os << to_string(activation); }

}  // namespace aisle

namespace aisle::test_support {

inline Matrix random_matrix(Index rows, Index cols, std::uint64_t seed, float scale = 1.0f) {
  Rng rng(seed);
  Matrix m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = scale * rng.normal();
  return m;
}

// sum(out .* weights) in double: a scalar whose gradient at out is weights.
inline double weighted_sum(const Matrix& out, const Matrix& weights) {
  return (out.cast<double>().array() * weights.cast<double>().array()).sum();
}

// Numeric gradient of f with respect to tensor, by central differences.
inline Matrix numeric_gradient(Matrix& tensor, const std::function<double()>& f, float eps) {
  Matrix grad(tensor.rows(), tensor.cols());
  for (Index i = 0; i < tensor.size(); ++i) {
    const float saved = tensor.data()[i];
    tensor.data()[i] = saved + eps;
    const double up = f();
    tensor.data()[i] = saved - eps;
    const double down = f();
    tensor.data()[i] = saved;
    grad.data()[i] = static_cast<float>((up - down) / (2.0 * static_cast<double>(eps)));
  }
  return grad;
}

// A scalar objective together with a signature of its active pieces (for
// example which ReLU units are positive): where a perturbation changes the
// signature, it crossed a kink and finite differences say nothing there.
struct PiecewiseValue {
  double value;
  std::size_t signature;
};

// Numeric gradient that takes the analytic value at entries whose
// perturbation crosses a kink; returns how many entries it skipped.
inline Matrix numeric_gradient_off_kinks(Matrix& tensor, const std::function<PiecewiseValue()>& f, float eps,
                                         const Matrix& analytic, Index& skipped) {
  const std::size_t base = f().signature;
  Matrix grad(tensor.rows(), tensor.cols());
  skipped = 0;
  for (Index i = 0; i < tensor.size(); ++i) {
    const float saved = tensor.data()[i];
    tensor.data()[i] = saved + eps;
    const PiecewiseValue up = f();
    tensor.data()[i] = saved - eps;
    const PiecewiseValue down = f();
    tensor.data()[i] = saved;
    if (up.signature != base || down.signature != base) {
      grad.data()[i] = analytic.data()[i];
      ++skipped;
    } else {
      grad.data()[i] = static_cast<float>((up.value - down.value) / (2.0 * static_cast<double>(eps)));
    }
  }
  return grad;
}

// A hash of the sign pattern of m (which entries are > 0).
inline std::size_t sign_signature(const Matrix& m, std::size_t seed = 0) {
  std::size_t h = seed ^ 0x9e3779b97f4a7c15ULL;
  for (Index i = 0; i < m.size(); ++i) h = (h * 1099511628211ULL) ^ static_cast<std::size_t>(m.data()[i] > 0.0f);
  return h;
}

// ||a - b|| / max(||a||, ||b||, tiny).
inline double relative_error(const Matrix& a, const Matrix& b) {
  const double diff = (a.cast<double>() - b.cast<double>()).norm();
  const double scale = std::max({a.cast<double>().norm(), b.cast<double>().norm(), 1e-12});
  return diff / scale;
}

inline void expect_gradient_matches(const Matrix& analytic, const Matrix& numeric, double tolerance,
                                    const char* what) {
  ASSERT_EQ(analytic.rows(), numeric.rows()) << what;
  ASSERT_EQ(analytic.cols(), numeric.cols()) << what;
  EXPECT_LT(relative_error(analytic, numeric), tolerance) << what << "\nanalytic:\n"
                                                          << analytic << "\nnumeric:\n"
                                                          << numeric;
}

// Each parameter's analytic gradient (grads, in the order of params) against
// central differences of objective, reported by its name.
inline void expect_parameter_gradients(const std::vector<Matrix*>& params, const std::vector<std::string>& names,
                                       const std::vector<Matrix>& grads, const std::function<double()>& objective,
                                       float eps, double tolerance) {
  ASSERT_EQ(params.size(), names.size());
  ASSERT_EQ(params.size(), grads.size());
  for (std::size_t p = 0; p < params.size(); ++p)
    expect_gradient_matches(grads[p], numeric_gradient(*params[p], objective, eps), tolerance, names[p].c_str());
}

// Element-wise relative agreement: |a - b| <= tol * max(|a|, |b|, floor).
inline void expect_close(const Matrix& a, const Matrix& b, double tolerance, const char* what, double floor = 1e-3) {
  ASSERT_EQ(a.rows(), b.rows()) << what;
  ASSERT_EQ(a.cols(), b.cols()) << what;
  double worst = 0;
  for (Index i = 0; i < a.size(); ++i) {
    const double x = a.data()[i], y = b.data()[i];
    const double scale = std::max({std::abs(x), std::abs(y), floor});
    worst = std::max(worst, std::abs(x - y) / scale);
  }
  EXPECT_LE(worst, tolerance) << what;
}

}  // namespace aisle::test_support
