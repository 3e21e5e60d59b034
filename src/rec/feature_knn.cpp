#include "aisle/rec/feature_knn.hpp"

#include "aisle/core/error.hpp"
#include "rec/item_features.hpp"
#include "rec/scoring.hpp"

namespace aisle::rec {
namespace {
constexpr const char* kFeatures = "featknn_item_features";
}

const OptionSchema<FeatureKnnOptions>& FeatureKnnModel::option_schema() {
  static const OptionSchema<FeatureKnnOptions> schema("featknn model");
  return schema;
}

void FeatureKnnModel::set_features(Histories rows, Index feature_count) {
  features_ = std::move(rows);
  feature_count_ = feature_count;
  unit_ = detail::unit_feature_matrix({features_, feature_count_});
  unit_transposed_ = unit_.transpose();
}

void FeatureKnnModel::fit(const Histories& /*rows*/, Index item_count, const FitContext& context) {
  auto features = detail::required_item_features(context, item_count, kKind);
  set_features(std::move(features.rows), features.feature_count);
}

void FeatureKnnModel::score_batch(const Histories& histories, Matrix& scores) const {
  require_fitted("score_batch");
  Matrix profiles;  // histories x features: the sums of the unit vectors
  detail::multiply_histories(histories, unit_, profiles);
  const Eigen::VectorXf norms = profiles.rowwise().norm();
  for (Index r = 0; r < profiles.rows(); ++r) {
    if (norms[r] > 0) profiles.row(r) /= norms[r];
  }
  scores.resize(histories.size(), item_count());
  scores.noalias() = profiles * unit_transposed_;
}

std::unique_ptr<Model> FeatureKnnModel::with_items(const CatalogueChange& change) const {
  require_fitted("with_items");
  const auto features = detail::changed_item_features(change, feature_count_, kKind);
  auto grown = std::make_unique<FeatureKnnModel>(*this);
  grown->set_features(features.rows, features.feature_count);
  return grown;
}

void FeatureKnnModel::save(io::ModelFile& file) const {
  require_fitted("save");
  file.header["model"] = {{"kind", kind()}, {"params", params()}};
  detail::write_item_features(file, kFeatures, {features_, feature_count_});
}

void FeatureKnnModel::load(io::ModelFile& file, const std::filesystem::path& path) {
  auto features = detail::read_item_features(file, kFeatures, path);
  if (features.item_count() == 0) throw Error(path.string() + ": " + kFeatures + " lists no items");
  set_features(std::move(features.rows), features.feature_count);
}

}  // namespace aisle::rec
