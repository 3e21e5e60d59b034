// Recommender files of every model kind (the checksum appended by the
// harness), and queries against what loaded.
#include <string>
#include <vector>

#include "aisle/rec/recommender.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aisle::fuzz::allowing_aisle_errors([&] {
    const auto recommender = aisle::rec::Recommender::load(
        aisle::fuzz::write_input("model.aisle", data, size, aisle::fuzz::Checksum::append));
    if (recommender.items().size() > 0) {
      const std::vector<std::string> history = {recommender.items().id(0), "no-such-item"};
      (void)recommender.recommend(history, 5);
      (void)recommender.similar_items(recommender.items().id(0), 5);
      (void)recommender.explain(history, recommender.items().id(recommender.items().size() - 1));
    }
    if (recommender.users().size() > 0) (void)recommender.recommend(recommender.users().id(0), 5);
  });
  return 0;
}
