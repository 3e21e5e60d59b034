// LinearLearningRateDecay: its rates against hand-computed ones, the rate
// the optimizer holds in each epoch of a real fit, and the compiled rate
// back after training.

#include <memory>
#include <vector>

#include "aisle/nn/learning_rate_schedule.hpp"
#include "support/sequential_helpers.hpp"

namespace aisle {
namespace {

TEST(LinearLearningRateDecay, RatesFallByOneShareAnEpoch) {
  EXPECT_FLOAT_EQ(LinearLearningRateDecay::rate(1e-3f, 1, 10), 1e-3f);
  EXPECT_FLOAT_EQ(LinearLearningRateDecay::rate(1e-3f, 5, 10), 6e-4f);
  EXPECT_FLOAT_EQ(LinearLearningRateDecay::rate(1e-3f, 10, 10), 1e-4f);
  EXPECT_FLOAT_EQ(LinearLearningRateDecay::rate(2.0f, 2, 4), 1.5f);
  EXPECT_FLOAT_EQ(LinearLearningRateDecay::rate(2.0f, 1, 1), 2.0f);
}

// Reads the optimizer's rate at the end of each epoch, before the decay
// (next in the list) changes it: the rate that epoch ran at.
class RateRecorder final : public Callback {
 public:
  bool on_epoch_end(const EpochEnd&, Sequential& model) override {
    rates.push_back(model.optimizer()->learning_rate());
    return false;
  }
  std::vector<float> rates;
};

TEST(LinearLearningRateDecay, EachEpochOfAFitRunsAtItsShareAndTheCompiledRateComesBack) {
  const auto data = test_support::separable_classes(64, 12, 3, 5);
  Sequential model({.seed = 3});
  model.add(Dense(8, Activation::relu, 12));
  model.add(Dense(3, Activation::softmax));
  model.compile(Adam({.learning_rate = 0.02f}), SparseCategoricalCrossentropy());
  auto recorder = std::make_shared<RateRecorder>();
  model.fit(data.x, Labels(data.y),
            {.epochs = 4, .batch_size = 16, .callbacks = {recorder, std::make_shared<LinearLearningRateDecay>()}});
  ASSERT_EQ(recorder->rates.size(), 4u);
  EXPECT_FLOAT_EQ(recorder->rates[0], 0.02f);
  EXPECT_FLOAT_EQ(recorder->rates[1], 0.015f);
  EXPECT_FLOAT_EQ(recorder->rates[2], 0.01f);
  EXPECT_FLOAT_EQ(recorder->rates[3], 0.005f);
  EXPECT_FLOAT_EQ(model.optimizer()->learning_rate(), 0.02f);
}

}  // namespace
}  // namespace aisle
