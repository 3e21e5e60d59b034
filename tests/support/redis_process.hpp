#pragma once

// A redis-server (Debian's) started by a test on a free loopback port, with
// its data in a folder of the test's, durable as aisle's scripts run it
// (appendonly yes, appendfsync always), and stopped by its pid.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/server_process.hpp"

namespace aisle::test_support {

inline const std::string kRedisServer = "/usr/bin/redis-server";

// A port the kernel had free a moment ago.
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

inline bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

class RedisProcess {
 public:
  // Starts redis-server with its files in folder (a restart on the same
  // folder and port replays its append-only file); extra: more options.
  RedisProcess(const std::filesystem::path& folder, int port, std::vector<std::string> extra = {}) : port_(port) {
    std::vector<std::string> args{"--port", std::to_string(port), "--bind", "127.0.0.1", "--dir", folder.string(),
                                  "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"};
    args.insert(args.end(), extra.begin(), extra.end());
    process_ = std::make_unique<ServerProcess>(kRedisServer, args, folder / ("redis-" + std::to_string(port) + ".log"));
    for (int i = 0; i < 500 && process_->running() && !accepts_connections(port); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  bool up() const { return accepts_connections(port_); }
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  ServerProcess& process() { return *process_; }

 private:
  int port_;
  std::unique_ptr<ServerProcess> process_;
};

}  // namespace aisle::test_support
