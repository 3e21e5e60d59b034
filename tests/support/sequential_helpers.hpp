#pragma once

// Helpers shared by the Sequential tests (tests/nn/sequential_*_test.cpp).

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "aisle/aisle.hpp"
#include "support/backends.hpp"
#include "support/classic_model.hpp"
#include "support/gradient_check.hpp"
#include "support/synthetic.hpp"
#include "support/test_files.hpp"

namespace aisle::test_support {

// Three Dense layers (ReLU, ReLU, softmax) on 5 inputs, Adam, cross-entropy.
inline Sequential small_model(std::uint64_t seed, BackendKind kind) {
  Sequential model({.seed = seed, .backend = kind});
  model.add(Dense(6, Activation::relu, 5));
  model.add(Dense(7, Activation::relu));
  model.add(Dense(4, Activation::softmax));
  model.compile(Adam(), SparseCategoricalCrossentropy(), {Metric::accuracy});
  return model;
}

inline std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("aisle-test-" + std::to_string(::getpid()) + "-" + name);
}

inline bool same_bits(const Matrix& a, const Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0;
}

inline std::vector<Matrix> copy_of_parameters(const Sequential& model) {
  std::vector<Matrix> copies;
  for (const Matrix* p : model.parameters()) copies.push_back(*p);
  return copies;
}

inline bool parameters_are(const Sequential& model, const std::vector<Matrix>& expected) {
  const auto params = model.parameters();
  for (std::size_t i = 0; i < params.size(); ++i)
    if (!same_bits(*params[i], expected[i])) return false;
  return true;
}

// A copy is a separate model with the same weights, optimizer state and

}  // namespace aisle::test_support
