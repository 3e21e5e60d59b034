#pragma once

// aisle-serve's request handling, apart from the socket: routes a request
// to its endpoint, turns every refusal into a JSON error with its 4xx code,
// and counts what it answered. handle() never throws, whatever the bytes.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "aisle/rec/event_store.hpp"
#include "compute_queue.hpp"
#include "http_types.hpp"
#include "metrics.hpp"
#include "model_slots.hpp"

namespace serve {

struct ServiceLimits {
  std::int64_t max_k = 1000;           // "k" of a query
  std::size_t max_history = 10000;     // items in one history
  std::size_t max_batch = 1000;        // queries in one recommend_batch
  std::size_t max_list = 1000000;      // entries of an "exclude" or "allow" list
  std::size_t max_events = 10000;      // events in one POST /v1/events
  std::size_t max_id_bytes = 1024;     // a user or item id of an event
};

struct ServiceOptions {
  ServiceLimits limits;
  // When positive, the model endpoints' work runs on a first-in, first-out
  // pool of this many threads (see ComputeQueue), which also bounds the
  // memory of large batches computing at once. 0: on the connection's thread.
  int compute_threads = 0;
  // When set, admin calls need "Authorization: Bearer <token>"; when empty,
  // they are taken from loopback peers only.
  std::string admin_token;
  // Live shopper events (--events): POST /v1/events stores them, queries by
  // user are scored with them, GET and DELETE /v1/users/{id} read and erase
  // them. Null: those endpoints answer 501 and queries use the model's
  // fitted histories only.
  std::shared_ptr<aisle::rec::EventStore> events;
};

class Service {
 public:
  Service(ModelSlots& slots, Metrics& metrics, ServiceOptions options = {});

  HttpResponse handle(const HttpRequest& request);

  // Readiness: /readyz answers 200 once every model asked for is loaded and
  // until draining starts.
  void set_loaded(bool loaded) { loaded_ = loaded; }
  void start_draining() { draining_ = true; }
  bool ready() const { return loaded_ && !draining_; }

  // A reload from disk of every loaded slot, as SIGHUP asks: one line per
  // slot for the log, each reload counted in the metrics.
  std::string reload_all();
  // One slot's reload (from path, or its current file), counted in the
  // metrics as a success or a failure; a failure's aisle::Error propagates.
  ModelInfo reload(Slot slot, const std::optional<std::filesystem::path>& path = std::nullopt);

  ModelSlots& slots() { return slots_; }
  Metrics& metrics() { return metrics_; }
  const ServiceOptions& options() const { return options_; }

 private:
  HttpResponse route(const HttpRequest& request, std::string_view& endpoint);

  ModelSlots& slots_;
  Metrics& metrics_;
  ServiceOptions options_;
  std::unique_ptr<ComputeQueue> compute_;  // null: model work runs on the connection's thread
  std::atomic<bool> loaded_{false};
  std::atomic<bool> draining_{false};
};

}  // namespace serve
