// DropoutLayer: the identity in inference, a scaled mask in training whose
// gradient is the same mask, drawn from the model's seed so that the same
// seed trains the same model; its config through the registry.

#include <gtest/gtest.h>

#include "aisle/core/error.hpp"
#include "aisle/nn/dropout_layer.hpp"
#include "support/sequential_helpers.hpp"
#include "support/synthetic.hpp"

namespace aisle {
namespace {

using namespace test_support;

DropoutLayer built(float rate, Index width) {
  DropoutLayer layer(rate);
  Rng rng(0);
  layer.build(width, rng);
  return layer;
}

TEST(DropoutLayer, IsTheIdentityInInference) {
  const DropoutLayer layer = built(0.5f, 40);
  const Matrix x = random_matrix(6, 40, 71);
  LayerState state;
  layer.forward(backend(BackendKind::native), x, state);
  EXPECT_EQ(state.output, x);
  state.grad_output = random_matrix(6, 40, 72);
  layer.backward(backend(BackendKind::native), x, state, {});
  EXPECT_EQ(state.grad_input, state.grad_output);
}

TEST(DropoutLayer, InTrainingZeroesAboutRateAndScalesTheRestWithTheSameMaskBackward) {
  const DropoutLayer layer = built(0.25f, 200);
  const Matrix x = Matrix::Ones(50, 200);
  Rng rng(3);
  LayerState state;
  state.training_rng = &rng;
  layer.forward(backend(BackendKind::native), x, state);
  const double zeros = (state.output.array() == 0.0f).cast<double>().sum() / static_cast<double>(x.size());
  EXPECT_NEAR(zeros, 0.25, 0.02);
  EXPECT_TRUE(((state.output.array() == 0.0f) || (state.output.array() - 1.0f / 0.75f).abs() < 1e-6f).all());
  state.grad_output = random_matrix(50, 200, 73);
  layer.backward(backend(BackendKind::native), x, state, {});
  // y = x * mask with x = 1: the mask is the output, and dx = dy * mask.
  EXPECT_TRUE(state.grad_input.isApprox(state.grad_output.cwiseProduct(state.output)));
}

TEST(DropoutLayer, SameSeedTrainsTheSameModelAndAnotherSeedAnother) {
  const auto data = separable_classes(64, 12, 3, 74);
  const auto train = [&](std::uint64_t seed) {
    Sequential model({.seed = seed});
    model.add(Dense(16, Activation::relu, 12));
    model.add(DropoutLayer(0.5f));
    model.add(Dense(3, Activation::softmax));
    model.compile(Adam(), SparseCategoricalCrossentropy());
    model.fit(data.x, data.y, {.epochs = 2, .batch_size = 16, .seed = 1});
    return model;
  };
  const Sequential a = train(5), b = train(5), c = train(6);
  EXPECT_TRUE(same_bits(a.predict(data.x), b.predict(data.x)));
  EXPECT_FALSE(same_bits(a.predict(data.x), c.predict(data.x)));
}

TEST(DropoutLayer, ConfigRoundTripsAndBadRatesAreRefused) {
  const DropoutLayer layer(0.3f);
  const auto restored = Layer::from_config(layer.config());
  EXPECT_EQ(restored->kind(), "dropout");
  EXPECT_FLOAT_EQ(dynamic_cast<const DropoutLayer&>(*restored).rate(), 0.3f);
  EXPECT_THROW(DropoutLayer(1.0f), Error);
  EXPECT_THROW(DropoutLayer(-0.1f), Error);
}

}  // namespace
}  // namespace aisle
