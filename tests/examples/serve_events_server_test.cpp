// aisle-serve's event store over real sockets: every event acknowledged
// with a 202 survives a SIGKILL mid-stream (of aisle-serve, and with the
// Redis store of Redis too), and a shopper's deletion leaves
// no byte of their id in the event log or in a --no-user-data model file.

#include <signal.h>

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <mutex>
#include <thread>

#include "serve_process_fixture.hpp"
#include "support/redis_process.hpp"

namespace aisle::test_support {
namespace {

// Every byte of the regular files under folder.
std::string bytes_under(const std::filesystem::path& folder) {
  std::string all;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder))
    if (entry.is_regular_file()) all += read_text(entry.path());
  return all;
}

constexpr int kStreamClients = 4, kUsersPerClient = 5, kKillAfter = 300;

std::string stream_user(int client, std::int64_t t) {
  return "stream-" + std::to_string(client) + "-" + std::to_string(t % kUsersPerClient);
}

// Streams events from kStreamClients connections until the server stops
// answering, recording every (user, timestamp) acknowledged with a 202.
// kill runs once kKillAfter events are acknowledged.
std::vector<std::pair<std::string, std::int64_t>> stream_until_killed(int port, const std::function<void()>& kill) {
  std::atomic<int> acknowledged{0};
  std::mutex mutex;
  std::vector<std::pair<std::string, std::int64_t>> acked;
  std::vector<std::thread> clients;
  for (int c = 0; c < kStreamClients; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client http("127.0.0.1", port);
      http.set_read_timeout(10);
      for (std::int64_t t = 0;; ++t) {
        const nlohmann::json event{{"user", stream_user(c, t)}, {"item", "item-" + std::to_string(t % 50)}, {"timestamp", t}};
        if (status_of(http.Post("/v1/events", event.dump(), "application/json")) != 202) return;  // the server is gone
        std::lock_guard lock(mutex);
        acked.emplace_back(stream_user(c, t), t);
        ++acknowledged;
      }
    });
  }
  while (acknowledged < kKillAfter) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  kill();
  for (auto& thread : clients) thread.join();
  return acked;
}

class ServeEventsServerTest : public ServeServerTest {
 protected:
  // The stored history of user, as the admin endpoint gives it.
  std::vector<std::pair<std::string, std::int64_t>> stored_history(const std::string& user) const {
    auto c = client();
    const auto response = c.Get(("/v1/users/" + user + "/history").c_str());
    EXPECT_EQ(status_of(response), 200) << (response ? response->body : "no answer");
    std::vector<std::pair<std::string, std::int64_t>> out;
    if (!response) return out;
    const auto body = nlohmann::json::parse(response->body);
    for (const auto& e : body.at("history"))
      if (!e.at("timestamp").is_null()) out.emplace_back(e.at("item").get<std::string>(), e.at("timestamp").get<std::int64_t>());
    return out;
  }

  // Every acknowledged event is in the (restarted) server's histories.
  void expect_stored(const std::vector<std::pair<std::string, std::int64_t>>& acked) const {
    ASSERT_GE(acked.size(), static_cast<std::size_t>(kKillAfter));
    std::map<std::string, std::set<std::int64_t>> stored;
    for (int c = 0; c < kStreamClients; ++c)
      for (int u = 0; u < kUsersPerClient; ++u) {
        const auto user = stream_user(c, u);
        for (const auto& [item, t] : stored_history(user)) {
          EXPECT_EQ(item, "item-" + std::to_string(t % 50));
          stored[user].insert(t);
        }
      }
    for (const auto& [user, t] : acked) EXPECT_EQ(stored[user].count(t), 1u) << user << " lost the acknowledged event at " << t;
  }

  TempDir events;
};

TEST_F(ServeEventsServerTest, EveryAcknowledgedEventSurvivesASigkillMidStream) {
  auto server = start({"--events", events.path().string()});
  const auto acked = stream_until_killed(port, [&] { server->signal(SIGKILL); });
  server->wait_for_exit(std::chrono::seconds(10));
  auto restarted = start({"--events", events.path().string()});
  expect_stored(acked);
  EXPECT_NE(restarted->log().find("events: log:"), std::string::npos) << restarted->log();
}

TEST_F(ServeEventsServerTest, WithRedisAcknowledgedEventsSurviveKillingTheServerAndRedis) {
  if (!std::filesystem::exists(kRedisServer)) GTEST_SKIP() << "redis-server is not installed";
  const int redis_port = free_loopback_port();
  auto redis = std::make_unique<RedisProcess>(events.path(), redis_port);
  ASSERT_TRUE(redis->up()) << redis->process().log();
  auto server = start({"--events", redis->url()});
  EXPECT_EQ(server->log().find("warning"), std::string::npos) << server->log();
  const auto acked = stream_until_killed(port, [&] {
    redis->process().signal(SIGKILL);
    server->signal(SIGKILL);
  });
  server->wait_for_exit(std::chrono::seconds(10));
  redis->process().wait_for_exit(std::chrono::seconds(10));
  redis = std::make_unique<RedisProcess>(events.path(), redis_port);  // replays its append-only file
  ASSERT_TRUE(redis->up()) << redis->process().log();
  auto restarted = start({"--events", redis->url()});
  expect_stored(acked);
}

TEST_F(ServeEventsServerTest, ADeletedShopperLeavesNoByteInTheLogNorInANoUserDataModel) {
  const auto model = models.dir / "no-users.model";
  const auto fitted = run_and_capture("'" + kRecommend + "' fit --data '" + models.data.string() +
                                      "' --model ease --no-user-data --out '" + model.string() + "' 2>&1");
  ASSERT_TRUE(std::filesystem::exists(model)) << fitted;
  const auto model_bytes = read_text(model);
  const auto data = rec::read_dataset(models.data);
  for (Index u = 0; u < data.user_count(); ++u)
    ASSERT_EQ(model_bytes.find(data.users().id(u)), std::string::npos) << data.users().id(u) << " is in the model file";

  served_model = model;
  auto server = start({"--events", events.path().string()});
  const std::string shopper = data.users().id(4);
  const auto first = post("/v1/recommend", {{"user", shopper}});
  EXPECT_TRUE(first.at("popularity_fallback").get<bool>()) << "the model file knows no user";
  post("/v1/events", {{"events", {{{"user", shopper}, {"item", data.items().id(1)}, {"timestamp", 1}},
                                  {{"user", shopper}, {"item", data.items().id(2)}, {"timestamp", 2}}}}},
       202);
  post("/v1/events", {{"user", "another-shopper"}, {"item", data.items().id(3)}}, 202);
  EXPECT_FALSE(post("/v1/recommend", {{"user", shopper}}).at("popularity_fallback").get<bool>());
  EXPECT_NE(bytes_under(events.path()).find(shopper), std::string::npos);

  auto c = client();
  const auto deleted = c.Delete(("/v1/users/" + shopper + "?compact=true").c_str());
  ASSERT_EQ(status_of(deleted), 200) << (deleted ? deleted->body : "no answer");
  EXPECT_EQ(nlohmann::json::parse(deleted->body).at("events_removed"), 2);
  EXPECT_EQ(bytes_under(events.path()).find(shopper), std::string::npos) << "the id is still in the event folder";
  EXPECT_TRUE(post("/v1/recommend", {{"user", shopper}}).at("popularity_fallback").get<bool>());
  EXPECT_EQ(stored_history("another-shopper").size(), 1u);
}

}  // namespace
}  // namespace aisle::test_support
