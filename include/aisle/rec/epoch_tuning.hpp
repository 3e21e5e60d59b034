#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "aisle/rec/model.hpp"

namespace aisle::rec {

// The epoch count of an iteratively trained model (neural, transformer):
// chosen on a validation split carved from the fitted rows, with the curve
// that chose it kept for params() and the model file, or simply as set.
class EpochTuning {
 public:
  // Trains a probe of the model on the given rows, calling
  // after_epoch(epoch, probe) after each epoch and stopping when it returns
  // false.
  using AfterEpoch = std::function<bool(int epoch, const Model& probe)>;
  using TrainProbe = std::function<void(const Histories& rows, const AfterEpoch& after_epoch)>;
  // The probe stops once this many epochs have passed without a better
  // validation figure: past its best, a model that overfits rarely recovers,
  // and the epochs after it would only cost time.
  static constexpr int kPatience = 10;

  void clear();
  // The best epoch on a validation split (FitContext::validation_protocol)
  // of rows, measured after each epoch of a probe trained by train_probe
  // (until kPatience epochs bring nothing better);
  // `kind` names the model in progress lines.
  int choose(const Histories& rows, Index item_count, const FitContext& context, const std::string& kind,
             const TrainProbe& train_probe);
  void set_trained(int epochs) { trained_ = epochs; }
  int trained() const { return trained_; }

  // params() fields: epochs_trained, epochs_tuned_on, epochs_validation
  // (only when the count was chosen on validation).
  void write(nlohmann::json& params) const;
  // The same fields from a saved model's params; epochs when it has none.
  void read(const nlohmann::json& params, int epochs);

 private:
  int trained_ = 0;
  std::string tuned_on_;                        // what chose trained_
  std::vector<std::pair<int, double>> curve_;  // (epoch, validation metric)
};

}  // namespace aisle::rec
