// The event log's replay (EventLog, rec/event_log.hpp) on arbitrary bytes
// after its header: a log either opens, with a torn end cut off, or is
// refused with an aisle::Error. When it opens, it must open again to the
// same events (the cut is durable) and take one more event.

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "aisle/rec/event_log.hpp"
#include "fuzz_input.hpp"

namespace {

// Each user's events, and the forgotten marks, as one string.
std::string contents(const aisle::rec::EventLog& log, const std::string& bytes) {
  std::string out = std::to_string(log.stats().events) + "/" + std::to_string(log.stats().users);
  aisle::rec::EventLogVisitor visitor;
  visitor.on_event = [&](aisle::rec::Event&& e) {
    for (const auto& timed : log.history(e.user)) out += e.user + "\x1f" + timed.item + "\x1f" + std::to_string(timed.timestamp) + "\x1e";
  };
  aisle::rec::parse_event_log(bytes, "log", visitor);
  return out;
}

std::string read_log(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto folder = aisle::fuzz::input_path("event-log");
  static const aisle::fuzz::RemovedAtExit cleanup{folder};
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  // The header is the seeds' business; the fuzzer's bytes are the records.
  const std::string header("AISLEEVT\x01\x00\x00\x00", 12);
  std::ofstream(folder / "events.log", std::ios::binary)
      << header << std::string(reinterpret_cast<const char*>(data), size);
  try {
    std::string first;
    {
      aisle::rec::EventLog log(folder);
      first = contents(log, read_log(log.path()));
    }
    aisle::rec::EventLog again(folder);
    if (!again.opening_warning().empty() || contents(again, read_log(again.path())) != first) std::abort();
    again.append(std::vector<aisle::rec::Event>{{"fuzz-user", "fuzz-item", 1}});
    if (aisle::rec::EventLog(folder).history("fuzz-user").empty()) std::abort();
  } catch (const aisle::Error&) {
  }
  std::filesystem::remove_all(folder);
  return 0;
}
