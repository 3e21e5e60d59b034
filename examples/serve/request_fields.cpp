#include "request_fields.hpp"

#include <string>

namespace serve {
namespace {

[[noreturn]] void bad_field(const std::string& field, const std::string& what) {
  throw RequestError(400, "field '" + field + "' " + what);
}

std::string type_name(const nlohmann::json& value) { return value.type_name(); }

// "application/json; charset=utf-8" -> "application/json"
std::string_view media_type(std::string_view content_type) {
  const auto end = content_type.find(';');
  auto type = content_type.substr(0, end);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return type;
}

}  // namespace

nlohmann::json json_object_body(const HttpRequest& request) {
  const auto type = media_type(request.content_type);
  if (!type.empty() && type != "application/json")
    throw RequestError(415, "Content-Type '" + std::string(type) + "' is not application/json");
  if (request.body.empty()) throw RequestError(400, "empty body: expected a JSON object");
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::parse_error& e) {
    throw RequestError(400, std::string("malformed JSON: ") + e.what());
  }
  if (!body.is_object()) throw RequestError(400, "the body must be a JSON object, not " + type_name(body));
  return body;
}

void check_known_fields(const nlohmann::json& object, std::initializer_list<std::string_view> known,
                        const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    bool found = false;
    for (const auto name : known) found = found || key == name;
    if (found) continue;
    std::string names;
    for (const auto name : known) names += (names.empty() ? "" : ", ") + std::string(name);
    throw RequestError(400, "unknown field '" + key + "' in the " + where + " (known: " + names + ")");
  }
}

std::optional<std::string> optional_string(const nlohmann::json& object, const std::string& field) {
  const auto it = object.find(field);
  if (it == object.end()) return std::nullopt;
  if (!it->is_string()) bad_field(field, "must be a string, not " + type_name(*it));
  return it->get<std::string>();
}

std::string required_string(const nlohmann::json& object, const std::string& field) {
  auto value = optional_string(object, field);
  if (!value) throw RequestError(400, "missing field '" + field + "'");
  return *value;
}

std::optional<std::vector<std::string>> optional_string_list(const nlohmann::json& object, const std::string& field,
                                                             std::size_t max_size) {
  const auto it = object.find(field);
  if (it == object.end()) return std::nullopt;
  if (!it->is_array()) bad_field(field, "must be an array of strings, not " + type_name(*it));
  if (it->size() > max_size)
    bad_field(field, "has " + std::to_string(it->size()) + " entries; at most " + std::to_string(max_size));
  std::vector<std::string> out;
  out.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& entry = (*it)[i];
    if (!entry.is_string())
      bad_field(field, "must hold strings only; entry " + std::to_string(i) + " is " + type_name(entry));
    out.push_back(entry.get<std::string>());
  }
  return out;
}

std::int64_t integer_in(const nlohmann::json& object, const std::string& field, std::int64_t fallback,
                        std::int64_t min, std::int64_t max) {
  const auto it = object.find(field);
  if (it == object.end()) return fallback;
  const std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!it->is_number_integer()) bad_field(field, "must be " + range + ", not " + it->dump());
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(max))
    bad_field(field, "must be " + range + ", not " + it->dump());
  const auto value = it->get<std::int64_t>();
  if (value < min || value > max) bad_field(field, "must be " + range + ", not " + std::to_string(value));
  return value;
}

bool optional_bool(const nlohmann::json& object, const std::string& field, bool fallback) {
  const auto it = object.find(field);
  if (it == object.end()) return fallback;
  if (!it->is_boolean()) bad_field(field, "must be true or false, not " + it->dump());
  return it->get<bool>();
}

}  // namespace serve
