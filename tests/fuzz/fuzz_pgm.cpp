// PGM images (P2 and P5), as aisle-classify reads a product photo.
#include "aisle/io/pgm.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aisle::fuzz::allowing_aisle_errors(
      [&] { (void)aisle::io::read_pgm(aisle::fuzz::write_input("image.pgm", data, size)); });
  return 0;
}
