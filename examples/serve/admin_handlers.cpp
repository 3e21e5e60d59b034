// /admin/reload and /v1/models, and who may call admin endpoints.

#include <algorithm>

#include "aisle/core/error.hpp"
#include "handlers.hpp"
#include "request_fields.hpp"

namespace serve {
namespace {

// Compares every byte whatever the first difference, so that the time a
// refusal takes says nothing about the token.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  const auto byte = [](std::string_view s, std::size_t i) { return i < s.size() ? s[i] : '\0'; };
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i)
    difference |= static_cast<unsigned char>(byte(a, i) ^ byte(b, i));
  return difference == 0;
}

nlohmann::json info_json(const ModelInfo& info) {
  nlohmann::json j{{"model", info.name},           {"kind", info.kind},
                   {"version", info.version},      {"path", info.path.string()},
                   {"loaded_at", info.loaded_at}, {"load_seconds", info.load_seconds}};
  j[info.name == "rec" ? "items" : "classes"] = info.size;
  return j;
}

Slot slot_named(const std::string& name) {
  if (name == "rec") return Slot::recommender;
  if (name == "classifier") return Slot::classifier;
  throw RequestError(400, "field 'model' must be \"rec\" or \"classifier\", not \"" + name + "\"");
}

}  // namespace

void require_admin(const HttpRequest& request, const ServiceOptions& options) {
  if (options.admin_token.empty()) {
    if (!request.from_loopback)
      throw RequestError(403, "admin calls are taken from loopback only (start aisle-serve with --admin-token)");
    return;
  }
  constexpr std::string_view kScheme = "Bearer ";
  const std::string_view header = request.authorization;
  if (!header.starts_with(kScheme) || !same_secret(header.substr(kScheme.size()), options.admin_token))
    throw RequestError(401, "admin calls need the header 'Authorization: Bearer <admin token>'");
}

HttpResponse handle_models(const HttpRequest&, Service& service) {
  nlohmann::json models = nlohmann::json::array();
  for (const auto& info : service.slots().infos()) models.push_back(info_json(info));
  return json_response(200, {{"models", std::move(models)}});
}

HttpResponse handle_reload(const HttpRequest& request, Service& service) {
  require_admin(request, service.options());
  nlohmann::json body = nlohmann::json::object();
  if (!request.body.empty()) body = json_object_body(request);
  check_known_fields(body, {"model", "path"});
  const auto model = optional_string(body, "model");
  const auto path = optional_string(body, "path");
  if (path && !model) throw RequestError(400, "field 'path' needs 'model' (\"rec\" or \"classifier\")");
  if (path && path->empty()) throw RequestError(400, "field 'path' is empty");
  std::vector<Slot> slots;
  if (model) {
    slots.push_back(slot_named(*model));
  } else {
    for (const Slot s : {Slot::recommender, Slot::classifier})
      if (service.slots().path_of(s)) slots.push_back(s);
  }
  nlohmann::json reloaded = nlohmann::json::array();
  for (const Slot slot : slots) {
    try {
      const auto info = service.reload(slot, path ? std::optional<std::filesystem::path>(*path) : std::nullopt);
      reloaded.push_back(info_json(info));
    } catch (const aisle::Error& e) {
      throw RequestError(422, std::string("reload of the ") + slot_name(slot) + " model failed; the old model keeps serving: " +
                                  e.what());
    }
  }
  return json_response(200, {{"reloaded", std::move(reloaded)}});
}

}  // namespace serve
