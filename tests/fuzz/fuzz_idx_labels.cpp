// IDX label files (plain or gzip).
#include "aisle/io/idx.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aisle::fuzz::allowing_aisle_errors(
      [&] { (void)aisle::io::read_idx_labels(aisle::fuzz::write_input("labels", data, size)); });
  return 0;
}
