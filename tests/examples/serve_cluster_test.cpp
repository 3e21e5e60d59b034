// scripts/serve-cluster end to end: two aisle-serve replicas sharing a Redis
// event store behind nginx. Each shopper sticks to one replica; a rolling
// reload reaches every replica; when a replica is killed its shoppers are
// answered by the other, with their live events; --stop ends every process.

#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "serve_process_fixture.hpp"
#include "support/redis_process.hpp"

namespace aisle::test_support {
namespace {

const std::string kCluster = AISLE_SOURCE_DIR "/scripts/serve-cluster";

// A process that has exited but not been reaped (a zombie) counts as gone:
// the script's children are reparented, and not every init reaps.
bool running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

bool installed(const char* program) { return std::system((std::string("command -v ") + program + " >/dev/null 2>&1").c_str()) == 0; }

class ServeClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!installed("nginx") || !installed("redis-server")) GTEST_SKIP() << "nginx or redis-server is not installed";
    if (!std::filesystem::exists(kServe)) GTEST_SKIP() << kServe << " is not built";
  }
  void TearDown() override { cluster("--stop"); }

  // Runs scripts/serve-cluster with this test's state folder; its exit code.
  int cluster(const std::string& arguments) {
    const std::string command = "AISLE_BUILD_DIR='" AISLE_BINARY_DIR "' '" + kCluster + "' --state '" +
                                (state.path() / "cluster").string() + "' " + arguments + " >>'" +
                                (state.path() / "cluster.out").string() + "' 2>&1";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  }
  std::string output() const {
    std::ifstream in(state.path() / "cluster.out");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  std::map<std::string, pid_t> pids() const {
    std::map<std::string, pid_t> out;
    std::ifstream in(state.path() / "cluster" / "pids");
    std::string name;
    pid_t pid = 0;
    while (in >> name >> pid) out[name] = pid;
    return out;
  }

  // POST through nginx as shopper: (status, body, replica).
  std::tuple<int, nlohmann::json, std::string> as_shopper(const std::string& path, const std::string& shopper,
                                                          const nlohmann::json& body) const {
    httplib::Client c("127.0.0.1", front);
    c.set_read_timeout(10);
    const auto response = c.Post(path.c_str(), {{"X-Aisle-User", shopper}}, body.dump(), "application/json");
    if (!response) return {0, {}, ""};
    return {response->status, nlohmann::json::parse(response->body), response->get_header_value("X-Aisle-Replica")};
  }

  ServeModels models;
  TempDir state;
  int front = free_loopback_port();
};

TEST_F(ServeClusterTest, ShoppersStickToAReplicaAndMoveWithTheirEventsWhenItDies) {
  ASSERT_EQ(cluster("--model '" + models.rec.string() + "' --replicas 2 --events redis --port " + std::to_string(front)), 0)
      << output();
  std::map<std::string, std::string> replica_of;
  for (int s = 0; s < 20; ++s) {
    const auto shopper = "shopper-" + std::to_string(s);
    std::set<std::string> seen;
    for (int i = 0; i < 3; ++i) {
      const auto [status, body, replica] = as_shopper("/v1/recommend", shopper, {{"user", shopper}});
      ASSERT_EQ(status, 200) << body;
      seen.insert(replica);
    }
    EXPECT_EQ(seen.size(), 1u) << shopper << " was answered by several replicas";
    replica_of[shopper] = *seen.begin();
  }
  std::set<std::string> replicas;
  for (const auto& [shopper, replica] : replica_of) replicas.insert(replica);
  EXPECT_EQ(replicas, (std::set<std::string>{"replica-1", "replica-2"})) << "20 shoppers all on one replica";

  ASSERT_EQ(cluster("--reload '" + models.rec_other.string() + "'"), 0) << output();
  EXPECT_NE(output().find("serves " + std::filesystem::canonical(models.rec_other).string()), std::string::npos);

  const std::string shopper = "shopper-0", home = replica_of["shopper-0"];
  const auto reference = rec::Recommender::load(models.rec);
  const auto [status, posted, _] = as_shopper("/v1/events", shopper, {{"user", shopper}, {"item", reference.items().id(5)}});
  ASSERT_EQ(status, 202) << posted;
  ::kill(pids().at(home), SIGKILL);
  const auto [moved_status, moved, moved_to] = as_shopper("/v1/recommend", shopper, {{"user", shopper}});
  EXPECT_EQ(moved_status, 200) << "the request to the dead replica was not retried on the other";
  EXPECT_NE(moved_to, home);
  EXPECT_FALSE(moved.at("popularity_fallback").get<bool>()) << "the shopper's event did not follow them";

  const auto before_stop = pids();
  ASSERT_EQ(cluster("--stop"), 0) << output();
  for (const auto& [name, pid] : before_stop) {
    for (int i = 0; i < 100 && running(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(running(pid)) << name << " (pid " << pid << ") is still running";
  }
}

TEST_F(ServeClusterTest, RefusesBadArgumentsWithExitTwo) {
  EXPECT_EQ(cluster("--replicas 2"), 2);
  EXPECT_EQ(cluster("--model '" + models.rec.string() + "' --replicas zero"), 2);
  EXPECT_EQ(cluster("--model '" + models.rec.string() + "' --events memcached"), 2);
  EXPECT_EQ(cluster("--model /no/such.model"), 2);
}

}  // namespace
}  // namespace aisle::test_support
