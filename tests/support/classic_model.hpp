#pragma once

// The classic 784-128-128-10 model that tests and benchmarks train: ReLU,
// softmax, sparse categorical cross-entropy, accuracy; Adam unless another
// optimizer is given.

#include <utility>

#include "aisle/aisle.hpp"

namespace aisle::test_support {

template <class OptimizerType = Adam>
Sequential classic_model(std::uint64_t seed, BackendKind kind = default_backend(), OptimizerType optimizer = OptimizerType()) {
  Sequential model({.seed = seed, .backend = kind});
  model.add(Dense(128, Activation::relu, 784));
  model.add(Dense(128, Activation::relu));
  model.add(Dense(10, Activation::softmax));
  model.compile(std::move(optimizer), SparseCategoricalCrossentropy(), {Metric::accuracy});
  return model;
}

}  // namespace aisle::test_support
