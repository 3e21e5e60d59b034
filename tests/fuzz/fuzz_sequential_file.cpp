// Sequential model files (the checksum appended by the harness), and a
// prediction with what loaded.
#include "aisle/aisle.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aisle::fuzz::allowing_aisle_errors([&] {
    const aisle::Sequential model = aisle::Sequential::load(
        aisle::fuzz::write_input("model.aisle", data, size, aisle::fuzz::Checksum::append));
    if (model.input_size() > 0 && model.input_size() <= 4096)
      (void)model.predict(aisle::Matrix::Constant(2, model.input_size(), 0.5f));
  });
  return 0;
}
