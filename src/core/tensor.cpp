#include "aisle/core/tensor.hpp"

namespace aisle {

std::string shape_string(Index rows, Index cols) {
  // Built with append: GCC 12 misreports "literal" + std::string (-Wrestrict).
  std::string out("[");
  out.append(std::to_string(rows)).append(" x ").append(std::to_string(cols)).append("]");
  return out;
}

}  // namespace aisle
