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
  split.fitted_items.assign(static_cast<std::size_t>(split.item_count), 0);
  for (const Index item : split.fitted.items()) split.fitted_items[static_cast<std::size_t>(item)] = 1;
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
  throw Error("unknown protocol '" + std::string(name) + "' (expected loo or users)");
}

std::string_view protocol_name(Protocol protocol) { return protocol == Protocol::loo ? "loo" : "users"; }

Index min_user_items(Protocol protocol) { return protocol == Protocol::loo ? 3 : 5; }

std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : s) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

bool held_out_user(std::string_view user_id) { return fnv1a64(user_id) % 5 == 0; }

EvalSplit make_split(const Histories& histories, Index item_count, Protocol protocol,
                     const std::vector<std::string>& user_ids) {
  if (protocol == Protocol::users && static_cast<Index>(user_ids.size()) != histories.size())
    throw Error("make_split: " + std::to_string(user_ids.size()) + " user ids for " +
                std::to_string(histories.size()) + " histories");
  return split_rows(histories, item_count, protocol, ShortRows::drop,
                    [&](Index row) { return held_out_user(user_ids[static_cast<std::size_t>(row)]); });
}

EvalSplit make_split(const Interactions& data, Protocol protocol) {
  return make_split(data.histories(), data.item_count(), protocol, data.users().ids());
}

EvalSplit make_validation_split(const Histories& fitted, Index item_count, Protocol protocol) {
  return split_rows(fitted, item_count, protocol, ShortRows::fit,
                    [](Index row) { return mix(static_cast<std::uint64_t>(row)) % 5 == 0; });
}

}  // namespace aisle::rec
