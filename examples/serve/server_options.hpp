#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "service.hpp"

namespace serve {

// aisle-serve's command line.
struct ServerOptions {
  std::string model_path;                       // --model: the recommender
  std::optional<std::string> classifier_path;   // --classifier
  std::optional<std::string> events;
  // --replica: sent as X-Aisle-Replica on every response, so that a client
  // behind a load balancer sees which replica answered; default HOST:PORT.
  std::string replica;            // --events: a folder for the event log, or redis://HOST:PORT
  std::string host = "127.0.0.1";
  int port = 8080;                              // 0: any free port (the line on stderr says which)
  // A keep-alive connection holds a worker while it is open, so the pool
  // must cover the connections a load balancer keeps (nginx, wrk: 64).
  int workers = 128;
  int model_threads = 1;                        // per request: concurrent requests use the cores
  std::size_t max_body = std::size_t{1} << 20;  // bytes; larger bodies get 413
  int read_timeout_s = 5;                       // a client that stalls mid-request is cut off
  int write_timeout_s = 5;
  int keep_alive_timeout_s = 5;
  ServiceOptions service;
};

// Throws aisle_cli::UsageError for a bad command line.
ServerOptions parse_server_options(int argc, char** argv);

extern const char* const kServerUsage;

}  // namespace serve
