#pragma once

// What an operator watches, in Prometheus's text format: requests by
// endpoint and status code, their latency as a histogram per endpoint, the
// requests in flight, the models loaded and their reloads.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aisle/rec/event_store.hpp"
#include "model_slots.hpp"

namespace serve {

class Metrics {
 public:
  // Upper bounds of the latency buckets, in seconds (+Inf follows).
  static constexpr std::array<double, 14> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                      0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};

  void observe(std::string_view endpoint, int status, double seconds);
  void count_reload(std::string_view model, bool succeeded);
  void count_events(std::int64_t stored) { events_stored_ += stored; }

  // Counts a request in flight for the guard's lifetime.
  class InflightGuard {
   public:
    explicit InflightGuard(std::atomic<std::int64_t>& gauge) : gauge_(gauge) { ++gauge_; }
    ~InflightGuard() { --gauge_; }
    InflightGuard(const InflightGuard&) = delete;
    InflightGuard& operator=(const InflightGuard&) = delete;

   private:
    std::atomic<std::int64_t>& gauge_;
  };
  InflightGuard track_inflight() { return InflightGuard(inflight_); }

  // compute_queue_length: the compute queue's waiting work, when there is a
  // queue (aisle_compute_queue_length is left out otherwise); events: the
  // event store's counts, when there is a store.
  std::string render(const std::vector<ModelInfo>& models,
                     std::optional<std::size_t> compute_queue_length = std::nullopt,
                     std::optional<aisle::rec::EventStoreStats> events = std::nullopt) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> counts{};  // per bucket, not cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };

  // Per endpoint: requests by status code, and their latency.
  struct EndpointStats {
    std::map<int, std::uint64_t> codes;
    Histogram durations;
  };

  mutable std::mutex mutex_;
  // Looked up by string_view (std::less<>): a request allocates nothing once
  // its endpoint and code have been seen.
  std::map<std::string, EndpointStats, std::less<>> endpoints_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> reloads_;
  std::atomic<std::int64_t> inflight_{0};
  std::atomic<std::int64_t> events_stored_{0};
};

}  // namespace serve
