// IDX image files (plain or gzip), as the Fashion-MNIST loader reads them.
#include "aisle/core/error.hpp"
#include "aisle/io/idx.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)aisle::io::read_idx_images(aisle::fuzz::write_input("images", data, size));
  } catch (const aisle::Error&) {
  }
  return 0;
}
