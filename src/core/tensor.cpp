#include "aisle/core/tensor.hpp"

#include <cmath>
#include <cstdio>

namespace aisle {

std::string shape_string(Index rows, Index cols) {
  // Built with append: GCC 12 misreports "literal" + std::string (-Wrestrict).
  std::string out("[");
  out.append(std::to_string(rows)).append(" x ").append(std::to_string(cols)).append("]");
  return out;
}

std::string value_string(float value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char text[32];
  std::snprintf(text, sizeof text, "%g", static_cast<double>(value));
  return text;
}

}  // namespace aisle
