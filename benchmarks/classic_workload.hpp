#pragma once

// The workload aisle's benchmark programs share: the classic 784-128-128-10
// model, its matrix-product FLOP, and training rows cut into batches.

#include <algorithm>
#include <vector>

#include "aisle/aisle.hpp"
#include "aisle/io/fashion_mnist.hpp"
#include "support/classic_model.hpp"

namespace aisle::bench {

// Matrix-product FLOP per sample: the forward of the three layers, and a
// training step's forward, weight gradients of all three layers and input
// gradients of layers 2 and 3.
constexpr double kForwardFlop = 2.0 * (784 * 128 + 128 * 128 + 128 * 10);
constexpr double kTrainFlop = 2.0 * kForwardFlop + 2.0 * (128 * 128 + 128 * 10);

// The CNN of aisle-classify --arch cnn ('same' padding), per sample: the
// forward of conv1, conv2 and the two dense layers, and a training step's
// forward, weight gradients of every layer and input gradients of all but
// the first.
constexpr double kCnnConv1Flop = 2.0 * 28 * 28 * 32 * 9, kCnnConv2Flop = 2.0 * 14 * 14 * 64 * 32 * 9;
constexpr double kCnnDenseFlop = 2.0 * (3136 * 128 + 128 * 10);
constexpr double kCnnForwardFlop = kCnnConv1Flop + kCnnConv2Flop + kCnnDenseFlop;
constexpr double kCnnTrainFlop = 2.0 * kCnnForwardFlop + kCnnConv2Flop + kCnnDenseFlop;

// The classic model as the tests build it, seed 1.
inline Sequential classic_model(BackendKind kind = BackendKind::native) { return test_support::classic_model(1, kind); }

// Fashion-MNIST's training rows from dir, or without one seeded noise of the
// same shape (4,096 rows).
inline io::LabeledImages training_rows(const char* dir) {
  if (dir != nullptr) return io::load_fashion_mnist(io::FashionMnistSet::train, dir);
  io::LabeledImages noise;
  Rng rng(1);
  noise.images.resize(4096, 784);
  for (Index i = 0; i < noise.images.size(); ++i) noise.images.data()[i] = rng.uniform();
  noise.labels.resize(4096);
  for (Index i = 0; i < 4096; ++i) noise.labels(i) = static_cast<std::int32_t>(rng.below(10));
  return noise;
}

// Up to 64 consecutive batches of the rows, to cycle through as training
// does: repeating one batch drives its gradients towards denormal floats,
// which no real run sees.
struct Batches {
  std::vector<Matrix> x;
  std::vector<Targets> y;
};

inline Batches training_batches(const io::LabeledImages& data, Index batch) {
  Batches batches;
  for (Index i = 0; i < std::min<Index>(data.images.rows() / batch, 64); ++i) {
    batches.x.emplace_back(data.images.middleRows(i * batch, batch));
    batches.y.emplace_back(Labels(data.labels.segment(i * batch, batch)));
  }
  return batches;
}

}  // namespace aisle::bench
