#pragma once

// Item features as the models that read them keep them (private to the
// library): taken from a FitContext, written to and read from model files.

#include <filesystem>
#include <string>

#include "aisle/io/model_file.hpp"
#include "aisle/rec/histories.hpp"
#include "aisle/rec/model.hpp"

namespace aisle::rec::detail {

// Each item's features, row i listing item i's feature indices.
struct ItemFeatures {
  Histories rows;
  Index feature_count = 0;
  Index item_count() const { return rows.size(); }
};

// The fit's features; throws naming model when the fit has none for
// item_count items (the models that cannot work without them).
ItemFeatures required_item_features(const FitContext& context, Index item_count, const std::string& model);
// The fit's features, or none (an empty ItemFeatures) when it has none.
ItemFeatures optional_item_features(const FitContext& context, Index item_count);

// A CatalogueChange's features, checked: one row per new item, the model's
// feature count (feature_count; 0 when the model had none, and then every
// row must be empty). Throws naming model.
ItemFeatures changed_item_features(const CatalogueChange& change, Index feature_count, const std::string& model);

// In the file's header under key; read checks every index against the counts
// the header claims before anything is built from them.
void write_item_features(io::ModelFile& file, const std::string& key, const ItemFeatures& features);
ItemFeatures read_item_features(const io::ModelFile& file, const std::string& key, const std::filesystem::path& path);

// items x features: row i holds 1/|features of i| on each of i's features,
// so that a product with a feature table gives each item its features' mean.
SparseMatrix feature_means(const Histories& item_features, Index feature_count);

// rows x feature_count: row i is item i's one-hot feature vector scaled to
// unit length (all zero for an item without features).
SparseMatrix unit_feature_matrix(const ItemFeatures& features);

}  // namespace aisle::rec::detail
