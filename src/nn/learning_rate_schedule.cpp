#include "aisle/nn/learning_rate_schedule.hpp"

#include <algorithm>

#include "aisle/core/error.hpp"
#include "aisle/nn/sequential.hpp"

namespace aisle {

float LinearLearningRateDecay::rate(float initial, int epoch, int epochs) {
  if (epochs <= 0 || epoch < 1) return initial;
  const int left = std::max(epochs - epoch + 1, 1);
  return initial * static_cast<float>(left) / static_cast<float>(epochs);
}

void LinearLearningRateDecay::on_train_begin(const TrainBegin& info) {
  epochs_ = info.epochs;
  initial_.reset();
}

// The epoch that ended ran at the current rate; the next one gets its share.
bool LinearLearningRateDecay::on_epoch_end(const EpochEnd& logs, Sequential& model) {
  Optimizer* optimizer = model.optimizer();
  if (optimizer == nullptr) throw Error("learning rate decay: the model is not compiled");
  if (!initial_) initial_ = optimizer->learning_rate();
  optimizer->set_learning_rate(rate(*initial_, logs.epoch + 1, epochs_));
  return false;
}

void LinearLearningRateDecay::on_train_end(Sequential& model) {
  if (initial_ && model.optimizer() != nullptr) model.optimizer()->set_learning_rate(*initial_);
  initial_.reset();
}

}  // namespace aisle
