#include "aisle/rec/feature_popularity.hpp"

#include "aisle/core/error.hpp"
#include "rec/item_features.hpp"

namespace aisle::rec {
namespace {
constexpr const char* kScores = "featpop.scores";
constexpr const char* kFeaturePopularity = "featpop.feature_popularity";

// The mean, over the item's features, of their popularity; 0 without features.
float mean_popularity(std::span<const Index> features, const RowVector& feature_popularity) {
  if (features.empty()) return 0.0f;
  double sum = 0;
  for (const Index f : features) sum += feature_popularity[f];
  return static_cast<float>(sum / static_cast<double>(features.size()));
}
}

const OptionSchema<FeaturePopularityOptions>& FeaturePopularityModel::option_schema() {
  static const OptionSchema<FeaturePopularityOptions> schema("featpop model");
  return schema;
}

void FeaturePopularityModel::fit(const Histories& rows, Index item_count, const FitContext& context) {
  const auto features = detail::required_item_features(context, item_count, kKind);
  // Every fitted row (user, item) counts once for each feature of its item
  // (exact in floats up to 2^24 rows a feature).
  feature_popularity_.setZero(features.feature_count);
  for (const Index item : rows.items()) {
    for (const Index f : features.rows[item]) feature_popularity_[f] += 1.0f;
  }
  scores_.resize(item_count);
  for (Index item = 0; item < item_count; ++item) scores_[item] = mean_popularity(features.rows[item], feature_popularity_);
}

std::unique_ptr<Model> FeaturePopularityModel::with_items(const CatalogueChange& change) const {
  require_fitted("with_items");
  const auto features = detail::changed_item_features(change, feature_popularity_.cols(), kKind);
  auto grown = std::make_unique<FeaturePopularityModel>(*this);
  grown->scores_.resize(static_cast<Index>(change.old_index.size()));
  for (std::size_t i = 0; i < change.old_index.size(); ++i) {
    const Index old = change.old_index[i];
    grown->scores_[static_cast<Index>(i)] =
        old >= 0 ? scores_[old] : mean_popularity(features.rows[static_cast<Index>(i)], feature_popularity_);
  }
  return grown;
}

void FeaturePopularityModel::score_batch(const Histories& histories, Matrix& scores) const {
  require_fitted("score_batch");
  scores = scores_.replicate(histories.size(), 1);
}

std::vector<float> FeaturePopularityModel::contributions(std::span<const Index> history, Index /*item*/) const {
  return std::vector<float>(history.size(), 0.0f);
}

void FeaturePopularityModel::save(io::ModelFile& file) const {
  require_fitted("save");
  file.header["model"] = {{"kind", kind()}, {"params", params()}};
  file.tensors.push_back({kScores, scores_});
  file.tensors.push_back({kFeaturePopularity, feature_popularity_});
}

void FeaturePopularityModel::load(io::ModelFile& file, const std::filesystem::path& path) {
  Matrix scores = file.take_tensor(kScores);
  if (scores.rows() != 1 || scores.cols() == 0)
    throw Error(path.string() + ": " + kScores + " has shape " + shape_string(scores) + ", expected [1 x items]");
  Matrix popularity = file.take_tensor(kFeaturePopularity);
  if (popularity.rows() != 1)
    throw Error(path.string() + ": " + kFeaturePopularity + " has shape " + shape_string(popularity) +
                ", expected [1 x features]");
  scores_ = std::move(scores);
  feature_popularity_ = std::move(popularity);
}

}  // namespace aisle::rec
