#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "aisle/rec/histories.hpp"
#include "aisle/rec/id_map.hpp"

namespace aisle::rec {

// How to read a user's own export: the separator and the column names.
struct InteractionsFormat {
  char separator = ',';
  std::string user_column = "user";
  std::string item_column = "item";
  std::string timestamp_column = "timestamp";
  std::string rating_column = "rating";
  // Rows rated below this are dropped (the rating column must exist then).
  std::optional<float> min_rating;
};

struct ItemFeaturesFormat {
  char separator = ',';
  std::string item_column = "item";
  std::string feature_column = "feature";
};

// Interaction logs prepared as docs/evaluation.md says: each user's rows ordered by
// (timestamp, file order), only the first occurrence of each (user, item) kept.
//
// Item indices follow the byte order of the item ids (and user indices that of
// the user ids), so "equal scores rank by item id" is "by index" everywhere.
class Interactions {
 public:
  Interactions() = default;
  // histories[u] is user u's ordered distinct items, timestamps alike.
  Interactions(IdMap users, IdMap items, Histories histories, std::vector<std::int64_t> timestamps);

  const IdMap& users() const { return users_; }
  const IdMap& items() const { return items_; }
  Index user_count() const { return users_.size(); }
  Index item_count() const { return items_.size(); }
  Index interaction_count() const { return histories_.total(); }

  const Histories& histories() const { return histories_; }
  std::span<const Index> history(Index user) const { return histories_[user]; }
  std::span<const std::int64_t> timestamps(Index user) const;
  // The binary user x item matrix.
  SparseMatrix matrix() const { return to_sparse(histories_, item_count()); }

  // Optional item features ("genre:Comedy", "category:c03"): rows by item index.
  const IdMap& features() const { return features_; }
  const Histories& item_features() const { return item_features_; }
  bool has_features() const { return !features_.empty(); }
  void set_item_features(IdMap features, Histories item_features);

 private:
  IdMap users_;
  IdMap items_;
  Histories histories_;
  std::vector<std::int64_t> timestamps_;  // aligned with histories_.items()
  IdMap features_;
  Histories item_features_;
};

// Reads interactions.csv. Throws aisle::Error naming the file and line for a
// missing column, a bad number, or a file without rows (the first such line
// in the file). The file is parsed in `threads` parts at once; 0 takes
// aisle's thread count for files of a few megabytes and up, one otherwise.
// The result is the same for every thread count.
Interactions read_interactions(const std::filesystem::path& path, const InteractionsFormat& format = {},
                               int threads = 0);

// Reads items.csv into data's item features; items absent from data are skipped.
void read_item_features(const std::filesystem::path& path, Interactions& data, const ItemFeaturesFormat& format = {});

// Every (item, feature) row of an items.csv, in file order; an empty item or
// feature is an aisle::Error naming the file and line.
std::vector<std::pair<std::string, std::string>> read_item_feature_pairs(const std::filesystem::path& path,
                                                                         const ItemFeaturesFormat& format = {});

// Gives data's item feature f the name new_names[f]; features that end up
// with the same name merge (an item keeps each name once). For features
// resolved outside aisle, such as "image:<n>" resolved to the class an image
// classifier predicts. A count other than the features' or an empty name is
// an aisle::Error.
void rename_item_features(Interactions& data, std::span<const std::string> new_names);

// A data folder: interactions.csv, and items.csv when present.
Interactions read_dataset(const std::filesystem::path& folder, const InteractionsFormat& format = {});

}  // namespace aisle::rec
