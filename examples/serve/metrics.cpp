#include "metrics.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace serve {
namespace {

// Label values escaped as the text format asks: backslash, quote, newline.
std::string label_value(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// The shortest text that reads back as the same double ("0.0001", not "0.00010000000000000001").
std::string number_text(double value) {
  std::array<char, 32> text{};
  const auto end = std::to_chars(text.data(), text.data() + text.size(), value).ptr;
  return std::string(text.data(), end);
}

void header(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

void Metrics::observe(std::string_view endpoint, int status, double seconds) {
  const auto bucket = std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds) - kBuckets.begin();
  std::lock_guard lock(mutex_);
  auto found = endpoints_.find(endpoint);
  if (found == endpoints_.end()) found = endpoints_.emplace(std::string(endpoint), EndpointStats{}).first;
  ++found->second.codes[status];
  auto& histogram = found->second.durations;
  if (bucket < static_cast<std::ptrdiff_t>(kBuckets.size())) ++histogram.counts[static_cast<std::size_t>(bucket)];
  ++histogram.count;
  histogram.sum += seconds;
}

void Metrics::count_reload(std::string_view model, bool succeeded) {
  std::lock_guard lock(mutex_);
  ++reloads_[{std::string(model), succeeded ? "success" : "failed"}];
}

std::string Metrics::render(const std::vector<ModelInfo>& models, std::optional<std::size_t> compute_queue_length,
                            std::optional<aisle::rec::EventStoreStats> events) const {
  std::ostringstream out;
  std::lock_guard lock(mutex_);
  header(out, "aisle_requests_total", "counter", "Requests answered, by endpoint and HTTP status code.");
  for (const auto& [endpoint, stats] : endpoints_) {
    for (const auto& [code, count] : stats.codes)
      out << "aisle_requests_total{endpoint=\"" << label_value(endpoint) << "\",code=\"" << code << "\"} " << count
          << '\n';
  }
  header(out, "aisle_request_duration_seconds", "histogram", "Time from request parsed to response ready.");
  for (const auto& [endpoint, stats] : endpoints_) {
    const Histogram& h = stats.durations;
    const std::string label = "endpoint=\"" + label_value(endpoint) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative += h.counts[b];
      out << "aisle_request_duration_seconds_bucket{" << label << ",le=\"" << number_text(kBuckets[b]) << "\"} " << cumulative
          << '\n';
    }
    out << "aisle_request_duration_seconds_bucket{" << label << ",le=\"+Inf\"} " << h.count << '\n';
    out << "aisle_request_duration_seconds_sum{" << label << "} " << number_text(h.sum) << '\n';
    out << "aisle_request_duration_seconds_count{" << label << "} " << h.count << '\n';
  }
  header(out, "aisle_inflight_requests", "gauge", "Requests being handled now.");
  out << "aisle_inflight_requests " << inflight_.load() << '\n';
  if (compute_queue_length) {
    header(out, "aisle_compute_queue_length", "gauge", "Model requests waiting for a compute thread.");
    out << "aisle_compute_queue_length " << *compute_queue_length << '\n';
  }
  if (events) {
    header(out, "aisle_events_stored_total", "counter", "Events this server stored (acknowledged with 202).");
    out << "aisle_events_stored_total " << events_stored_.load() << '\n';
    header(out, "aisle_event_store_events", "gauge", "Events in the event store.");
    out << "aisle_event_store_events " << events->events << '\n';
    header(out, "aisle_event_store_users", "gauge", "Shoppers with events in the event store.");
    out << "aisle_event_store_users " << events->users << '\n';
    header(out, "aisle_event_store_bytes", "gauge", "Bytes of the event store's log (0 where not known).");
    out << "aisle_event_store_bytes " << events->bytes << '\n';
  }
  header(out, "aisle_model_info", "gauge", "The models serving, by slot and version (always 1).");
  for (const auto& m : models)
    out << "aisle_model_info{model=\"" << label_value(m.name) << "\",version=\"" << label_value(m.version)
        << "\",kind=\"" << label_value(m.kind) << "\"} 1\n";
  header(out, "aisle_model_reloads_total", "counter", "Model reloads, by slot and result (success, failed).");
  for (const auto& [key, count] : reloads_)
    out << "aisle_model_reloads_total{model=\"" << label_value(key.first) << "\",result=\"" << key.second << "\"} "
        << count << '\n';
  return out.str();
}

}  // namespace serve
