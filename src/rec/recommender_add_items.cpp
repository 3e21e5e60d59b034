// Recommender::add_items: growing the catalogue after the fit.

#include <algorithm>
#include <unordered_set>

#include "aisle/core/error.hpp"
#include "aisle/rec/recommender.hpp"

namespace aisle::rec {
namespace {

// The grown catalogue: old and new ids in byte order, where each came from.
struct GrownCatalogue {
  IdMap items;
  std::vector<Index> old_index;   // per new index: the old one, -1 for a new item
  std::vector<Index> new_index;   // per old index
};

GrownCatalogue grow(const IdMap& old_items, const std::vector<std::string>& added) {
  std::vector<std::string> ids = old_items.ids();
  ids.insert(ids.end(), added.begin(), added.end());
  std::sort(ids.begin(), ids.end());
  GrownCatalogue grown{IdMap(std::move(ids)), {}, {}};
  grown.old_index.assign(static_cast<std::size_t>(grown.items.size()), -1);
  grown.new_index.assign(static_cast<std::size_t>(old_items.size()), -1);
  for (Index i = 0; i < grown.items.size(); ++i) {
    if (const auto old = old_items.find(grown.items.id(i))) {
      grown.old_index[static_cast<std::size_t>(i)] = *old;
      grown.new_index[static_cast<std::size_t>(*old)] = i;
    }
  }
  return grown;
}

}  // namespace

AddedItems Recommender::add_items(const std::filesystem::path& items_csv, const ItemFeaturesFormat& format) {
  return add_items(read_item_feature_pairs(items_csv, format));
}

AddedItems Recommender::add_items(std::span<const std::pair<std::string, std::string>> item_features) {
  AddedItems report;
  std::vector<std::string> added;
  std::unordered_set<std::string> seen_known, seen_unknown, seen_added;
  for (const auto& [item, feature] : item_features) {
    if (items_.find(item)) {
      if (seen_known.insert(item).second) report.known_items.push_back(item);
      continue;
    }
    if (seen_added.insert(item).second) added.push_back(item);
    if (!features_.find(feature) && seen_unknown.insert(feature).second) report.unknown_features.push_back(feature);
  }
  if (added.empty()) return report;

  const auto grown = grow(items_, added);
  // Every item's features in the grown catalogue, sorted and distinct.
  std::vector<std::vector<Index>> rows(static_cast<std::size_t>(grown.items.size()));
  for (Index i = 0; i < grown.items.size(); ++i) {
    const Index old = grown.old_index[static_cast<std::size_t>(i)];
    if (old < 0 || old >= item_features_.size()) continue;
    const auto own = item_features_[old];
    rows[static_cast<std::size_t>(i)].assign(own.begin(), own.end());
  }
  for (const auto& [item, feature] : item_features) {
    const auto f = features_.find(feature);
    const auto i = grown.items.find(item);
    if (f && grown.old_index[static_cast<std::size_t>(*i)] < 0) rows[static_cast<std::size_t>(*i)].push_back(*f);
  }
  Histories grown_features;
  for (auto& row : rows) {
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
    grown_features.add(row);
  }

  // The model first: if it cannot grow, nothing has changed.
  std::shared_ptr<const Model> grown_model = model_->with_items(
      {.old_index = grown.old_index, .item_features = &grown_features, .feature_count = features_.size()});

  RowVector popularity = RowVector::Zero(grown.items.size());
  for (Index old = 0; old < items_.size(); ++old)
    popularity[grown.new_index[static_cast<std::size_t>(old)]] = popularity_[old];
  std::vector<Index> remapped;
  remapped.reserve(static_cast<std::size_t>(user_histories_.total()));
  for (const Index old : user_histories_.items()) remapped.push_back(grown.new_index[static_cast<std::size_t>(old)]);
  user_histories_ = Histories::from_arrays(user_histories_.offsets(), std::move(remapped), grown.items.size());
  popularity_ = std::move(popularity);
  item_features_ = std::move(grown_features);
  items_ = grown.items;
  model_ = std::move(grown_model);
  report.added = static_cast<Index>(added.size());
  report.index_dropped = ranking() == "hnsw";
  const bool exact = ranking() == "exact-vectors";
  retrieval_.reset();
  if (exact) use_exact_vector_search();
  choose_default_ranking();
  check_consistent("Recommender::add_items");
  return report;
}

}  // namespace aisle::rec
