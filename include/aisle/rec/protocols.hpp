#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aisle/rec/histories.hpp"
#include "aisle/rec/interactions.hpp"

namespace aisle::rec {

// The three protocols of docs/evaluation.md.
//   loo:   each user's last item is the test item, the rest is fitted.
//   users: users with FNV-1a-64(id) % 5 == 0 are held out, never fitted; their
//          first floor(0.8 n) items are given at query time, the rest are targets.
//   cold:  items with features and FNV-1a-64(id) % 5 == 1 are new: no row of
//          theirs is fitted; users with warm and cold items are evaluated, their
//          warm items the history, their cold items the targets, every cold
//          item a candidate.
enum class Protocol { loo, users, cold };

Protocol parse_protocol(std::string_view name);  // "loo" | "users" | "cold"; throws aisle::Error
std::string_view protocol_name(Protocol protocol);
// Users with fewer distinct items are dropped before anything else: 3 (loo, cold), 5 (users).
Index min_user_items(Protocol protocol);

// FNV-1a, 64 bits, over the bytes of s.
std::uint64_t fnv1a64(std::string_view s);
bool held_out_user(std::string_view user_id);
// Whether the cold protocol makes an item with features new (its hash alone).
bool cold_item_hash(std::string_view item_id);
// The cold protocol's new items of data: 1 for items with at least one
// feature whose id hashes to 1 mod 5.
std::vector<std::uint8_t> cold_items(const Interactions& data);

// What a protocol gives to fit and to query, in item indices of one catalogue.
struct EvalSplit {
  Protocol protocol = Protocol::loo;
  Index item_count = 0;
  Histories fitted;                 // the rows the model is fitted on, one per fitted user
  Histories queries;                // the history each evaluated user gives at query time
  Histories targets;                // the held-out items of each evaluated user
  std::vector<Index> query_users;   // the user (row of the source) of each query
  // The candidate pool, 1 per candidate item: the items of the fitted rows
  // (loo, users), the cold items (cold).
  std::vector<std::uint8_t> candidate_items;
  Index dropped_users = 0;          // users under min_user_items(protocol)
};

// The split of a data set's users for loo or users (user_ids are needed by
// the users protocol); cold needs the items' features: make_cold_split.
EvalSplit make_split(const Histories& histories, Index item_count, Protocol protocol,
                     const std::vector<std::string>& user_ids);
// Any protocol; cold reads data's item features.
EvalSplit make_split(const Interactions& data, Protocol protocol);
// The cold protocol over histories, cold[i] = 1 for new items.
EvalSplit make_cold_split(const Histories& histories, const std::vector<std::uint8_t>& cold);

// A validation split carved from fitted rows only, shaped like protocol, for
// tuning settings: loo holds out the last item of every row with at least 3
// items; users holds out the rows whose index hashes to 0 mod 5 (at least 5
// items), with the 80/20 split of the protocol. cold is shaped like loo: the
// fitted rows say nothing of features, and what tuning chooses (epochs, a
// regularisation) is about the warm items' next-item ranking.
EvalSplit make_validation_split(const Histories& fitted, Index item_count, Protocol protocol);

}  // namespace aisle::rec
