#include "service.hpp"

#include <array>
#include <chrono>
#include <exception>

#include "aisle/core/error.hpp"
#include "handlers.hpp"

namespace serve {
namespace {

using Handler = HttpResponse (*)(const HttpRequest&, Service&);

struct Route {
  std::string_view path;      // "{id}" matches one segment
  std::string_view method;
  std::string_view endpoint;  // the metrics' label
  Handler handler;            // null: answered by Service itself
  bool computes = false;      // model work: runs on the compute queue when there is one
};

constexpr std::array kRoutes = {
    Route{"/v1/recommend", "POST", "recommend", handle_recommend, true},
    Route{"/v1/recommend_batch", "POST", "recommend_batch", handle_recommend_batch, true},
    Route{"/v1/similar", "POST", "similar", handle_similar, true},
    Route{"/v1/explain", "POST", "explain", handle_explain, true},
    Route{"/v1/classify", "POST", "classify", handle_classify, true},
    Route{"/v1/models", "GET", "models", handle_models},
    Route{"/v1/events", "POST", "events", handle_events},
    Route{"/v1/users/{id}/history", "GET", "user_history", handle_user_history},
    Route{"/v1/users/{id}", "DELETE", "forget_user", handle_forget_user},
    Route{"/admin/reload", "POST", "reload", handle_reload},
    Route{"/healthz", "GET", "healthz", nullptr},
    Route{"/readyz", "GET", "readyz", nullptr},
    Route{"/metrics", "GET", "metrics", nullptr},
};

bool matches(std::string_view pattern, std::string_view path) {
  constexpr std::string_view kSegment = "{id}";
  const auto at = pattern.find(kSegment);
  if (at == std::string_view::npos) return pattern == path;
  const auto prefix = pattern.substr(0, at), suffix = pattern.substr(at + kSegment.size());
  if (path.size() <= prefix.size() + suffix.size() || !path.starts_with(prefix) || !path.ends_with(suffix)) return false;
  const auto segment = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  return segment.find('/') == std::string_view::npos;
}

const Route* find_route(std::string_view path) {
  for (const auto& route : kRoutes)
    if (matches(route.path, path)) return &route;
  return nullptr;
}

}  // namespace

Service::Service(ModelSlots& slots, Metrics& metrics, ServiceOptions options)
    : slots_(slots), metrics_(metrics), options_(std::move(options)) {
  if (options_.compute_threads > 0) compute_ = std::make_unique<ComputeQueue>(options_.compute_threads);
}

HttpResponse Service::route(const HttpRequest& request, std::string_view& endpoint) {
  const Route* route = find_route(request.path);
  if (route == nullptr) throw RequestError(404, "no endpoint " + request.path);
  endpoint = route->endpoint;
  const bool head_of_get = request.method == "HEAD" && route->method == "GET";
  if (request.method != route->method && !head_of_get) {
    auto response = error_response(405, "use " + std::string(route->method) + " for " + request.path + ", not " + request.method);
    response.headers.emplace_back("Allow", route->method);
    return response;
  }
  if (route->handler != nullptr) {
    if (compute_ && route->computes) return compute_->run([&] { return route->handler(request, *this); });
    return route->handler(request, *this);
  }
  if (route->endpoint == "healthz") return json_response(200, {{"status", "ok"}});
  if (route->endpoint == "readyz") {
    if (ready()) return json_response(200, {{"status", "ready"}});
    return error_response(503, draining_ ? "draining: the server is shutting down" : "loading models");
  }
  HttpResponse metrics;
  metrics.content_type = "text/plain; version=0.0.4";
  metrics.body = metrics_.render(slots_.infos(), compute_ ? std::optional(compute_->queued()) : std::nullopt,
                                 options_.events ? std::optional(options_.events->stats()) : std::nullopt);
  return metrics;
}

HttpResponse Service::handle(const HttpRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  const auto inflight = metrics_.track_inflight();
  std::string_view endpoint = "other";
  HttpResponse response;
  try {
    response = route(request, endpoint);
  } catch (const RequestError& e) {
    response = error_response(e.status(), e.what());
    if (e.status() == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer");
  } catch (const aisle::Error& e) {
    // The library refused the query itself (an id it cannot take, ...).
    response = error_response(400, e.what());
  } catch (const std::bad_alloc&) {
    response = error_response(503, "out of memory for this request");
  } catch (const std::exception& e) {
    response = error_response(500, std::string("internal error: ") + e.what());
  }
  metrics_.observe(endpoint, response.status,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return response;
}

ModelInfo Service::reload(Slot slot, const std::optional<std::filesystem::path>& path) {
  try {
    auto info = slots_.reload(slot, path);
    metrics_.count_reload(slot_name(slot), true);
    return info;
  } catch (const aisle::Error&) {
    metrics_.count_reload(slot_name(slot), false);
    throw;
  }
}

std::string Service::reload_all() {
  std::string log;
  for (const Slot slot : {Slot::recommender, Slot::classifier}) {
    if (!slots_.path_of(slot)) continue;
    try {
      const auto info = reload(slot);
      log += std::string("reloaded ") + slot_name(slot) + " model " + info.path.string() + " (version " + info.version + ")\n";
    } catch (const aisle::Error& e) {
      log += std::string("reload of the ") + slot_name(slot) + " model failed; the old model keeps serving: " + e.what() + "\n";
    }
  }
  return log;
}

}  // namespace serve
