#pragma once

#include "aisle/core/option_schema.hpp"
#include "aisle/rec/model.hpp"

namespace aisle::rec {

// Feature neighbours take no options; the struct lets them be made like every model.
struct FeatureKnnOptions {};

// The cold protocol's second baseline (docs/evaluation.md): each item is its
// one-hot feature vector scaled to unit length; a history's profile is the
// sum of its items' vectors, and an item's score is the cosine between its
// vector and the profile (0 for an item without features or an empty
// profile). It needs no interaction at all, so it scores new items as well
// as old. Needs item features, which the model file keeps.
class FeatureKnnModel final : public Model {
 public:
  static constexpr const char* kKind = "featknn";
  static const OptionSchema<FeatureKnnOptions>& option_schema();

  explicit FeatureKnnModel(FeatureKnnOptions = {}) {}

  std::string kind() const override { return kKind; }
  nlohmann::json params() const override { return nlohmann::json::object(); }
  void fit(const Histories& rows, Index item_count, const FitContext& context = {}) override;
  Index item_count() const override { return unit_.rows(); }
  void score_batch(const Histories& histories, Matrix& scores) const override;
  // New items are scored from their features like the old ones.
  std::unique_ptr<Model> with_items(const CatalogueChange& change) const override;
  void save(io::ModelFile& file) const override;
  void load(io::ModelFile& file, const std::filesystem::path& path) override;

 private:
  void set_features(Histories rows, Index feature_count);

  Histories features_;  // each item's feature indices
  Index feature_count_ = 0;
  SparseMatrix unit_;   // items x features, unit rows
  SparseMatrix unit_transposed_;
};

}  // namespace aisle::rec
