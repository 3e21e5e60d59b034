#include "aisle/rec/feature_popularity.hpp"

#include "aisle/core/error.hpp"
#include "rec/item_features.hpp"

namespace aisle::rec {
namespace {
constexpr const char* kScores = "featpop.scores";
}

const OptionSchema<FeaturePopularityOptions>& FeaturePopularityModel::option_schema() {
  static const OptionSchema<FeaturePopularityOptions> schema("featpop model");
  return schema;
}

void FeaturePopularityModel::fit(const Histories& rows, Index item_count, const FitContext& context) {
  const auto features = detail::required_item_features(context, item_count, kKind);
  // Every fitted row (user, item) counts once for each feature of its item.
  std::vector<double> feature_popularity(static_cast<std::size_t>(features.feature_count), 0.0);
  for (const Index item : rows.items()) {
    for (const Index f : features.rows[item]) feature_popularity[static_cast<std::size_t>(f)] += 1.0;
  }
  scores_.setZero(item_count);
  for (Index item = 0; item < item_count; ++item) {
    const auto own = features.rows[item];
    if (own.empty()) continue;
    double sum = 0;
    for (const Index f : own) sum += feature_popularity[static_cast<std::size_t>(f)];
    scores_[item] = static_cast<float>(sum / static_cast<double>(own.size()));
  }
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
}

void FeaturePopularityModel::load(io::ModelFile& file, const std::filesystem::path& path) {
  Matrix scores = file.take_tensor(kScores);
  if (scores.rows() != 1 || scores.cols() == 0)
    throw Error(path.string() + ": " + kScores + " has shape " + shape_string(scores) + ", expected [1 x items]");
  scores_ = std::move(scores);
}

}  // namespace aisle::rec
