// interactions.csv: the default columns, then with a rating filter.
#include "aisle/core/error.hpp"
#include "aisle/rec/interactions.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = aisle::fuzz::write_input("interactions.csv", data, size);
  try {
    (void)aisle::rec::read_interactions(path);
  } catch (const aisle::Error&) {
  }
  try {
    (void)aisle::rec::read_interactions(path, {.min_rating = 2.0f});
  } catch (const aisle::Error&) {
  }
  return 0;
}
