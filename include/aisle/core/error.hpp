#pragma once

#include <stdexcept>
#include <string>

namespace aisle {

// The one exception type aisle throws for bad input, bad files and misuse.
// Messages name what is wrong: the file and line, or the shapes involved.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace aisle
