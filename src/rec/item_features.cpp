#include "rec/item_features.hpp"

#include <cmath>

#include "aisle/core/error.hpp"

namespace aisle::rec::detail {

ItemFeatures optional_item_features(const FitContext& context, Index item_count) {
  if (context.item_features == nullptr || context.feature_count <= 0 || context.item_features->size() != item_count)
    return {};
  return {*context.item_features, context.feature_count};
}

ItemFeatures required_item_features(const FitContext& context, Index item_count, const std::string& model) {
  auto features = optional_item_features(context, item_count);
  if (features.feature_count == 0)
    throw Error(model + " needs item features (the data set's items.csv), and the fit was given none for its " +
                std::to_string(item_count) + " items");
  return features;
}

ItemFeatures changed_item_features(const CatalogueChange& change, Index feature_count, const std::string& model) {
  const auto items = static_cast<Index>(change.old_index.size());
  if (change.item_features == nullptr || change.item_features->size() != items)
    throw Error(model + ": the grown catalogue has " + std::to_string(items) + " items and features for " +
                std::to_string(change.item_features ? change.item_features->size() : 0));
  if (change.feature_count != feature_count && change.item_features->total() > 0)
    throw Error(model + ": the new items' features count " + std::to_string(change.feature_count) +
                " features, the fit " + std::to_string(feature_count));
  for (const Index f : change.item_features->items()) {
    if (f < 0 || f >= feature_count) throw Error(model + ": feature index " + std::to_string(f) + " out of range");
  }
  return {*change.item_features, feature_count};
}

void write_item_features(io::ModelFile& file, const std::string& key, const ItemFeatures& features) {
  file.header[key] = {{"feature_count", features.feature_count},
                      {"offsets", features.rows.offsets()},
                      {"features", features.rows.items()}};
}

ItemFeatures read_item_features(const io::ModelFile& file, const std::string& key, const std::filesystem::path& path) {
  if (!file.header.contains(key)) throw Error(path.string() + ": no " + key + " in the header");
  const auto& saved = file.header.at(key);
  try {
    ItemFeatures features;
    features.feature_count = saved.at("feature_count").get<Index>();
    if (features.feature_count < 0) throw Error("a negative feature_count");
    features.rows = Histories::from_arrays(saved.at("offsets").get<std::vector<Index>>(),
                                           saved.at("features").get<std::vector<Index>>(), features.feature_count);
    return features;
  } catch (const nlohmann::json::exception& e) {
    throw Error(path.string() + ": " + key + ": " + e.what());
  } catch (const Error& e) {
    throw Error(path.string() + ": " + key + ": " + e.what());
  }
}

SparseMatrix feature_means(const Histories& item_features, Index feature_count) {
  SparseMatrix means(item_features.size(), feature_count);
  std::vector<Eigen::Triplet<float>> entries;
  entries.reserve(static_cast<std::size_t>(item_features.total()));
  for (Index i = 0; i < item_features.size(); ++i) {
    const auto row = item_features[i];
    for (const Index f : row) entries.emplace_back(i, f, 1.0f / static_cast<float>(row.size()));
  }
  means.setFromTriplets(entries.begin(), entries.end());
  return means;
}

SparseMatrix unit_feature_matrix(const ItemFeatures& features) {
  SparseMatrix unit(features.item_count(), features.feature_count);
  std::vector<Eigen::Triplet<float>> entries;
  entries.reserve(static_cast<std::size_t>(features.rows.total()));
  for (Index item = 0; item < features.item_count(); ++item) {
    const auto row = features.rows[item];
    const float value = row.empty() ? 0.0f : 1.0f / std::sqrt(static_cast<float>(row.size()));
    for (const Index f : row) entries.emplace_back(item, f, value);
  }
  unit.setFromTriplets(entries.begin(), entries.end(), [](float a, float) { return a; });  // a repeat counts once
  return unit;
}

}  // namespace aisle::rec::detail
