#include "aisle/rec/interactions.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

#include "aisle/core/error.hpp"
#include "aisle/core/threads.hpp"
#include "aisle/rec/csv.hpp"
#include "core/parallel_for.hpp"
#include "rec/id_interner.hpp"

namespace aisle::rec {
namespace {

// Files smaller than this are parsed on one thread: waking a team costs more.
constexpr std::size_t kParallelParseBytes = std::size_t{4} << 20;

// A row as parsed: user and item numbered within its part of the file.
struct RawRow {
  std::uint32_t user;
  std::uint32_t item;
  std::int64_t timestamp;
};

struct Columns {
  std::size_t user, item, timestamp, rating;
};

// One part of the file, parsed on its own thread.
struct ParsedPart {
  detail::IdInterner users, items;
  std::vector<RawRow> rows;
};

// Rows are parsed a batch at a time and their ids interned together (see
// IdInterner::intern). The views stay valid: they point into the file's text.
class RowBatch {
 public:
  static constexpr std::size_t kRows = 256;
  bool full() const { return users_.size() == kRows; }
  void add(std::string_view user, std::string_view item, std::int64_t timestamp) {
    users_.push_back(user);
    items_.push_back(item);
    timestamps_.push_back(timestamp);
  }
  void flush_into(ParsedPart& part) {
    const auto n = users_.size();
    user_index_.resize(n);
    item_index_.resize(n);
    part.users.intern(users_, user_index_);
    part.items.intern(items_, item_index_);
    for (std::size_t k = 0; k < n; ++k) part.rows.push_back({user_index_[k], item_index_[k], timestamps_[k]});
    users_.clear();
    items_.clear();
    timestamps_.clear();
  }

 private:
  std::vector<std::string_view> users_, items_;
  std::vector<std::int64_t> timestamps_;
  std::vector<std::uint32_t> user_index_, item_index_;
};

void parse_rows(CsvReader& csv, const Columns& columns, const InteractionsFormat& format, ParsedPart& out) {
  RowBatch batch;
  while (csv.next()) {
    const auto user = csv.field(columns.user);
    const auto item = csv.field(columns.item);
    if (user.empty()) csv.fail("empty " + format.user_column);
    if (item.empty()) csv.fail("empty " + format.item_column);
    const auto timestamp = csv.integer(columns.timestamp, format.timestamp_column);
    if (format.min_rating && csv.number(columns.rating, format.rating_column) < *format.min_rating) continue;
    batch.add(user, item, timestamp);
    if (batch.full()) batch.flush_into(out);
  }
  batch.flush_into(out);
}

std::vector<ParsedPart> parse_in_parts(std::vector<CsvReader>& readers, const Columns& columns,
                                       const InteractionsFormat& format, std::size_t bytes) {
  std::vector<ParsedPart> parts(readers.size());
  const auto count = static_cast<Index>(readers.size());
  // The first error in file order, as one thread reading the file would have met.
  aisle::detail::IterationErrors errors(count);
  aisle::detail::parallel_for(count, {.uneven = true, .parallel = count > 1}, [&](Index p) {
    errors.run(p, [&] {
      auto& part = parts[static_cast<std::size_t>(p)];
      part.rows.reserve(bytes / readers.size() / 16);
      parse_rows(readers[static_cast<std::size_t>(p)], columns, format, part);
    });
  });
  errors.rethrow_first();
  return parts;
}

// Every part's rows renumbered to the merged ids and grouped by user, each
// user's rows in file order (a counting sort: part p's rows of a user go
// after those of the parts before it). user_offsets[u] is where user u starts.
std::vector<RawRow> group_by_user(std::vector<ParsedPart>& parts, const detail::MergedIds& users,
                                  const detail::MergedIds& items, std::vector<Index>& user_offsets) {
  const auto user_count = static_cast<std::size_t>(users.ids.size());
  std::vector<std::vector<Index>> cursors(parts.size());
  aisle::detail::parallel_for(static_cast<Index>(parts.size()), {.uneven = true, .parallel = parts.size() > 1},
                              [&](Index index) {
                                const auto p = static_cast<std::size_t>(index);
                                auto& count = cursors[p];
                                count.assign(user_count, 0);
                                for (auto& row : parts[p].rows) {
                                  row.user = static_cast<std::uint32_t>(users.remap[p][row.user]);
                                  row.item = static_cast<std::uint32_t>(items.remap[p][row.item]);
                                  ++count[row.user];
                                }
                              });
  user_offsets.assign(user_count + 1, 0);
  Index at = 0;
  for (std::size_t u = 0; u < user_count; ++u) {
    user_offsets[u] = at;
    for (auto& cursor : cursors) at += std::exchange(cursor[u], at);
  }
  user_offsets[user_count] = at;
  std::vector<RawRow> grouped(static_cast<std::size_t>(at));
  aisle::detail::parallel_for(static_cast<Index>(parts.size()), {.uneven = true, .parallel = parts.size() > 1},
                              [&](Index index) {
                                const auto p = static_cast<std::size_t>(index);
                                auto& cursor = cursors[p];
                                for (const auto& row : parts[p].rows) grouped[static_cast<std::size_t>(cursor[row.user]++)] = row;
                                std::vector<RawRow>().swap(parts[p].rows);
                              });
  return grouped;
}

// Orders each user's rows by timestamp (stable: equal timestamps keep file
// order) and keeps each (user, item) pair's first occurrence, compacted at
// the front of the user's range; returns how many each user keeps.
std::vector<Index> order_and_deduplicate(std::vector<RawRow>& grouped, const std::vector<Index>& user_offsets,
                                         Index item_count) {
  const auto user_count = static_cast<Index>(user_offsets.size()) - 1;
  std::vector<Index> kept(static_cast<std::size_t>(user_count));
  const auto by_time = [](const RawRow& a, const RawRow& b) { return a.timestamp < b.timestamp; };
  aisle::detail::parallel_for_with_state(
      user_count, {.uneven = true, .chunk = 4096, .parallel = grouped.size() > kParallelParseBytes / 32},
      // seen_by[item]: the last user that had it.
      [&] { return std::vector<Index>(static_cast<std::size_t>(item_count), -1); },
      [&](std::vector<Index>& seen_by, Index u) {
        const auto begin = grouped.begin() + user_offsets[static_cast<std::size_t>(u)];
        const auto end = grouped.begin() + user_offsets[static_cast<std::size_t>(u) + 1];
        if (!std::is_sorted(begin, end, by_time)) std::stable_sort(begin, end, by_time);
        auto out = begin;
        for (auto row = begin; row != end; ++row) {
          auto& seen = seen_by[row->item];
          if (seen == u) continue;
          seen = u;
          *out++ = *row;
        }
        kept[static_cast<std::size_t>(u)] = out - begin;
      });
  return kept;
}

struct HistoryArrays {
  std::vector<Index> offsets, items;
};

HistoryArrays collect_histories(const std::vector<RawRow>& grouped, const std::vector<Index>& user_offsets,
                                    const std::vector<Index>& kept, std::vector<std::int64_t>& timestamps) {
  const auto user_count = kept.size();
  std::vector<Index> offsets(user_count + 1, 0);
  std::partial_sum(kept.begin(), kept.end(), offsets.begin() + 1);
  std::vector<Index> items(static_cast<std::size_t>(offsets.back()));
  timestamps.resize(items.size());
  aisle::detail::parallel_for(static_cast<Index>(user_count), {.parallel = grouped.size() > kParallelParseBytes / 32},
                              [&](Index index) {
                                const auto u = static_cast<std::size_t>(index);
                                const auto from = static_cast<std::size_t>(user_offsets[u]);
                                const auto to = static_cast<std::size_t>(offsets[u]);
                                for (Index k = 0; k < kept[u]; ++k) {
                                  const auto& row = grouped[from + static_cast<std::size_t>(k)];
                                  items[to + static_cast<std::size_t>(k)] = row.item;
                                  timestamps[to + static_cast<std::size_t>(k)] = row.timestamp;
                                }
                              });
  return {std::move(offsets), std::move(items)};
}

struct ParsedFile {
  std::vector<ParsedPart> parts;
  detail::MergedIds users, items;
};

detail::MergedIds merge_ids(const std::vector<ParsedPart>& parts, detail::IdInterner ParsedPart::*which) {
  std::vector<const detail::IdInterner*> interners;
  for (const auto& part : parts) interners.push_back(&(part.*which));
  return detail::merge_interned_ids(interners);
}

// The users' and the items' merges are two tasks, one per thread: each is
// mostly a walk through memory that one thread cannot speed up further.
void merge_users_and_items(ParsedFile& parsed) {
  aisle::detail::IterationErrors errors(2);
  aisle::detail::parallel_for(2, {.uneven = true, .parallel = parsed.parts.size() > 1}, [&](Index task) {
    errors.run(task, [&] {
      auto& merged = task == 0 ? parsed.users : parsed.items;
      merged = merge_ids(parsed.parts, task == 0 ? &ParsedPart::users : &ParsedPart::items);
    });
  });
  errors.rethrow_first();
}

// The file's rows and ids; its text is gone once the ids are copied out.
ParsedFile parse_file(const std::filesystem::path& path, const InteractionsFormat& format, int threads) {
  CsvReader csv(path, format.separator);
  const Columns columns{csv.column(format.user_column), csv.column(format.item_column),
                        csv.column(format.timestamp_column),
                        format.min_rating ? csv.column(format.rating_column) : std::size_t{0}};
  if (threads <= 0) threads = csv.size_bytes() < kParallelParseBytes ? 1 : num_threads();
  auto readers = csv.split_rows(static_cast<std::size_t>(threads));
  ParsedFile parsed;
  parsed.parts = parse_in_parts(readers, columns, format, csv.size_bytes());
  std::size_t rows = 0;
  for (const auto& part : parsed.parts) rows += part.rows.size();
  if (rows == 0) {
    const auto last_line = readers.empty() ? csv.line() : readers.back().line();
    throw Error(path.string() + ":" + std::to_string(last_line) + ": no interaction rows");
  }
  merge_users_and_items(parsed);
  for (auto& part : parsed.parts) part.users = {}, part.items = {};
  return parsed;
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

Interactions read_interactions(const std::filesystem::path& path, const InteractionsFormat& format, int threads) {
  auto parsed = parse_file(path, format, threads);
  std::vector<Index> user_offsets;
  auto grouped = group_by_user(parsed.parts, parsed.users, parsed.items, user_offsets);
  const auto item_count = parsed.items.ids.size();
  const auto kept = order_and_deduplicate(grouped, user_offsets, item_count);
  std::vector<std::int64_t> timestamps;
  auto arrays = collect_histories(grouped, user_offsets, kept, timestamps);
  auto histories = Histories::from_arrays(std::move(arrays.offsets), std::move(arrays.items), item_count);
  return Interactions(std::move(parsed.users.ids), std::move(parsed.items.ids), std::move(histories),
                      std::move(timestamps));
}

namespace {

// Sets data's item features from (item, feature) pairs, features numbered in
// the byte order of their names, each item's features once and in order.
void set_item_features_from_pairs(Interactions& data, IdMap features, std::vector<std::pair<Index, Index>> pairs) {
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

}  // namespace

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
  set_item_features_from_pairs(data, std::move(features), std::move(pairs));
}

std::vector<std::pair<std::string, std::string>> read_item_feature_pairs(const std::filesystem::path& path,
                                                                         const ItemFeaturesFormat& format) {
  CsvReader csv(path, format.separator);
  const auto item_col = csv.column(format.item_column);
  const auto feature_col = csv.column(format.feature_column);
  std::vector<std::pair<std::string, std::string>> pairs;
  while (csv.next()) {
    if (csv.field(item_col).empty()) csv.fail("empty " + format.item_column);
    if (csv.field(feature_col).empty()) csv.fail("empty " + format.feature_column);
    pairs.emplace_back(csv.field(item_col), csv.field(feature_col));
  }
  return pairs;
}

void rename_item_features(Interactions& data, std::span<const std::string> new_names) {
  if (static_cast<Index>(new_names.size()) != data.features().size())
    throw Error("rename_item_features: " + std::to_string(new_names.size()) + " names for " +
                std::to_string(data.features().size()) + " features");
  std::vector<Index> renamed_to;  // by old feature index
  IdMap features;
  for (std::size_t f = 0; f < new_names.size(); ++f) {
    if (new_names[f].empty())
      throw Error("rename_item_features: feature '" + data.features().ids()[f] + "' renamed to an empty name");
    renamed_to.push_back(features.insert(new_names[f]));
  }
  std::vector<std::pair<Index, Index>> pairs;
  const auto& item_features = data.item_features();
  for (Index item = 0; item < item_features.size(); ++item)
    for (const auto feature : item_features[item])
      pairs.emplace_back(item, renamed_to[static_cast<std::size_t>(feature)]);
  set_item_features_from_pairs(data, std::move(features), std::move(pairs));
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
