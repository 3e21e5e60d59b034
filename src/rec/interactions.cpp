#include "aisle/rec/interactions.hpp"

#include <algorithm>
#include <numeric>

#include "aisle/core/error.hpp"
#include "aisle/rec/csv.hpp"

namespace aisle::rec {
namespace {

struct RawRow {
  Index user;
  Index item;
  std::int64_t timestamp;
};

// Rows grouped by user (counting sort, so file order is kept), then ordered
// by timestamp within each user (stable, so equal timestamps keep file order).
std::vector<RawRow> order_by_user_and_time(const std::vector<RawRow>& rows, Index user_count,
                                           std::vector<Index>& user_offsets) {
  user_offsets.assign(static_cast<std::size_t>(user_count) + 1, 0);
  for (const auto& row : rows) ++user_offsets[static_cast<std::size_t>(row.user) + 1];
  std::partial_sum(user_offsets.begin(), user_offsets.end(), user_offsets.begin());
  std::vector<Index> cursor(user_offsets.begin(), user_offsets.end() - 1);
  std::vector<RawRow> ordered(rows.size());
  for (const auto& row : rows) ordered[static_cast<std::size_t>(cursor[static_cast<std::size_t>(row.user)]++)] = row;
  for (Index u = 0; u < user_count; ++u) {
    std::stable_sort(ordered.begin() + user_offsets[static_cast<std::size_t>(u)],
                     ordered.begin() + user_offsets[static_cast<std::size_t>(u) + 1],
                     [](const RawRow& a, const RawRow& b) { return a.timestamp < b.timestamp; });
  }
  return ordered;
}

}  // namespace

Interactions::Interactions(IdMap users, IdMap items, Histories histories, std::vector<std::int64_t> timestamps)
    : users_(std::move(users)), items_(std::move(items)), histories_(std::move(histories)),
      timestamps_(std::move(timestamps)) {
  if (histories_.size() != users_.size())
    throw Error("interactions: " + std::to_string(histories_.size()) + " histories for " +
                std::to_string(users_.size()) + " users");
  if (timestamps_.size() != static_cast<std::size_t>(histories_.total()))
    throw Error("interactions: timestamps do not match the histories");
}

std::span<const std::int64_t> Interactions::timestamps(Index user) const {
  const auto begin = static_cast<std::size_t>(histories_.offsets()[static_cast<std::size_t>(user)]);
  return {timestamps_.data() + begin, histories_[user].size()};
}

void Interactions::set_item_features(IdMap features, Histories item_features) {
  if (item_features.size() != item_count())
    throw Error("item features: " + std::to_string(item_features.size()) + " rows for " +
                std::to_string(item_count()) + " items");
  features_ = std::move(features);
  item_features_ = std::move(item_features);
}

Interactions read_interactions(const std::filesystem::path& path, const InteractionsFormat& format) {
  CsvReader csv(path, format.separator);
  const auto user_col = csv.column(format.user_column);
  const auto item_col = csv.column(format.item_column);
  const auto time_col = csv.column(format.timestamp_column);
  const auto rating_col = format.min_rating ? csv.column(format.rating_column) : std::size_t{0};

  IdMap users, items;
  std::vector<RawRow> rows;
  while (csv.next()) {
    if (csv.field(user_col).empty()) csv.fail("empty " + format.user_column);
    if (csv.field(item_col).empty()) csv.fail("empty " + format.item_column);
    const auto timestamp = csv.integer(time_col, format.timestamp_column);
    if (format.min_rating && csv.number(rating_col, format.rating_column) < *format.min_rating) continue;
    rows.push_back({users.insert(csv.field(user_col)), items.insert(csv.field(item_col)), timestamp});
  }
  if (rows.empty()) throw Error(path.string() + ":" + std::to_string(csv.line()) + ": no interaction rows");

  const auto new_user = users.sort_by_id();
  const auto new_item = items.sort_by_id();
  for (auto& row : rows) {
    row.user = new_user[static_cast<std::size_t>(row.user)];
    row.item = new_item[static_cast<std::size_t>(row.item)];
  }
  std::vector<Index> user_offsets;
  const auto ordered = order_by_user_and_time(rows, users.size(), user_offsets);

  // Keep each (user, item) pair's first occurrence: seen_by[item] is the last user that had it.
  std::vector<Index> seen_by(static_cast<std::size_t>(items.size()), -1);
  std::vector<Index> offsets{0}, kept;
  std::vector<std::int64_t> timestamps;
  offsets.reserve(static_cast<std::size_t>(users.size()) + 1);
  kept.reserve(ordered.size());
  timestamps.reserve(ordered.size());
  for (Index u = 0; u < users.size(); ++u) {
    for (auto r = user_offsets[static_cast<std::size_t>(u)]; r < user_offsets[static_cast<std::size_t>(u) + 1]; ++r) {
      const auto& row = ordered[static_cast<std::size_t>(r)];
      auto& seen = seen_by[static_cast<std::size_t>(row.item)];
      if (seen == u) continue;
      seen = u;
      kept.push_back(row.item);
      timestamps.push_back(row.timestamp);
    }
    offsets.push_back(static_cast<Index>(kept.size()));
  }
  auto histories = Histories::from_arrays(std::move(offsets), std::move(kept), items.size());
  return Interactions(std::move(users), std::move(items), std::move(histories), std::move(timestamps));
}

void read_item_features(const std::filesystem::path& path, Interactions& data, const ItemFeaturesFormat& format) {
  CsvReader csv(path, format.separator);
  const auto item_col = csv.column(format.item_column);
  const auto feature_col = csv.column(format.feature_column);
  IdMap features;
  std::vector<std::pair<Index, Index>> pairs;  // (item, feature)
  while (csv.next()) {
    if (csv.field(feature_col).empty()) csv.fail("empty " + format.feature_column);
    const auto item = data.items().find(csv.field(item_col));
    if (!item) continue;
    pairs.emplace_back(*item, features.insert(csv.field(feature_col)));
  }
  const auto new_feature = features.sort_by_id();
  for (auto& p : pairs) p.second = new_feature[static_cast<std::size_t>(p.second)];
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  std::vector<Index> offsets(static_cast<std::size_t>(data.item_count()) + 1, 0), values;
  values.reserve(pairs.size());
  for (const auto& [item, feature] : pairs) {
    ++offsets[static_cast<std::size_t>(item) + 1];
    values.push_back(feature);
  }
  std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
  const auto feature_count = features.size();
  data.set_item_features(std::move(features),
                         Histories::from_arrays(std::move(offsets), std::move(values), feature_count));
}

Interactions read_dataset(const std::filesystem::path& folder, const InteractionsFormat& format) {
  auto data = read_interactions(folder / "interactions.csv", format);
  const auto items_csv = folder / "items.csv";
  if (std::filesystem::exists(items_csv)) {
    ItemFeaturesFormat features_format;
    features_format.separator = format.separator;
    features_format.item_column = format.item_column;
    read_item_features(items_csv, data, features_format);
  }
  return data;
}

}  // namespace aisle::rec
