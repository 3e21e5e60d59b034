#pragma once

// The service's view of an HTTP exchange, apart from any socket library: the
// handlers take an HttpRequest and return an HttpResponse, so that tests and
// the fuzz target drive them without a server.

#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace serve {

struct HttpRequest {
  std::string method;        // "GET", "POST", ...
  std::string path;          // without the query string, percent-decoded
  std::map<std::string, std::string> query;  // the query string's arguments, decoded
  std::string content_type;  // the Content-Type header, as sent
  std::string authorization; // the Authorization header, as sent
  std::string body;
  bool from_loopback = false;  // the peer's address is 127.0.0.0/8 or ::1
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones (Allow, WWW-Authenticate)
};

HttpResponse json_response(int status, const nlohmann::json& body);
// {"error": message} with the given 4xx or 5xx status.
HttpResponse error_response(int status, const std::string& message);

// A request the service refuses: the handler's way of answering status with
// {"error": message}.
class RequestError : public std::runtime_error {
 public:
  RequestError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

}  // namespace serve
