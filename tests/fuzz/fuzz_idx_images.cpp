// IDX image files (plain or gzip), as the Fashion-MNIST loader reads them.
#include "aisle/io/idx.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aisle::fuzz::allowing_aisle_errors(
      [&] { (void)aisle::io::read_idx_images(aisle::fuzz::write_input("images", data, size)); });
  return 0;
}
