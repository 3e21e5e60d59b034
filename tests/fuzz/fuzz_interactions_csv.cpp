// interactions.csv: the default columns, then with a rating filter.
#include "aisle/rec/interactions.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = aisle::fuzz::write_input("interactions.csv", data, size);
  aisle::fuzz::allowing_aisle_errors([&] { (void)aisle::rec::read_interactions(path); });
  aisle::fuzz::allowing_aisle_errors([&] { (void)aisle::rec::read_interactions(path, {.min_rating = 2.0f}); });
  return 0;
}
