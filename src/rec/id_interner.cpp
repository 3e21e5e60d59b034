#include "rec/id_interner.hpp"

#include <algorithm>
#include <numeric>

#include "core/parallel_for.hpp"

namespace aisle::rec::detail {
namespace {

// The length of the prefix that all parts' ids share.
std::size_t common_prefix(const std::vector<const IdInterner*>& parts) {
  const std::string_view* first = nullptr;
  std::size_t common = 0;
  for (const auto* part : parts) {
    for (const auto id : part->ids()) {
      if (first == nullptr) first = &part->ids().front(), common = id.size();
      std::size_t k = 0;
      while (k < common && k < id.size() && id[k] == (*first)[k]) ++k;
      common = k;
    }
  }
  return common;
}

// An id seen through the 8 bytes after the shared prefix, as a big-endian
// number padded with zeros, and its length: most comparisons of ids are
// comparisons of these small records, with no pointer chasing into the text.
struct KeyedId {
  std::uint64_t key;
  std::uint32_t size;
  std::uint32_t index;
};

class IdOrder {
 public:
  explicit IdOrder(std::size_t prefix) : prefix_(prefix) {}

  KeyedId keyed(std::string_view id, std::uint32_t index) const {
    std::uint64_t key = 0;
    for (std::size_t k = prefix_; k < prefix_ + 8; ++k)
      key = (key << 8) | (k < id.size() ? static_cast<unsigned char>(id[k]) : 0u);
    return {key, static_cast<std::uint32_t>(id.size()), index};
  }

  // -1, 0 or 1 as a's id is before, equal to or after b's, in byte order.
  // The ids themselves are read (from a and b's parts) only to break ties.
  int compare(const KeyedId& a, const std::vector<std::string_view>& a_ids, const KeyedId& b,
              const std::vector<std::string_view>& b_ids) const {
    if (a.key != b.key) return a.key < b.key ? -1 : 1;
    // Equal keys of ids no longer than prefix + 8 bytes: the ids differ at most in length.
    if (a.size <= prefix_ + 8 && b.size <= prefix_ + 8) return a.size < b.size ? -1 : a.size > b.size ? 1 : 0;
    // string_view compares through char_traits<char>: as unsigned bytes, like std::string.
    const auto c = a_ids[a.index].compare(b_ids[b.index]);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }

 private:
  std::size_t prefix_;
};

// A part's ids in byte order.
std::vector<KeyedId> byte_order(const std::vector<std::string_view>& ids, const IdOrder& order) {
  std::vector<KeyedId> keyed(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) keyed[i] = order.keyed(ids[i], static_cast<std::uint32_t>(i));
  std::sort(keyed.begin(), keyed.end(), [&](const KeyedId& a, const KeyedId& b) {
    return order.compare(a, ids, b, ids) < 0;
  });
  return keyed;
}

}  // namespace

MergedIds merge_interned_ids(const std::vector<const IdInterner*>& parts) {
  const IdOrder order(common_prefix(parts));
  std::vector<std::vector<KeyedId>> sorted(parts.size());
  aisle::detail::parallel_for(static_cast<Index>(parts.size()), {.uneven = true}, [&](Index p) {
    sorted[static_cast<std::size_t>(p)] = byte_order(parts[static_cast<std::size_t>(p)]->ids(), order);
  });
  MergedIds out;
  out.remap.resize(parts.size());
  std::size_t upper_bound = 0;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    out.remap[p].resize(parts[p]->ids().size());
    upper_bound += parts[p]->ids().size();
  }
  std::vector<std::string> merged;
  merged.reserve(upper_bound);
  std::vector<std::size_t> cursor(parts.size(), 0);
  const auto exhausted = [&](std::size_t p) { return cursor[p] == sorted[p].size(); };
  const auto head = [&](std::size_t p) -> const KeyedId& { return sorted[p][cursor[p]]; };
  const auto ids = [&](std::size_t p) -> const std::vector<std::string_view>& { return parts[p]->ids(); };
  while (true) {
    // A k-way merge of the sorted parts, k being a handful of threads.
    std::size_t smallest = parts.size();
    for (std::size_t p = 0; p < parts.size(); ++p) {
      if (!exhausted(p) && (smallest == parts.size() || order.compare(head(p), ids(p), head(smallest), ids(smallest)) < 0))
        smallest = p;
    }
    if (smallest == parts.size()) break;
    const auto index = static_cast<Index>(merged.size());
    const auto key = head(smallest);
    const auto& key_ids = ids(smallest);
    merged.emplace_back(key_ids[key.index]);
    for (std::size_t p = 0; p < parts.size(); ++p) {
      if (exhausted(p) || order.compare(head(p), ids(p), key, key_ids) != 0) continue;
      out.remap[p][head(p).index] = index;
      ++cursor[p];
    }
  }
  out.ids = IdMap(std::move(merged));
  return out;
}

}  // namespace aisle::rec::detail
