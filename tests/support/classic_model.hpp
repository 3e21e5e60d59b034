#pragma once

// The classic 784-128-128-10 model that many tests train: ReLU, softmax, Adam,
// sparse categorical cross-entropy, accuracy.

#include "aisle/aisle.hpp"

namespace aisle::testing {

inline Sequential classic_model(std::uint64_t seed, BackendKind kind = default_backend()) {
  Sequential model({.seed = seed, .backend = kind});
  model.add(Dense(128, Activation::relu, 784));
  model.add(Dense(128, Activation::relu));
  model.add(Dense(10, Activation::softmax));
  model.compile(Adam(), SparseCategoricalCrossentropy(), {Metric::accuracy});
  return model;
}

}  // namespace aisle::testing
