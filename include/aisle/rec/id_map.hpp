#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "aisle/core/tensor.hpp"

namespace aisle::rec {

// Opaque string ids (users, items, features) <-> dense indices 0..size()-1.
// Lookups take string_views and allocate nothing.
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
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> ids_;
  std::unordered_map<std::string, Index, Hash, std::equal_to<>> index_;
};

}  // namespace aisle::rec
