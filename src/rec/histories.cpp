#include "aisle/rec/histories.hpp"

#include <algorithm>

#include "aisle/core/error.hpp"

namespace aisle::rec {

Histories Histories::from_arrays(std::vector<Index> offsets, std::vector<Index> items, Index item_count) {
  if (offsets.empty() || offsets.front() != 0 || offsets.back() != static_cast<Index>(items.size()) ||
      !std::is_sorted(offsets.begin(), offsets.end()))
    throw Error("history offsets are inconsistent with " + std::to_string(items.size()) + " items");
  for (const Index item : items) {
    if (item < 0 || item >= item_count)
      throw Error("history item index " + std::to_string(item) + " is outside [0, " + std::to_string(item_count) + ")");
  }
  Histories h;
  h.offsets_ = std::move(offsets);
  h.items_ = std::move(items);
  return h;
}

SparseMatrix to_sparse(const Histories& histories, Index item_count) {
  SparseMatrix m(histories.size(), item_count);
  std::vector<int> sizes(static_cast<std::size_t>(histories.size()));
  for (Index r = 0; r < histories.size(); ++r) sizes[static_cast<std::size_t>(r)] = static_cast<int>(histories[r].size());
  m.reserve(sizes);
  for (Index r = 0; r < histories.size(); ++r) {
    for (const Index item : histories[r]) m.coeffRef(r, item) = 1.0f;  // a repeat sets the same entry
  }
  m.makeCompressed();
  return m;
}

std::vector<Index> item_counts(const Histories& histories, Index item_count) {
  std::vector<Index> counts(static_cast<std::size_t>(item_count), 0);
  std::vector<Index> last_row(static_cast<std::size_t>(item_count), -1);
  for (Index r = 0; r < histories.size(); ++r) {
    for (const Index item : histories[r]) {
      auto& last = last_row[static_cast<std::size_t>(item)];
      if (last == r) continue;
      last = r;
      ++counts[static_cast<std::size_t>(item)];
    }
  }
  return counts;
}

Histories select_rows(const Histories& histories, std::span<const Index> rows) {
  Histories out;
  Index total = 0;
  for (const Index r : rows) total += static_cast<Index>(histories[r].size());
  out.reserve(static_cast<Index>(rows.size()), total);
  for (const Index r : rows) out.add(histories[r]);
  return out;
}

}  // namespace aisle::rec
