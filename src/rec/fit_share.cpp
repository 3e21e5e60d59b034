#include "aisle/rec/fit_share.hpp"

#include "aisle/core/memory.hpp"
#include "aisle/rec/protocols.hpp"
#include "rec/scoring.hpp"

namespace aisle::rec {
namespace {

// Rows are the same rows when their shape and every item agree: the
// protocols' FNV-1a over the bytes of the offsets and the items (a pass over
// the data, far cheaper than what is shared). Addresses are not used: a
// split's rows may be freed and another's built in their place.
std::uint64_t fingerprint(const Histories& rows) {
  const auto bytes = [](const std::vector<Index>& values) {
    return std::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(Index));
  };
  return fnv1a64(bytes(rows.offsets())) ^ (fnv1a64(bytes(rows.items())) * 1099511628211ULL);
}

bool room_for_more_after(std::uint64_t bytes) {
  const auto available = available_memory();
  return !available || *available >= 3 * bytes;
}

}  // namespace

FitShare::Entry& FitShare::entry(const Histories& rows, Index item_count) {
  const auto key = fingerprint(rows);
  for (auto& e : entries_)
    if (e.fingerprint == key && e.item_count == item_count) return e;
  entries_.push_back({key, item_count, nullptr, nullptr});
  return entries_.back();
}

const std::shared_ptr<const Histories>& FitShare::item_rows_of(Entry& e, const Histories& rows, Index item_count) {
  if (!e.item_rows) {
    e.item_rows = std::make_shared<const Histories>(detail::item_rows(rows, item_count));
    ++built_.item_rows;
  }
  return e.item_rows;
}

std::shared_ptr<const Histories> FitShare::item_rows(const Histories& rows, Index item_count) {
  std::lock_guard lock(mutex_);
  return item_rows_of(entry(rows, item_count), rows, item_count);
}

std::shared_ptr<const Matrix> FitShare::gram(const Histories& rows, Index item_count) {
  std::lock_guard lock(mutex_);
  auto& e = entry(rows, item_count);
  if (e.gram) return e.gram;
  auto gram = std::make_shared<const Matrix>(detail::gram_matrix(rows, *item_rows_of(e, rows, item_count), item_count));
  ++built_.grams;
  const auto bytes = static_cast<std::uint64_t>(gram->size()) * sizeof(float);
  if (room_for_more_after(bytes)) e.gram = gram;
  return gram;
}

FitShare::Built FitShare::built() const {
  std::lock_guard lock(mutex_);
  return built_;
}

}  // namespace aisle::rec
