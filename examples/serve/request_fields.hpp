#pragma once

// Reading a request's JSON body strictly: malformed JSON, a field of the
// wrong type, an unknown field or a value out of range is a RequestError
// (400) that names the field, never a guess.

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_types.hpp"

namespace serve {

// The body as a JSON object. A Content-Type other than application/json is
// 415; malformed JSON or another JSON value than an object is 400.
nlohmann::json json_object_body(const HttpRequest& request);

// Refuses (400) the first field of object not in known; where names the
// object in the message ("request", "queries[3]").
void check_known_fields(const nlohmann::json& object, std::initializer_list<std::string_view> known,
                        const std::string& where = "request");

std::optional<std::string> optional_string(const nlohmann::json& object, const std::string& field);
std::string required_string(const nlohmann::json& object, const std::string& field);
// An array of strings of at most max_size entries.
std::optional<std::vector<std::string>> optional_string_list(const nlohmann::json& object, const std::string& field,
                                                             std::size_t max_size);
std::int64_t integer_in(const nlohmann::json& object, const std::string& field, std::int64_t fallback,
                        std::int64_t min, std::int64_t max);
bool optional_bool(const nlohmann::json& object, const std::string& field, bool fallback);

}  // namespace serve
