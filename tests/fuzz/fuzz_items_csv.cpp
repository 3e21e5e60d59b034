// items.csv (item,feature rows): read into a small catalogue's item features
// and as plain pairs, then renamed; when both readers accept the bytes they
// must agree on every (known item, feature) pair.
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "aisle/rec/interactions.hpp"
#include "fuzz_input.hpp"

namespace {

// A catalogue of the items a, b and "q,1" (the fuzzer's files may name them).
aisle::rec::Interactions small_catalogue() {
  std::vector<std::string> users{"u"}, items{"a", "b", "q,1"};
  auto histories = aisle::rec::Histories::from_arrays({0, 3}, {0, 1, 2}, 3);
  return aisle::rec::Interactions(aisle::rec::IdMap(users), aisle::rec::IdMap(items), std::move(histories), {1, 2, 3});
}

using PairSet = std::set<std::pair<std::string, std::string>>;

PairSet pairs_of(const aisle::rec::Interactions& data) {
  PairSet pairs;
  for (aisle::Index item = 0; item < data.item_features().size(); ++item)
    for (const auto feature : data.item_features()[item]) pairs.emplace(data.items().id(item), data.features().id(feature));
  return pairs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const auto path = aisle::fuzz::write_input("items.csv", bytes, size);
  std::optional<aisle::rec::Interactions> data;
  aisle::fuzz::allowing_aisle_errors([&] {
    auto read = small_catalogue();
    aisle::rec::read_item_features(path, read);
    data = std::move(read);
  });
  std::optional<std::vector<std::pair<std::string, std::string>>> pairs;
  aisle::fuzz::allowing_aisle_errors([&] { pairs = aisle::rec::read_item_feature_pairs(path); });
  if (!data || !pairs) return 0;
  PairSet known;
  for (const auto& [item, feature] : *pairs)
    if (data->items().find(item)) known.emplace(item, feature);
  if (known != pairs_of(*data)) std::abort();
  // Renaming every feature to its first byte merges them and keeps them sorted.
  std::vector<std::string> first_bytes;
  for (const auto& name : data->features().ids()) first_bytes.push_back(name.substr(0, 1));
  aisle::rec::rename_item_features(*data, first_bytes);
  const auto& names = data->features().ids();
  if (!std::is_sorted(names.begin(), names.end()) || std::adjacent_find(names.begin(), names.end()) != names.end())
    std::abort();
  return 0;
}
