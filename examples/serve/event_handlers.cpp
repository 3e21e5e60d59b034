// POST /v1/events, and a shopper's rights of access and erasure:
// GET /v1/users/{id}/history and DELETE /v1/users/{id}.

#include <ctime>
#include <set>

#include "aisle/core/error.hpp"
#include "handlers.hpp"
#include "request_fields.hpp"
#include "shopper_history.hpp"

namespace serve {
namespace {

constexpr std::string_view kUsersPrefix = "/v1/users/";
constexpr std::int64_t kLatestTimestamp = std::int64_t{1} << 40;  // year 36812: anything later is a unit mistake

aisle::rec::EventStore& event_store(Service& service) {
  auto* store = service.options().events.get();
  if (store == nullptr)
    throw RequestError(501, "this server keeps no events: start aisle-serve with --events DIR or --events redis://HOST:PORT");
  return *store;
}

std::string event_id(const nlohmann::json& event, const std::string& field, const std::string& where,
                     std::size_t max_bytes) {
  const auto it = event.find(field);
  if (it == event.end()) throw RequestError(400, where + ": missing field '" + field + "'");
  if (!it->is_string()) throw RequestError(400, where + ": field '" + field + "' must be a string");
  auto id = it->get<std::string>();
  if (id.empty()) throw RequestError(400, where + ": field '" + field + "' is empty");
  if (id.size() > max_bytes)
    throw RequestError(400, where + ": field '" + field + "' has " + std::to_string(id.size()) + " bytes; at most " +
                                std::to_string(max_bytes));
  return id;
}

std::int64_t event_time(const nlohmann::json& event, const std::string& where, std::int64_t now) {
  const auto it = event.find("timestamp");
  if (it == event.end()) return now;
  const bool whole = it->is_number_integer() || it->is_number_unsigned();
  if (!whole || it->get<double>() < 0 || it->get<double>() > static_cast<double>(kLatestTimestamp))
    throw RequestError(400, where + ": field 'timestamp' must be a whole number of seconds since 1970 (0 to " +
                                std::to_string(kLatestTimestamp) + ")");
  return it->get<std::int64_t>();
}

aisle::rec::Event event_from(const nlohmann::json& object, const std::string& where, const ServiceLimits& limits,
                             std::int64_t now) {
  if (!object.is_object()) throw RequestError(400, where + " must be an object with 'user' and 'item'");
  check_known_fields(object, {"user", "item", "timestamp"}, where);
  return {event_id(object, "user", where, limits.max_id_bytes), event_id(object, "item", where, limits.max_id_bytes),
          event_time(object, where, now)};
}

// Every event of the body, checked before any is stored: one bad event
// refuses the whole batch.
std::vector<aisle::rec::Event> events_from(const nlohmann::json& body, const ServiceLimits& limits) {
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  if (!body.contains("events")) return {event_from(body, "the event", limits, now)};
  check_known_fields(body, {"events"});
  const auto& list = body.at("events");
  if (!list.is_array()) throw RequestError(400, "field 'events' must be an array of objects");
  if (list.empty()) throw RequestError(400, "field 'events' is empty");
  if (list.size() > limits.max_events)
    throw RequestError(400, "field 'events' has " + std::to_string(list.size()) + " events; at most " +
                                std::to_string(limits.max_events) + " in one request");
  std::vector<aisle::rec::Event> events;
  events.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i)
    events.push_back(event_from(list[i], "events[" + std::to_string(i) + "]", limits, now));
  return events;
}

// The events' items the serving model does not know (all of them while no
// model is loaded), each once, in the order they came.
std::vector<std::string> unknown_items(const std::vector<aisle::rec::Event>& events, Service& service) {
  const auto model = service.slots().recommender();
  std::vector<std::string> unknown;
  std::set<std::string_view> seen;
  for (const auto& e : events)
    if ((!model || !model->recommender.items().find(e.item)) && seen.insert(e.item).second) unknown.push_back(e.item);
  return unknown;
}

}  // namespace

std::string user_in_path(const HttpRequest& request) {
  std::string_view rest(request.path);
  rest.remove_prefix(kUsersPrefix.size());
  if (rest.ends_with("/history")) rest.remove_suffix(std::string_view("/history").size());
  if (rest.empty()) throw RequestError(400, "the path names no user: /v1/users/{id}");
  return std::string(rest);
}

HttpResponse handle_events(const HttpRequest& request, Service& service) {
  auto& store = event_store(service);
  const auto events = events_from(json_object_body(request), service.options().limits);
  try {
    store.append(events);
  } catch (const aisle::Error& e) {
    throw RequestError(503, std::string("the events were not stored: ") + e.what());
  }
  service.metrics().count_events(static_cast<std::int64_t>(events.size()));
  return json_response(202, {{"accepted", events.size()}, {"unknown_items", unknown_items(events, service)}});
}

HttpResponse handle_user_history(const HttpRequest& request, Service& service) {
  require_admin(request, service.options());
  auto& store = event_store(service);
  const auto user = user_in_path(request);
  const auto model = service.slots().recommender();
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& entry : shopper_history(model ? &model->recommender : nullptr, store, user)) {
    nlohmann::json j{{"item", entry.item}, {"timestamp", nullptr}};
    if (entry.timestamp) j["timestamp"] = *entry.timestamp;
    entries.push_back(std::move(j));
  }
  return json_response(200, {{"user", user}, {"history", std::move(entries)}});
}

HttpResponse handle_forget_user(const HttpRequest& request, Service& service) {
  require_admin(request, service.options());
  auto& store = event_store(service);
  const auto user = user_in_path(request);
  bool compact = false;
  if (const auto it = request.query.find("compact"); it != request.query.end()) {
    if (it->second != "true" && it->second != "false")
      throw RequestError(400, "query argument 'compact' must be true or false, not '" + it->second + "'");
    compact = it->second == "true";
  }
  const auto model = service.slots().recommender();
  const bool in_model = model && model->recommender.users().find(user).has_value();
  std::int64_t removed = 0;
  try {
    removed = store.forget(user);
    if (compact) store.compact();
  } catch (const aisle::Error& e) {
    throw RequestError(503, std::string("the user was not deleted: ") + e.what());
  }
  return json_response(200, {{"user", user},
                             {"events_removed", removed},
                             {"model_history_hidden", in_model},
                             {"compacted", compact}});
}

}  // namespace serve
