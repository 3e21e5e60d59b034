// Sequential saved and loaded: predictions and settings come back bit for bit.

#include "support/sequential_helpers.hpp"

namespace aisle {
namespace {

using namespace test_support;

TEST(Sequential, SaveLoadRoundTripGivesBitIdenticalPredictions) {
  const auto data = test_support::separable_classes(200, 784, 10, 25);
  Sequential model = classic_model(8);
  model.fit(data.x, data.y, {.epochs = 1, .batch_size = 32});
  const auto path = temp_path("roundtrip.model");
  model.save(path);
  Sequential loaded = Sequential::load(path);
  std::filesystem::remove(path);
  // The backend is a property of the process, not of the file.
  loaded.set_backend(model.backend_kind());
  const Matrix before = model.predict(data.x), after = loaded.predict(data.x);
  ASSERT_EQ(before.size(), after.size());
  EXPECT_EQ(0, std::memcmp(before.data(), after.data(), sizeof(float) * before.size()));
  EXPECT_EQ(loaded.optimizer()->config(), model.optimizer()->config());
  EXPECT_EQ(loaded.loss_function()->config(), model.loss_function()->config());
  EXPECT_EQ(loaded.training_config().at("batch_size"), 32);
  EXPECT_EQ(loaded.evaluate(data.x, data.y).metrics.at("accuracy"), model.evaluate(data.x, data.y).metrics.at("accuracy"));
}

// Separate ReLU and Softmax layers, an MSE loss and Nesterov SGD survive a
// save and load: the same layers, settings and predictions, bit for bit.
TEST(Sequential, SaveLoadKeepsSeparateActivationLayersLossAndOptimizer) {
  Sequential model({.seed = 15});
  model.add(Dense(6, Activation::none, 4));
  model.add(ReLU());
  model.add(Dense(3));
  model.add(Softmax());
  model.compile(SGD({.learning_rate = 0.05f, .momentum = 0.8f, .nesterov = true}), MeanSquaredError());
  const Matrix x = test_support::random_matrix(9, 4, 47);
  model.train_on_batch(x, Targets(Matrix(test_support::random_matrix(9, 3, 48))));
  const auto path = temp_path("activations.model");
  model.save(path);
  const Sequential loaded = Sequential::load(path);
  std::filesystem::remove(path);
  ASSERT_EQ(loaded.layer_count(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(loaded.layer(i).config(), model.layer(i).config()) << i;
  EXPECT_EQ(loaded.optimizer()->config(), model.optimizer()->config());
  EXPECT_EQ(loaded.loss_function()->config(), model.loss_function()->config());
  EXPECT_TRUE(same_bits(loaded.predict(x), model.predict(x)));
}

// The Transformer block's pieces, LayerNorm (trained gamma and beta) and
// GELU, survive a save and load with their settings, bit for bit.
TEST(Sequential, SaveLoadKeepsLayerNormAndGelu) {
  Sequential model({.seed = 16});
  model.add(Dense(8, Activation::none, 4));
  model.add(LayerNorm({.epsilon = 1e-3f}));
  model.add(GELU(GeluApproximation::tanh));
  model.add(Dense(3));
  model.add(Softmax());
  model.compile(Adam({.learning_rate = 0.05f}), CategoricalCrossentropy());
  const Matrix x = test_support::random_matrix(9, 4, 57);
  Matrix y = Matrix::Zero(9, 3);
  for (Index r = 0; r < 9; ++r) y(r, r % 3) = 1;
  model.train_on_batch(x, Targets(y));
  ASSERT_NE(model.layer(1).parameters()[0], Matrix::Ones(1, 8));  // gamma trained
  const auto path = temp_path("layer_norm_gelu.model");
  model.save(path);
  const Sequential loaded = Sequential::load(path);
  std::filesystem::remove(path);
  ASSERT_EQ(loaded.layer_count(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(loaded.layer(i).config(), model.layer(i).config()) << i;
  EXPECT_TRUE(same_bits(loaded.layer(1).parameters()[0], model.layer(1).parameters()[0]));
  EXPECT_TRUE(same_bits(loaded.predict(x), model.predict(x)));
}

}  // namespace
}  // namespace aisle
