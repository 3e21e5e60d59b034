#pragma once

// Interning of ids that are views into a text buffer that outlives the
// interner (a CSV file read whole): numbers ids in order of first sight
// without copying a string, for readers that parse a file in parts on
// several threads and merge the parts' ids afterwards (merge_interned_ids).

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "aisle/rec/id_map.hpp"

namespace aisle::rec::detail {

class IdInterner {
 public:
  // Interns ids[k] into out[k], numbering new ids from 0 in order of first
  // sight. A batch at a time so that the table's slots for the whole batch
  // are fetched from memory at once, instead of one cache miss after
  // another: in tables of millions of ids almost every lookup is a miss.
  // At most 2^32 - 1 ids: a file with more rows would not fit in memory first.
  void intern(std::span<const std::string_view> ids, std::span<std::uint32_t> out) {
    if ((ids_.size() + ids.size()) * 2 > slots_.size()) grow(ids_.size() + ids.size());
    hashes_.resize(ids.size());
    for (std::size_t k = 0; k < ids.size(); ++k) {
      hashes_[k] = std::hash<std::string_view>{}(ids[k]);
      __builtin_prefetch(&slots_[hashes_[k] & mask_]);
    }
    for (std::size_t k = 0; k < ids.size(); ++k) out[k] = intern_one(ids[k], hashes_[k]);
  }

  // The ids by index.
  const std::vector<std::string_view>& ids() const { return ids_; }

 private:
  static constexpr std::uint32_t kEmpty = UINT32_MAX;
  static constexpr std::size_t kInline = 16;
  // The id's first bytes are in the slot, so that a lookup of a short id
  // touches the slot only, not the text as well.
  struct Slot {
    std::size_t hash = 0;
    std::uint32_t size = 0;
    std::uint32_t index = kEmpty;
    char head[kInline] = {};
  };

  bool holds(const Slot& slot, std::string_view id, std::size_t hash) const {
    if (slot.hash != hash || slot.size != id.size()) return false;
    const auto head = std::min(id.size(), kInline);
    if (std::memcmp(slot.head, id.data(), head) != 0) return false;
    return id.size() <= kInline || ids_[slot.index].substr(kInline) == id.substr(kInline);
  }

  std::uint32_t intern_one(std::string_view id, std::size_t hash) {
    for (auto at = hash & mask_;; at = (at + 1) & mask_) {
      auto& slot = slots_[at];
      if (slot.index == kEmpty) {
        slot.hash = hash;
        slot.size = static_cast<std::uint32_t>(id.size());
        slot.index = static_cast<std::uint32_t>(ids_.size());
        std::memcpy(slot.head, id.data(), std::min(id.size(), kInline));
        ids_.push_back(id);
        return slot.index;
      }
      if (holds(slot, id, hash)) return slot.index;
    }
  }

  void grow(std::size_t count) {
    std::size_t size = std::max<std::size_t>(slots_.size(), 1024);
    while (size < 2 * count) size *= 2;
    std::vector<Slot> bigger(size);
    mask_ = size - 1;
    for (const auto& slot : slots_) {
      if (slot.index == kEmpty) continue;
      auto at = slot.hash & mask_;
      while (bigger[at].index != kEmpty) at = (at + 1) & mask_;
      bigger[at] = slot;
    }
    slots_ = std::move(bigger);
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::vector<std::string_view> ids_;
  std::vector<std::size_t> hashes_;  // the batch's, kept to reuse the buffer
};

// The union of several interners' ids as one IdMap in byte order, and for
// each interner the new index of each of its indices (remap[part][old]).
struct MergedIds {
  IdMap ids;
  std::vector<std::vector<Index>> remap;
};
MergedIds merge_interned_ids(const std::vector<const IdInterner*>& parts);

}  // namespace aisle::rec::detail
