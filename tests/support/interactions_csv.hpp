#pragma once

// Tiny interaction files written on the fly by the recommendation tests.

#include <string>
#include <utility>
#include <vector>

namespace aisle::test_support {

// "user,item,timestamp" rows from {user, {items in time order}}.
inline std::string interactions_csv(const std::vector<std::pair<std::string, std::vector<std::string>>>& users) {
  std::string csv = "user,item,timestamp\n";
  long long t = 1000;
  for (const auto& [user, items] : users) {
    for (const auto& item : items) csv += user + "," + item + "," + std::to_string(t++) + "\n";
  }
  return csv;
}

}  // namespace aisle::test_support
