// aisle-serve's event store over real sockets: every event acknowledged
// with a 202 survives a SIGKILL mid-stream, and a shopper's deletion leaves
// no byte of their id in the event log or in a --no-user-data model file.

#include <signal.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include "serve_process_fixture.hpp"

namespace aisle::test_support {
namespace {

std::string bytes_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every byte of the regular files under folder.
std::string bytes_under(const std::filesystem::path& folder) {
  std::string all;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder))
    if (entry.is_regular_file()) all += bytes_of(entry.path());
  return all;
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

  TempDir events;
};

TEST_F(ServeEventsServerTest, EveryAcknowledgedEventSurvivesASigkillMidStream) {
  auto server = start({"--events", events.path().string()});
  constexpr int kClients = 4, kKillAfter = 300;
  std::atomic<int> acknowledged{0};
  std::mutex mutex;
  std::vector<std::pair<std::string, std::int64_t>> acked;  // (user, timestamp); each client its own users
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto http = client();
      for (std::int64_t t = 0;; ++t) {
        const std::string user = "stream-" + std::to_string(c) + "-" + std::to_string(t % 5);
        const nlohmann::json event{{"user", user}, {"item", "item-" + std::to_string(t % 50)}, {"timestamp", t}};
        const auto response = http.Post("/v1/events", event.dump(), "application/json");
        if (status_of(response) != 202) return;  // the server is gone
        std::lock_guard lock(mutex);
        acked.emplace_back(user, t);
        ++acknowledged;
      }
    });
  }
  while (acknowledged < kKillAfter) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server->signal(SIGKILL);
  for (auto& thread : clients) thread.join();
  server->wait_for_exit(std::chrono::seconds(10));

  auto restarted = start({"--events", events.path().string()});
  std::map<std::string, std::vector<std::int64_t>> stored;
  for (int c = 0; c < kClients; ++c)
    for (int u = 0; u < 5; ++u) {
      const auto user = "stream-" + std::to_string(c) + "-" + std::to_string(u);
      for (const auto& [item, t] : stored_history(user)) {
        EXPECT_EQ(item, "item-" + std::to_string(t % 50));
        stored[user].push_back(t);
      }
    }
  ASSERT_GE(acked.size(), static_cast<std::size_t>(kKillAfter));
  for (const auto& [user, t] : acked) {
    const auto& times = stored[user];
    EXPECT_NE(std::find(times.begin(), times.end(), t), times.end()) << user << " lost the acknowledged event at " << t;
  }
  EXPECT_NE(restarted->log().find("events: log:"), std::string::npos) << restarted->log();
}

TEST_F(ServeEventsServerTest, ADeletedShopperLeavesNoByteInTheLogNorInANoUserDataModel) {
  const auto model = models.dir / "no-users.model";
  const auto fitted = run_and_capture("'" + kRecommend + "' fit --data '" + models.data.string() +
                                      "' --model ease --no-user-data --out '" + model.string() + "' 2>&1");
  ASSERT_TRUE(std::filesystem::exists(model)) << fitted;
  const auto model_bytes = bytes_of(model);
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
