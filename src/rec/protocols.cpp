#include "aisle/rec/protocols.hpp"

#include "aisle/core/error.hpp"

namespace aisle::rec {
namespace {

// Row hashing for validation splits: splitmix64, so the choice of rows does
// not depend on their order in any simple way.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void mark_fitted_items(EvalSplit& split) {
  split.candidate_items.assign(static_cast<std::size_t>(split.item_count), 0);
  for (const Index item : split.fitted.items()) split.candidate_items[static_cast<std::size_t>(item)] = 1;
}

void add_leave_last_out(EvalSplit& split, std::span<const Index> history, Index user) {
  const auto rest = history.first(history.size() - 1);
  split.fitted.add(rest);
  split.queries.add(rest);
  split.targets.add(history.last(1));
  split.query_users.push_back(user);
}

void add_fold_in(EvalSplit& split, std::span<const Index> history, Index user) {
  const auto given = static_cast<std::size_t>(history.size() * 8 / 10);  // floor(0.8 n), exactly
  split.queries.add(history.first(given));
  split.targets.add(history.subspan(given));
  split.query_users.push_back(user);
}

// Rows shorter than min_items are dropped (a protocol) or fitted whole (a validation split).
enum class ShortRows { drop, fit };

template <class HeldOut>
EvalSplit split_rows(const Histories& histories, Index item_count, Protocol protocol, ShortRows short_rows,
                     HeldOut&& held_out) {
  const Index min_items = min_user_items(protocol);
  EvalSplit split;
  split.protocol = protocol;
  split.item_count = item_count;
  split.fitted.reserve(histories.size(), histories.total());
  for (Index row = 0; row < histories.size(); ++row) {
    const auto history = histories[row];
    if (static_cast<Index>(history.size()) < min_items) {
      if (short_rows == ShortRows::drop) {
        ++split.dropped_users;
      } else {
        split.fitted.add(history);
      }
      continue;
    }
    if (protocol == Protocol::loo) {
      add_leave_last_out(split, history, row);
    } else if (held_out(row)) {
      add_fold_in(split, history, row);
    } else {
      split.fitted.add(history);
    }
  }
  mark_fitted_items(split);
  return split;
}

}  // namespace

Protocol parse_protocol(std::string_view name) {
  if (name == "loo") return Protocol::loo;
  if (name == "users") return Protocol::users;
  if (name == "cold") return Protocol::cold;
  throw Error("unknown protocol '" + std::string(name) + "' (expected loo, users or cold)");
}

std::string_view protocol_name(Protocol protocol) {
  switch (protocol) {
    case Protocol::loo: return "loo";
    case Protocol::users: return "users";
    case Protocol::cold: return "cold";
  }
  return "?";
}

Index min_user_items(Protocol protocol) { return protocol == Protocol::users ? 5 : 3; }

std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : s) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

bool held_out_user(std::string_view user_id) { return fnv1a64(user_id) % 5 == 0; }

bool cold_item_hash(std::string_view item_id) { return fnv1a64(item_id) % 5 == 1; }

std::vector<std::uint8_t> cold_items(const Interactions& data) {
  std::vector<std::uint8_t> cold(static_cast<std::size_t>(data.item_count()), 0);
  if (!data.has_features()) return cold;
  for (Index item = 0; item < data.item_count(); ++item)
    cold[static_cast<std::size_t>(item)] = !data.item_features()[item].empty() && cold_item_hash(data.items().id(item));
  return cold;
}

EvalSplit make_split(const Histories& histories, Index item_count, Protocol protocol,
                     const std::vector<std::string>& user_ids) {
  if (protocol == Protocol::cold)
    throw Error("make_split: the cold protocol needs the items' features (make_split(data, ...) or make_cold_split)");
  if (protocol == Protocol::users && static_cast<Index>(user_ids.size()) != histories.size())
    throw Error("make_split: " + std::to_string(user_ids.size()) + " user ids for " +
                std::to_string(histories.size()) + " histories");
  return split_rows(histories, item_count, protocol, ShortRows::drop,
                    [&](Index row) { return held_out_user(user_ids[static_cast<std::size_t>(row)]); });
}

EvalSplit make_split(const Interactions& data, Protocol protocol) {
  if (protocol == Protocol::cold) {
    if (!data.has_features()) throw Error("the cold protocol needs item features (items.csv), and the data has none");
    return make_cold_split(data.histories(), cold_items(data));
  }
  return make_split(data.histories(), data.item_count(), protocol, data.users().ids());
}

EvalSplit make_cold_split(const Histories& histories, const std::vector<std::uint8_t>& cold) {
  const Index item_count = static_cast<Index>(cold.size());
  EvalSplit split;
  split.protocol = Protocol::cold;
  split.item_count = item_count;
  split.candidate_items = cold;
  std::vector<Index> warm, targets;
  for (Index row = 0; row < histories.size(); ++row) {
    const auto history = histories[row];
    if (static_cast<Index>(history.size()) < min_user_items(Protocol::cold)) {
      ++split.dropped_users;
      continue;
    }
    warm.clear();
    targets.clear();
    for (const Index item : history) {
      if (item < 0 || item >= item_count) throw Error("make_cold_split: item " + std::to_string(item) + " out of range");
      (cold[static_cast<std::size_t>(item)] ? targets : warm).push_back(item);
    }
    if (!warm.empty()) split.fitted.add(warm);
    if (warm.empty() || targets.empty()) continue;
    split.queries.add(warm);
    split.targets.add(targets);
    split.query_users.push_back(row);
  }
  return split;
}

EvalSplit make_validation_split(const Histories& fitted, Index item_count, Protocol protocol) {
  if (protocol == Protocol::cold) protocol = Protocol::loo;
  return split_rows(fitted, item_count, protocol, ShortRows::fit,
                    [](Index row) { return mix(static_cast<std::uint64_t>(row)) % 5 == 0; });
}

}  // namespace aisle::rec
