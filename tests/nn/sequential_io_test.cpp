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

}  // namespace
}  // namespace aisle
