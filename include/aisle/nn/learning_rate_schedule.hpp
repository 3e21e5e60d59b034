#pragma once

// A learning rate that falls as training goes on: epoch e of E runs at
// rate * (E - e + 1) / E, the first at the compiled rate and the last at a
// 1/E share of it. Noisy late steps at full rate keep the weights wandering
// around a minimum; shrinking them lets training settle into it, which
// shows in the test accuracy of a run of a fixed number of epochs.
//
// The compiled rate is put back when training ends, so a saved model's
// optimizer settings are the ones it was compiled with.

#include <optional>

#include "aisle/nn/callbacks.hpp"

namespace aisle {

class LinearLearningRateDecay final : public Callback {
 public:
  void on_train_begin(const TrainBegin& info) override;
  bool on_epoch_end(const EpochEnd& logs, Sequential& model) override;
  void on_train_end(Sequential& model) override;

  // The rate of epoch `epoch` (1-based) of `epochs`, from the initial rate.
  static float rate(float initial, int epoch, int epochs);

 private:
  int epochs_ = 0;
  std::optional<float> initial_;
};

}  // namespace aisle
