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
