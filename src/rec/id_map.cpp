#include "aisle/rec/id_map.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "aisle/core/error.hpp"

namespace aisle::rec {

IdMap::IdMap(std::vector<std::string> ids) : ids_(std::move(ids)) {
  if (ids_.size() >= UINT32_MAX) throw Error("id map: " + std::to_string(ids_.size()) + " ids, at most 2^32 - 2");
  allocate_slots(ids_.size());
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    const auto h = hash(ids_[i]);
    auto& slot = slots_[slot_of(ids_[i], h)];
    if (slot.index_plus_one != 0) throw Error("duplicate id '" + ids_[i] + "'");
    slot = {static_cast<std::uint32_t>(i + 1), static_cast<std::uint32_t>(h >> 32)};
  }
}

std::size_t IdMap::slot_of(std::string_view id, std::uint64_t h) const {
  const auto bits = static_cast<std::uint32_t>(h >> 32);
  for (auto at = h & mask_;; at = (at + 1) & mask_) {
    const auto& slot = slots_[at];
    if (slot.index_plus_one == 0) return at;
    if (slot.hash_bits == bits && ids_[slot.index_plus_one - 1] == id) return at;
  }
}

void IdMap::allocate_slots(std::size_t count) {
  std::size_t size = 16;
  while (size < 2 * count) size *= 2;
  slots_.assign(size, Slot{});
  mask_ = size - 1;
}

void IdMap::grow_index_for(std::size_t count) {
  if (2 * count <= slots_.size()) return;
  allocate_slots(count);
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    const auto h = hash(ids_[i]);
    slots_[slot_of(ids_[i], h)] = {static_cast<std::uint32_t>(i + 1), static_cast<std::uint32_t>(h >> 32)};
  }
}

void IdMap::rebuild_index() {
  slots_.clear();
  grow_index_for(ids_.size());
}

std::optional<Index> IdMap::find(std::string_view id) const {
  if (slots_.empty()) return std::nullopt;
  const auto& slot = slots_[slot_of(id, hash(id))];
  if (slot.index_plus_one == 0) return std::nullopt;
  return static_cast<Index>(slot.index_plus_one - 1);
}

Index IdMap::insert(std::string_view id) {
  if (const auto found = find(id)) return *found;
  if (ids_.size() + 1 >= UINT32_MAX) throw Error("id map: more than 2^32 - 2 ids");
  grow_index_for(ids_.size() + 1);
  const auto h = hash(id);
  const auto at = slot_of(id, h);
  ids_.emplace_back(id);
  slots_[at] = {static_cast<std::uint32_t>(ids_.size()), static_cast<std::uint32_t>(h >> 32)};
  return static_cast<Index>(ids_.size()) - 1;
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
  rebuild_index();
  return new_index;
}

bool IdMap::sorted_by_id() const { return std::is_sorted(ids_.begin(), ids_.end()); }

}  // namespace aisle::rec
