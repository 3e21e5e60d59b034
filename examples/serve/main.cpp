// aisle-serve: recommendations and product-image classification over HTTP
// JSON, on cpp-httplib. This file is the wiring only: sockets, signals and
// start-up; the endpoints are in service.cpp and the handlers.

#include <pthread.h>
#include <sys/socket.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <iostream>
#include <thread>

#include "aisle/core/error.hpp"
#include "aisle/core/threads.hpp"
#include "aisle/rec/event_log.hpp"
#include "aisle/rec/redis_event_store.hpp"
#include "cli_arguments.hpp"
#include "server_options.hpp"
#include "service.hpp"

// Last: it brings <resolv.h>, whose _res macro breaks Eigen's headers included after it.
#include <httplib.h>

namespace {

constexpr int kListenBacklog = 1024;  // the kernel caps it at net.core.somaxconn

using serve::HttpRequest;
using serve::HttpResponse;

// Debian's cpp-httplib 0.11 listens with a backlog of 5 (a build-time
// constant): a load balancer or client opening tens of connections at once
// overflows it, and each dropped SYN costs the client a 1 s retransmit.
// Listening again on the bound socket widens the queue (Linux keeps the
// socket and takes the new backlog).
class Server : public httplib::Server {
 public:
  bool widen_backlog(int backlog) { return ::listen(svr_sock_, backlog) == 0; }
};

bool is_loopback(const std::string& address) {
  return address.starts_with("127.") || address == "::1" || address.starts_with("::ffff:127.");
}

// X-Aisle-Replica's value, set once before the server starts.
std::string replica_name;

HttpRequest to_request(const httplib::Request& req) {
  HttpRequest out;
  out.method = req.method;
  out.path = req.path;
  out.content_type = req.get_header_value("Content-Type");
  out.authorization = req.get_header_value("Authorization");
  out.body = req.body;
  for (const auto& [name, value] : req.params) out.query.emplace(name, value);
  out.from_loopback = is_loopback(req.remote_addr);
  return out;
}

void send(const HttpResponse& response, httplib::Response& res) {
  res.status = response.status;
  res.set_header("X-Aisle-Replica", replica_name);
  for (const auto& [name, value] : response.headers) res.set_header(name, value);
  res.set_content(response.body, response.content_type);
}

// Errors httplib answers before a handler runs (a body over --max-body, a
// request line it cannot parse) get the same JSON error as the service's.
std::string httplib_error_text(int status, std::size_t max_body) {
  if (status == 413) return "the request body is over --max-body (" + std::to_string(max_body) + " bytes)";
  if (status == 400) return "malformed HTTP request";
  if (status == 414) return "the request line is too long";
  if (status == 404) return "not found";
  return std::string("HTTP ") + std::to_string(status);
}

// httplib's default sets SO_REUSEPORT, with which a second server bound to
// the same port succeeds and silently takes half the connections (and the
// kernel may even hand one port 0 twice). SO_REUSEADDR alone still allows a
// restart over connections in TIME_WAIT, and makes a taken port an error.
void listen_exclusively(socket_t sock) {
  int yes = 1;
  ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

void configure(Server& server, serve::Service& service, const serve::ServerOptions& options) {
  const int workers = options.workers;
  server.set_socket_options(listen_exclusively);
  server.new_task_queue = [workers] { return new httplib::ThreadPool(static_cast<std::size_t>(workers)); };
  server.set_payload_max_length(options.max_body);
  server.set_read_timeout(options.read_timeout_s, 0);
  server.set_write_timeout(options.write_timeout_s, 0);
  server.set_keep_alive_timeout(options.keep_alive_timeout_s);
  server.set_keep_alive_max_count(1u << 30);  // a load balancer's connection serves for as long as it likes
  server.set_tcp_nodelay(true);
  const auto handler = [&service](const httplib::Request& req, httplib::Response& res) {
    send(service.handle(to_request(req)), res);
  };
  server.Get(".*", handler);
  server.Post(".*", handler);
  server.Put(".*", handler);
  server.Patch(".*", handler);
  server.Delete(".*", handler);
  server.Options(".*", handler);
  const std::size_t max_body = options.max_body;
  server.set_error_handler([&service, max_body](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;  // the service's own error, already JSON
    send(serve::error_response(res.status, httplib_error_text(res.status, max_body)), res);
    service.metrics().observe("other", res.status, 0.0);
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    send(serve::error_response(500, "internal error"), res);
  });
}

// stop() before listen has started would be lost: wait for the server to run.
void stop_when_running(Server& server) {
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server.stop();
}

void expect_readable(const std::string& path, const char* option) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw aisle::Error("--" + std::string(option) + " " + path + ": no such model file");
}

// Loads the models in the background, so that /healthz answers during a long
// load and /readyz says when it is done. A failure ends the server (exit 2).
void load_models(serve::Service& service, const serve::ServerOptions& options, Server& server,
                 std::atomic<int>& exit_code) {
  try {
    const auto rec = service.slots().reload(serve::Slot::recommender, options.model_path);
    std::cerr << "loaded rec model " << rec.path.string() << " (" << rec.kind << ", " << rec.size
              << " items, version " << rec.version << ", " << rec.load_seconds << " s)" << std::endl;
    if (options.classifier_path) {
      const auto cls = service.slots().reload(serve::Slot::classifier, *options.classifier_path);
      std::cerr << "loaded classifier " << cls.path.string() << " (version " << cls.version << ")" << std::endl;
    }
    service.set_loaded(true);
    std::cerr << "ready" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "aisle-serve: " << e.what() << std::endl;
    exit_code = 2;
    stop_when_running(server);
  }
}

// A signal that reached a thread which does not block it: threads that
// libraries start before main (OpenBLAS, which faiss links, starts its pool
// when it is loaded) never got aisle-serve's mask, and the kernel may hand
// them SIGTERM or SIGHUP. Without a handler that would kill the process.
std::atomic<int> signal_caught_elsewhere{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void remember_signal(int signal) { signal_caught_elsewhere.store(signal); }

void catch_signals_in_foreign_threads() {
  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  for (const int s : {SIGTERM, SIGINT, SIGHUP}) sigaction(s, &action, nullptr);
}

// SIGHUP reloads; SIGTERM and SIGINT drain: /readyz turns 503, the listening
// socket closes, requests in flight finish, then listen returns.
void handle_signals(serve::Service& service, Server& server, const std::atomic<bool>& stopping) {
  sigset_t set;
  sigemptyset(&set);
  for (const int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  const timespec tick{0, 200'000'000};
  while (!stopping) {
    int signal = sigtimedwait(&set, nullptr, &tick);
    if (signal <= 0) signal = signal_caught_elsewhere.exchange(0);
    if (signal == SIGHUP) {
      std::cerr << service.reload_all() << std::flush;
    } else if (signal == SIGTERM || signal == SIGINT) {
      std::cerr << "draining: finishing the requests in flight" << std::endl;
      service.start_draining();
      stop_when_running(server);
      return;
    }
  }
}

// Opens --events before the port opens: a Redis server (redis://HOST:PORT)
// or the log in a folder. What could lose events (a torn record cut off, a
// Redis that does not fsync) is a warning in the log; a damaged log or an
// unreachable Redis stops the start (exit 2).
std::shared_ptr<aisle::rec::EventStore> open_events(const std::string& where) {
  std::shared_ptr<aisle::rec::EventStore> store;
  std::string warning;
  if (where.starts_with("redis://")) {
    auto redis = std::make_shared<aisle::rec::RedisEventStore>(aisle::rec::parse_redis_url(where));
    warning = redis->durability_warning();
    store = std::move(redis);
  } else {
    auto log = std::make_shared<aisle::rec::EventLog>(where);
    warning = log->opening_warning();
    store = std::move(log);
  }
  if (!warning.empty()) std::cerr << "aisle-serve: warning: " << warning << std::endl;
  const auto stats = store->stats();
  std::cerr << "events: " << store->describe() << " (" << stats.events << " events of " << stats.users << " shoppers)"
            << std::endl;
  return store;
}

int serve_until_stopped(serve::ServerOptions options) {
  expect_readable(options.model_path, "model");
  if (options.classifier_path) expect_readable(*options.classifier_path, "classifier");
  if (options.events) options.service.events = open_events(*options.events);
  aisle::set_num_threads(options.model_threads);

  sigset_t set;
  sigemptyset(&set);
  for (const int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // every thread started from here on inherits the mask
  catch_signals_in_foreign_threads();
  signal(SIGPIPE, SIG_IGN);                   // a client that hangs up is a failed write, not the end

  serve::ModelSlots slots;
  serve::Metrics metrics;
  serve::Service service(slots, metrics, options.service);
  Server server;
  configure(server, service, options);
  const int port = options.port == 0 ? server.bind_to_any_port(options.host) : options.port;
  if (port < 0 || (options.port != 0 && !server.bind_to_port(options.host, options.port)))
    throw aisle::Error("cannot listen on " + options.host + ":" + std::to_string(options.port));
  replica_name = options.replica.empty() ? options.host + ":" + std::to_string(port) : options.replica;
  if (!server.widen_backlog(kListenBacklog)) std::cerr << "aisle-serve: note: cannot widen the listen backlog" << std::endl;

  std::atomic<int> exit_code{0};
  std::atomic<bool> stopping{false};
  std::thread signals([&] { handle_signals(service, server, stopping); });
  std::thread loader([&] { load_models(service, options, server, exit_code); });
  std::cerr << "listening on http://" << options.host << ":" << port << std::endl;
  server.listen_after_bind();
  stopping = true;
  loader.join();
  signals.join();
  if (exit_code == 0) std::cerr << "stopped" << std::endl;
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::cout << serve::kServerUsage;
    return 0;
  }
  try {
    return serve_until_stopped(serve::parse_server_options(argc, argv));
  } catch (const aisle_cli::UsageError& e) {
    std::cerr << "aisle-serve: " << e.message << " (see aisle-serve --help)\n";
  } catch (const aisle::Error& e) {
    std::cerr << "aisle-serve: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "aisle-serve: unexpected failure: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
