#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aisle/core/tensor.hpp"

namespace aisle::rec {

// Opaque string ids (users, items, features) <-> dense indices 0..size()-1.
// Lookups take string_views and allocate nothing. The index is an open
// addressing table of indices into the ids (8 bytes a slot, at most half
// full): millions of ids build in a fraction of a second, without a node
// per id.
class IdMap {
 public:
  IdMap() = default;
  explicit IdMap(std::vector<std::string> ids);  // throws aisle::Error on a duplicate

  Index size() const { return static_cast<Index>(ids_.size()); }
  bool empty() const { return ids_.empty(); }
  const std::string& id(Index index) const { return ids_[static_cast<std::size_t>(index)]; }
  const std::vector<std::string>& ids() const { return ids_; }
  std::optional<Index> find(std::string_view id) const;
  // The index of id, added at the end when new.
  Index insert(std::string_view id);

  // Renumbers so that indices follow the byte order of the ids; returns
  // new_index[old_index].
  std::vector<Index> sort_by_id();
  bool sorted_by_id() const;

 private:
  struct Slot {
    std::uint32_t index_plus_one = 0;  // 0: empty
    std::uint32_t hash_bits = 0;       // the hash's high half: most mismatches skip the string
  };
  static std::uint64_t hash(std::string_view id) { return std::hash<std::string_view>{}(id); }
  // The slot that holds id, or the empty slot where it would go.
  std::size_t slot_of(std::string_view id, std::uint64_t hash) const;
  void rebuild_index();
  void allocate_slots(std::size_t count);  // an empty table for count ids
  void grow_index_for(std::size_t count);

  std::vector<std::string> ids_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

}  // namespace aisle::rec
