// aisle-serve as a process on a loopback port, driven over real sockets:
// start-up, answers equal to aisle-recommend's, errors httplib answers
// itself, slow clients, reload by HTTP and SIGHUP, SIGTERM drain.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "serve_process_fixture.hpp"

namespace aisle::test_support {
namespace {

TEST_F(ServeServerTest, RecommendOverHttpEqualsTheCommandLinesJson) {
  auto server = start();
  const auto reference = rec::Recommender::load(models.rec);
  for (const auto& user : {reference.users().id(0), reference.users().id(17), std::string("nobody")}) {
    const auto cli = nlohmann::json::parse(run_and_capture("'" + kRecommend + "' recommend --model '" + models.rec.string() +
                                                           "' --user '" + user + "' --k 7 --json"));
    const auto served = post("/v1/recommend", {{"user", user}, {"k", 7}});
    EXPECT_EQ(served.at("items"), cli.at("items")) << user;
    EXPECT_EQ(served.at("popularity_fallback"), cli.at("popularity_fallback"));
  }
  const auto history = reference.items().id(3) + "," + reference.items().id(8);
  const auto cli = nlohmann::json::parse(run_and_capture("'" + kRecommend + "' recommend --model '" + models.rec.string() +
                                                         "' --history '" + history + "' --feature category:c02 --json"));
  const auto served = post("/v1/recommend", {{"history", {reference.items().id(3), reference.items().id(8)}},
                                             {"feature", "category:c02"}});
  EXPECT_EQ(served.at("items"), cli.at("items"));
}

TEST_F(ServeServerTest, EveryAnswerNamesTheReplica) {
  auto named = start({"--replica", "replica-7"});
  auto c = client();
  for (const char* path : {"/healthz", "/no-such-endpoint"}) {
    const auto response = c.Get(path);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->get_header_value("X-Aisle-Replica"), "replica-7") << path;
  }
  named.reset();
  auto unnamed = start();
  EXPECT_EQ(client().Get("/healthz")->get_header_value("X-Aisle-Replica"), "127.0.0.1:" + std::to_string(port));
}

TEST_F(ServeServerTest, HttpLevelErrorsAreJsonToo) {
  auto server = start({"--max-body", "1000"});
  auto c = client();
  const auto too_big = c.Post("/v1/recommend", std::string(5000, ' '), "application/json");
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413);
  EXPECT_TRUE(contains(too_big->body, "--max-body")) << too_big->body;
  const auto missing = client().Get("/v1/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(nlohmann::json::parse(missing->body).contains("error"));
  const auto wrong = client().Delete("/v1/recommend");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->get_header_value("Allow"), "POST");
  post("/v1/recommend", {{"user", "u"}, {"k", 5000}}, 400);
  EXPECT_EQ(status_of(client().Get("/healthz")), 200);
}

// A client that sends half a request and stalls is cut off after
// --read-timeout, and the server keeps answering others meanwhile.
TEST_F(ServeServerTest, ASlowClientIsCutOffWithoutHoldingUpOthers) {
  auto server = start({"--read-timeout", "1"});
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(sock, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const std::string partial = "POST /v1/recommend HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"user\"";
  ASSERT_EQ(::send(sock, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  EXPECT_EQ(status_of(client().Get("/healthz")), 200);
  timeval wait{10, 0};
  ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  const auto start_time = std::chrono::steady_clock::now();
  char buffer[512];
  const auto got = ::recv(sock, buffer, sizeof buffer, 0);
  const auto waited = std::chrono::steady_clock::now() - start_time;
  ::close(sock);
  EXPECT_LT(waited, std::chrono::seconds(8)) << "the server held the stalled connection";
  EXPECT_GE(got, 0) << "the server neither answered nor closed the connection";
}

TEST_F(ServeServerTest, ReloadByHttpAndBySighupChangesTheVersion) {
  auto server = start();
  const auto first = serve::file_version(models.rec), second = serve::file_version(models.rec_other);
  EXPECT_EQ(models_version(), first);
  post("/admin/reload", {{"model", "rec"}, {"path", models.rec_other.string()}});
  EXPECT_EQ(models_version(), second);
  post("/admin/reload", {{"model", "rec"}, {"path", (models.dir / "missing.model").string()}}, 422);
  EXPECT_EQ(models_version(), second);
  // SIGHUP reloads from the file the slot was loaded from: replace its bytes.
  std::filesystem::copy_file(models.rec, models.rec_other, std::filesystem::copy_options::overwrite_existing);
  server->signal(SIGHUP);
  for (int i = 0; i < 500 && models_version() != first; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(models_version(), first) << server->log();
}

TEST_F(ServeServerTest, AdminTokenIsRequiredOverTheSocketWhenSet) {
  auto server = start({"--admin-token", "t0ken"});
  auto c = client();
  EXPECT_EQ(status_of(c.Post("/admin/reload", "", "application/json")), 401) << server->log();
  httplib::Headers headers{{"Authorization", "Bearer t0ken"}};
  EXPECT_EQ(status_of(c.Post("/admin/reload", headers, "", "application/json")), 200) << server->log();
}

// A second server on a port already taken fails with one line instead of
// sharing the port and half its connections.
TEST_F(ServeServerTest, ASecondServerOnATakenPortExitsWithTwo) {
  auto first = start();
  ServerProcess second(kServe, {"--model", models.rec.string(), "--port", std::to_string(port)}, models.dir / "second.log");
  EXPECT_EQ(second.wait_for_exit(std::chrono::seconds(20)), 2) << second.log();
  EXPECT_TRUE(contains(second.log(), "cannot listen on 127.0.0.1:" + std::to_string(port))) << second.log();
  EXPECT_EQ(status_of(client().Get("/readyz")), 200);
}

TEST_F(ServeServerTest, SigtermDrainsRequestsInFlightAndExitsZero) {
  auto server = start();
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      auto c = client();
      const std::string body = nlohmann::json{{"user", "nobody"}, {"k", 10}}.dump();
      while (!stop) {
        const auto response = c.Post("/v1/recommend", body, "application/json");
        if (!response) break;  // the server closed: draining is over
        (response->status == 200 ? ok : bad)++;
      }
    });
  }
  while (ok < 50) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server->signal(SIGTERM);
  const auto code = server->wait_for_exit(std::chrono::seconds(20));
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(code, 0) << server->log();
  EXPECT_EQ(bad, 0) << "a request answered with an error during the drain";
  EXPECT_TRUE(contains(server->log(), "draining")) << server->log();
}

TEST_F(ServeServerTest, BadArgumentsAndModelsExitWithTwoAndOneLine) {
  const std::vector<std::vector<std::string>> cases = {
      {"--model", (models.dir / "missing.model").string(), "--port", "0"},
      {"--port", "0"},
      {"--model", models.rec.string(), "--port", "70000"},
      {"--model", models.rec.string(), "--workers", "zero"},
      {"--model", models.rec.string(), "--bogus", "1"},
  };
  int n = 0;
  for (const auto& args : cases) {
    ServerProcess process(kServe, args, models.dir / ("bad-" + std::to_string(n++) + ".log"));
    EXPECT_EQ(process.wait_for_exit(std::chrono::seconds(20)), 2) << process.log();
    const auto log = process.log();
    EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
    EXPECT_TRUE(log.starts_with("aisle-serve: ")) << log;
  }
  // A file that is not a recommender: the load fails after start-up, still exit 2.
  ServerProcess wrong_kind(kServe, {"--model", models.classifier.string(), "--port", "0"}, models.dir / "wrong.log");
  EXPECT_EQ(wrong_kind.wait_for_exit(std::chrono::seconds(20)), 2) << wrong_kind.log();
  EXPECT_TRUE(contains(wrong_kind.log(), "not a recommender")) << wrong_kind.log();
}

}  // namespace
}  // namespace aisle::test_support
