// aisle-serve's request handlers (Service::handle, no socket) on arbitrary
// bodies: the first byte picks the endpoint and whether the peer is on
// loopback, the second the Content-Type, the rest is the body. Whatever the
// bytes, the answer is a status with a JSON body ({"error": ...} for 4xx and
// 5xx); an exception, a crash or an answer that is not JSON is a finding.

#include <array>
#include <cstdlib>
#include <iostream>
#include <string>

#include "aisle/rec/event_log.hpp"
#include "aisle/rec/recommender.hpp"
#include "aisle/rec/synthetic.hpp"
#include "classifier.hpp"
#include "fuzz_input.hpp"
#include "service.hpp"

namespace {

struct Endpoint {
  const char* method;
  const char* path;
};

constexpr std::array<Endpoint, 15> kEndpoints = {{{"POST", "/v1/recommend"},
                                                  {"POST", "/v1/recommend_batch"},
                                                  {"POST", "/v1/similar"},
                                                  {"POST", "/v1/explain"},
                                                  {"POST", "/v1/classify"},
                                                  {"GET", "/v1/models"},
                                                  {"POST", "/admin/reload"},
                                                  {"GET", "/readyz"},
                                                  {"GET", "/metrics"},
                                                  {"GET", "/v1/recommend"},
                                                  {"POST", "/v1/nothing"},
                                                  {"DELETE", "/v1/similar"},
                                                  {"POST", "/v1/events"},
                                                  {"GET", "/v1/users/shopper-000001/history"},
                                                  {"DELETE", "/v1/users/shopper-000001"}}};
constexpr std::array<const char*, 4> kContentTypes = {"application/json", "image/x-portable-graymap", "",
                                                      "text/plain"};

// A tiny store's EASE model and an untrained classifier, loaded once.
serve::ModelSlots& loaded_slots() {
  static serve::ModelSlots slots;
  static const bool loaded = [] {
    const auto dir = aisle::fuzz::input_path("serve-models");
    std::filesystem::create_directories(dir);
    const aisle::rec::SyntheticOptions options{.users = 30, .items = 12, .categories = 3};
    aisle::rec::write_synthetic_store(dir / "shop", aisle::rec::make_synthetic_store(options), options);
    aisle::rec::Recommender::fit(aisle::rec::read_dataset(dir / "shop"), aisle::rec::make_model("ease")).save(dir / "rec");
    classify::build_classic_model(1, std::nullopt, 1e-3f).save(dir / "classifier");
    slots.reload(serve::Slot::recommender, dir / "rec");
    slots.reload(serve::Slot::classifier, dir / "classifier");
    std::filesystem::remove_all(dir);
    return true;
  }();
  (void)loaded;
  return slots;
}

// Events go to a log of this process's own, removed at exit.
serve::ServiceOptions options_with_events() {
  static const auto folder = aisle::fuzz::input_path("serve-events");
  static const aisle::fuzz::RemovedAtExit cleanup{folder};
  std::filesystem::remove_all(folder);
  serve::ServiceOptions options;
  options.events = std::make_shared<aisle::rec::EventLog>(folder);
  return options;
}

serve::Service& service() {
  static serve::Metrics metrics;
  static serve::Service instance(loaded_slots(), metrics, options_with_events());
  instance.set_loaded(true);
  return instance;
}

[[noreturn]] void finding(const std::string& what, const serve::HttpResponse& response) {
  std::cerr << "fuzz_serve_requests: " << what << " (status " << response.status << "): " << response.body << "\n";
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto& endpoint = kEndpoints[(data[0] & 0x7f) % kEndpoints.size()];
  serve::HttpRequest request{.method = endpoint.method,
                             .path = endpoint.path,
                             .content_type = kContentTypes[data[1] % kContentTypes.size()],
                             .body = std::string(reinterpret_cast<const char*>(data + 2), size - 2),
                             .from_loopback = (data[0] & 0x80) != 0};
  const auto response = service().handle(request);
  if (response.status < 200 || response.status > 599) finding("status out of range", response);
  if (std::string(endpoint.path) == "/metrics" && response.status == 200) return 0;
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) finding("the answer is not a JSON object", response);
  if (response.status >= 400 && !body.contains("error")) finding("an error without an 'error' field", response);
  return 0;
}
