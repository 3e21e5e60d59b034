// interactions.csv: the default columns, then with a rating filter; read in
// one part and in three, which must agree on the result or the error.
#include <cstdlib>
#include <string>

#include "aisle/rec/interactions.hpp"
#include "fuzz_input.hpp"

namespace {

// Everything read_interactions returns, or its error, as one string.
std::string outcome(const std::filesystem::path& path, const aisle::rec::InteractionsFormat& format, int parts) {
  try {
    const auto data = aisle::rec::read_interactions(path, format, parts);
    std::string out;
    for (const auto& id : data.users().ids()) out.append(id).append(1, '\0');
    out.append("|");
    for (const auto& id : data.items().ids()) out.append(id).append(1, '\0');
    for (aisle::Index u = 0; u < data.user_count(); ++u) {
      out.append("|");
      for (const auto item : data.history(u)) out.append(std::to_string(item)).append(",");
      for (const auto t : data.timestamps(u)) out.append(std::to_string(t)).append(",");
    }
    return out;
  } catch (const aisle::Error& e) {
    return std::string("error: ") + e.what();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = aisle::fuzz::write_input("interactions.csv", data, size);
  for (const auto& format : {aisle::rec::InteractionsFormat{}, aisle::rec::InteractionsFormat{.min_rating = 2.0f}}) {
    if (outcome(path, format, 1) != outcome(path, format, 3)) std::abort();
  }
  return 0;
}
