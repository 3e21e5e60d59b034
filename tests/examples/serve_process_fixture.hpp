#pragma once

// aisle-serve started as a process on a free loopback port for a test,
// with an HTTP client on it; stopped by its pid when the test ends.

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "model_slots.hpp"
#include "serve_fixture.hpp"
#include "support/server_process.hpp"

// Last: it brings <resolv.h>, whose _res macro breaks Eigen's headers included after it.
#include <httplib.h>

namespace aisle::test_support {

inline const std::string kServe = AISLE_BINARY_DIR "/bin/aisle-serve";
inline const std::string kRecommend = AISLE_BINARY_DIR "/bin/aisle-recommend";

// The status of a response, 0 when none came (a refused or reset connection).
inline int status_of(const httplib::Result& response) { return response ? response->status : 0; }

class ServeServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kServe)) GTEST_SKIP() << kServe << " is not built";
  }

  // Starts aisle-serve on a free port and waits until it is ready.
  std::unique_ptr<ServerProcess> start(std::vector<std::string> extra = {}) {
    const auto model = served_model.empty() ? models.rec : served_model;
    std::vector<std::string> args{"--model", model.string(), "--port", "0", "--workers", "8"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto server = std::make_unique<ServerProcess>(kServe, args, models.dir / ("serve-" + std::to_string(++started) + ".log"));
    const auto found = server->wait_for_port();
    EXPECT_TRUE(found) << server->log();
    port = found.value_or(0);
    int ready = 0;
    for (int i = 0; i < 500 && (ready = status_of(client().Get("/readyz"))) != 200; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(ready, 200) << "aisle-serve did not become ready; its log:\n" << server->log();
    return server;
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(5);
    c.set_read_timeout(10);
    return c;
  }

  nlohmann::json post(const std::string& path, const nlohmann::json& body, int expected_status = 200) const {
    auto c = client();
    const auto response = c.Post(path.c_str(), body.dump(), "application/json");
    EXPECT_TRUE(response) << "no response from " << path;
    if (!response) return {};
    EXPECT_EQ(response->status, expected_status) << response->body;
    EXPECT_EQ(response->get_header_value("Content-Type"), "application/json");
    return nlohmann::json::parse(response->body);
  }

  std::string models_version() const {
    auto c = client();
    const auto response = c.Get("/v1/models");
    EXPECT_TRUE(response) << "no response from /v1/models";
    if (!response) return {};
    return nlohmann::json::parse(response->body).at("models")[0].at("version").get<std::string>();
  }

  ServeModels models;
  std::filesystem::path served_model;  // empty: models.rec
  int port = 0;
  int started = 0;
};

inline std::string run_and_capture(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  while (const auto n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

}  // namespace aisle::test_support
