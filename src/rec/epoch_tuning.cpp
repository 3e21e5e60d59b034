#include "aisle/rec/epoch_tuning.hpp"

#include <algorithm>

#include "aisle/rec/evaluation.hpp"

namespace aisle::rec {

void EpochTuning::clear() {
  trained_ = 0;
  tuned_on_.clear();
  curve_.clear();
}

int EpochTuning::choose(const Histories& rows, Index item_count, const FitContext& context, const std::string& kind,
                        const TrainProbe& train_probe) {
  curve_.clear();
  const auto split = make_validation_split(rows, item_count, context.validation_protocol);
  const auto metric = protocol_metrics(context.validation_protocol).back();
  context.report(kind + ": choosing epochs on " + std::to_string(split.queries.size()) + " validation users (" +
                 metric.name() + ")");
  const auto best = [&] {
    return *std::max_element(curve_.begin(), curve_.end(),
                             [](const auto& a, const auto& b) { return a.second < b.second; });
  };
  train_probe(split.fitted, [&](int epoch, const Model& probe) {
    const double value = evaluate(probe, split, {.metrics = {metric}}).metrics.front().second;
    curve_.emplace_back(epoch, value);
    context.report(kind + ": epoch " + std::to_string(epoch) + " -> validation " + metric.name() + " " +
                   std::to_string(value));
    const bool go_on = epoch - best().first < kPatience;
    if (!go_on)
      context.report(kind + ": no better epoch than " + std::to_string(best().first) + " in " +
                     std::to_string(kPatience) + "; stopping the probe");
    return go_on;
  });
  tuned_on_ = metric.name() + " of a validation split of the fitted rows";
  return best().first;
}

void EpochTuning::write(nlohmann::json& params) const {
  if (curve_.empty()) return;
  params["epochs_trained"] = trained_;
  params["epochs_tuned_on"] = tuned_on_;
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& [epoch, value] : curve_) curve.push_back({epoch, value});
  params["epochs_validation"] = curve;
}

void EpochTuning::read(const nlohmann::json& params, int epochs) {
  clear();
  trained_ = params.value("epochs_trained", epochs);
  if (!params.contains("epochs_validation")) return;
  for (const auto& point : params.at("epochs_validation")) curve_.emplace_back(point.at(0).get<int>(), point.at(1).get<double>());
  tuned_on_ = params.at("epochs_tuned_on").get<std::string>();
}

}  // namespace aisle::rec
