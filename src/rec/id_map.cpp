#include "aisle/rec/id_map.hpp"

#include <algorithm>
#include <numeric>

#include "aisle/core/error.hpp"

namespace aisle::rec {

IdMap::IdMap(std::vector<std::string> ids) {
  index_.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!index_.emplace(ids[i], static_cast<Index>(i)).second) throw Error("duplicate id '" + ids[i] + "'");
  }
  ids_ = std::move(ids);
}

std::optional<Index> IdMap::find(std::string_view id) const {
  const auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

Index IdMap::insert(std::string_view id) {
  const auto it = index_.find(id);
  if (it != index_.end()) return it->second;
  const auto index = size();
  ids_.emplace_back(id);
  index_.emplace(ids_.back(), index);
  return index;
}

std::vector<Index> IdMap::sort_by_id() {
  std::vector<Index> order(ids_.size());
  std::iota(order.begin(), order.end(), Index{0});
  // std::string compares through char_traits<char>, i.e. as unsigned bytes.
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return ids_[a] < ids_[b]; });
  std::vector<Index> new_index(ids_.size());
  std::vector<std::string> sorted(ids_.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    new_index[static_cast<std::size_t>(order[i])] = static_cast<Index>(i);
    sorted[i] = std::move(ids_[static_cast<std::size_t>(order[i])]);
  }
  ids_ = std::move(sorted);
  for (std::size_t i = 0; i < ids_.size(); ++i) index_[ids_[i]] = static_cast<Index>(i);
  return new_index;
}

bool IdMap::sorted_by_id() const { return std::is_sorted(ids_.begin(), ids_.end()); }

}  // namespace aisle::rec
