#include "server_options.hpp"

#include <limits>

#include "cli_arguments.hpp"

namespace serve {

const char* const kServerUsage =
    "usage: aisle-serve --model REC.model [--classifier CLS.model] [--host 127.0.0.1] [--port 8080]\n"
    "                   [--workers 128] [--model-threads 1] [--admin-token TOKEN] [--max-body 1048576]\n"
    "                   [--read-timeout 5] [--write-timeout 5] [--keep-alive-timeout 5]\n"
    "                   [--max-history 10000] [--max-batch 1000] [--compute-threads 0]\n"
    "                   [--events DIR|redis://HOST:PORT] [--max-events 10000] [--replica NAME]\n"
    "  An HTTP JSON service: POST /v1/recommend, /v1/recommend_batch, /v1/similar, /v1/explain,\n"
    "  /v1/classify, /v1/events; GET /v1/models, /healthz, /readyz, /metrics; POST /admin/reload;\n"
    "  admin: GET /v1/users/{id}/history, DELETE /v1/users/{id}[?compact=true].\n"
    "  Every response carries X-Aisle-Replica: --replica, or HOST:PORT.\n"
    "  --events DIR | redis://HOST:PORT: live shopper events, in DIR/events.log or in a Redis\n"
    "  server shared by every replica; used by every query by user.\n"
    "  SIGHUP reloads the models from disk; SIGTERM and SIGINT drain requests in flight and exit 0.\n";

ServerOptions parse_server_options(int argc, char** argv) {
  const aisle_cli::Arguments args(argc, argv, 1,
                                  {"model", "classifier", "host", "port", "workers", "model-threads", "admin-token",
                                   "max-body", "read-timeout", "write-timeout", "keep-alive-timeout", "max-history",
                                   "max-batch", "compute-threads", "events", "max-events", "replica"},
                                  {});
  ServerOptions o;
  o.model_path = args.required("model");
  o.classifier_path = args.get("classifier");
  o.host = args.value_or("host", o.host);
  o.port = static_cast<int>(args.integer("port", o.port, 0, 65535));
  const auto small = [&](const char* name, long long fallback, long long min, long long max) {
    return args.integer(name, fallback, min, max);
  };
  o.workers = static_cast<int>(small("workers", o.workers, 1, 4096));
  o.model_threads = static_cast<int>(small("model-threads", o.model_threads, 1, 1024));
  o.max_body = static_cast<std::size_t>(small("max-body", static_cast<long long>(o.max_body), 1, 1LL << 32));
  o.read_timeout_s = static_cast<int>(small("read-timeout", o.read_timeout_s, 1, 3600));
  o.write_timeout_s = static_cast<int>(small("write-timeout", o.write_timeout_s, 1, 3600));
  o.keep_alive_timeout_s = static_cast<int>(small("keep-alive-timeout", o.keep_alive_timeout_s, 1, 3600));
  o.service.limits.max_history = static_cast<std::size_t>(small("max-history", 10000, 1, 10000000));
  o.service.limits.max_batch = static_cast<std::size_t>(small("max-batch", 1000, 1, 1000000));
  o.service.compute_threads = static_cast<int>(small("compute-threads", o.service.compute_threads, 0, 4096));
  o.service.limits.max_events = static_cast<std::size_t>(small("max-events", 10000, 1, 1000000));
  o.events = args.get("events");
  if (o.events && o.events->empty()) throw aisle_cli::UsageError{"--events is empty"};
  o.replica = args.value_or("replica", "");
  if (args.has("replica") && o.replica.empty()) throw aisle_cli::UsageError{"--replica is empty"};
  o.service.admin_token = args.value_or("admin-token", "");
  if (args.has("admin-token") && o.service.admin_token.empty())
    throw aisle_cli::UsageError{"--admin-token is empty"};
  return o;
}

}  // namespace serve
