#pragma once

#include "aisle/core/option_schema.hpp"
#include "aisle/rec/model.hpp"

namespace aisle::rec {

// Feature popularity takes no options; the struct lets it be made like every model.
struct FeaturePopularityOptions {};

// The cold protocol's first baseline (docs/evaluation.md): an item's score is
// the mean, over its features, of the feature's popularity, the number of
// fitted rows whose item carries it (0 for a feature no fitted item carries).
// Items without features score 0. Whatever the history, the same list: it
// recommends new items that look like what sells. Needs item features.
class FeaturePopularityModel final : public Model {
 public:
  static constexpr const char* kKind = "featpop";
  static const OptionSchema<FeaturePopularityOptions>& option_schema();

  explicit FeaturePopularityModel(FeaturePopularityOptions = {}) {}

  std::string kind() const override { return kKind; }
  nlohmann::json params() const override { return nlohmann::json::object(); }
  void fit(const Histories& rows, Index item_count, const FitContext& context = {}) override;
  Index item_count() const override { return scores_.cols(); }
  void score_batch(const Histories& histories, Matrix& scores) const override;
  // A history adds nothing to the score: all zeros.
  std::vector<float> contributions(std::span<const Index> history, Index item) const override;
  // A new item's score is the mean popularity of its features, as for the old ones.
  std::unique_ptr<Model> with_items(const CatalogueChange& change) const override;
  void save(io::ModelFile& file) const override;
  void load(io::ModelFile& file, const std::filesystem::path& path) override;

  const RowVector& item_scores() const { return scores_; }

 private:
  RowVector scores_;
  RowVector feature_popularity_;  // per feature: the fitted rows whose item carries it
};

}  // namespace aisle::rec
