#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aisle::rec {

// Which items a query may return. By default every catalogue item except the
// query history's own (no already-bought items).
struct Filter {
  bool exclude_history = true;
  // Never return these items (ids unknown to the model are ignored).
  std::vector<std::string> deny;
  // When set, return only these items: in stock, one category, ...
  std::optional<std::vector<std::string>> allow;
  // When set, return only items for which it is true. Called only for items
  // that would enter the top k, and from the calling thread.
  std::function<bool(std::string_view item_id)> predicate;
};

}  // namespace aisle::rec
