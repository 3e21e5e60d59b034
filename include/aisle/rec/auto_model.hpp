#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aisle/core/option_schema.hpp"
#include "aisle/rec/model.hpp"

namespace aisle::rec {

struct AutoOptions {
  // The candidates, tried in this order (cheapest first: under a time
  // budget the last ones are the ones dropped).
  std::vector<std::string> candidates = {"pop", "itemknn", "ease", "neural"};
  bool no_blend = false;  // single models only: no blends of the best candidates
  // Seconds for the whole fit, refit included; absent: no bound. A
  // candidate starts only while less than half of it is spent, since the
  // refit on all rows costs about as much again.
  std::optional<float> time_budget;
  // Validation queries the blend weights are chosen on (a seeded sample of
  // the validation split when it has more).
  Index blend_queries = 5000;
};

// The model chosen on the data itself: a validation split carved from the
// fitted rows in the shape of FitContext::validation_protocol (as EASE's
// tuning carves it), each candidate fitted on the rest and measured on it,
// then blends of the best candidates (BlendModel) grown greedily while they
// measure better. The winner, a model or a blend, is refitted on all rows
// with the settings its validation fit chose (EASE's l2 is not tuned again).
// params() and the model file keep every candidate's validation figure and
// the choice.
class AutoModel final : public Model {
 public:
  static constexpr const char* kKind = "auto";
  static const OptionSchema<AutoOptions>& option_schema();

  explicit AutoModel(AutoOptions options = {});

  std::string kind() const override { return kKind; }
  nlohmann::json params() const override;
  void fit(const Histories& rows, Index item_count, const FitContext& context = {}) override;
  Index item_count() const override { return chosen_ ? chosen_->item_count() : 0; }
  void score_batch(const Histories& histories, Matrix& scores) const override;
  std::vector<float> contributions(std::span<const Index> history, Index item) const override;
  void save(io::ModelFile& file) const override;
  void load(io::ModelFile& file, const std::filesystem::path& path) override;

  // The model the fit settled on (a single model or a blend).
  const Model& chosen() const;

 private:
  // The options and what validation measured: params() without the chosen
  // model's own, as the model file keeps them.
  nlohmann::json options_and_report() const;

  AutoOptions options_;
  nlohmann::json report_;  // what validation measured and why the choice
  std::shared_ptr<Model> chosen_;
};

}  // namespace aisle::rec
