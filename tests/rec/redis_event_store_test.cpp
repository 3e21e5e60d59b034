// RedisEventStore against a redis-server the test starts on a loopback port.

#include "aisle/rec/redis_event_store.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "aisle/core/error.hpp"
#include "support/redis_process.hpp"
#include "support/test_files.hpp"

namespace aisle::rec {
namespace {

using test_support::RedisProcess;
using test_support::TempDir;

class RedisEventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(test_support::kRedisServer)) GTEST_SKIP() << "redis-server is not installed";
    redis = std::make_unique<RedisProcess>(dir.path(), test_support::free_loopback_port());
    ASSERT_TRUE(redis->up()) << redis->process().log();
  }

  RedisAddress address() const { return parse_redis_url(redis->url()); }

  TempDir dir;
  std::unique_ptr<RedisProcess> redis;
};

TEST(RedisUrl, ParsesHostAndPortAndRefusesTheRest) {
  const auto a = parse_redis_url("redis://10.0.0.7:6380");
  EXPECT_EQ(a.host, "10.0.0.7");
  EXPECT_EQ(a.port, 6380);
  EXPECT_EQ(parse_redis_url("redis://cache/").port, 6379);
  for (const char* bad : {"http://x:1", "redis://", "redis://x:0", "redis://x:99999", "redis://x:12ab"})
    EXPECT_THROW(parse_redis_url(bad), Error) << bad;
}

TEST_F(RedisEventStoreTest, StoresReadsAndForgetsEventsLikeTheLog) {
  RedisEventStore store(address());
  EXPECT_TRUE(store.durability_warning().empty()) << store.durability_warning();
  store.append(std::vector<Event>{{"alice", "b", 11}, {"alice", "a", 10}, {"bob", "x\ty", 5}});
  store.append(std::vector<Event>{{"alice", "c", 12}});
  EXPECT_EQ(store.history("alice"), (std::vector<TimedItem>{{"a", 10}, {"b", 11}, {"c", 12}}));
  EXPECT_EQ(store.history("bob"), (std::vector<TimedItem>{{"x\ty", 5}}));
  EXPECT_TRUE(store.history("carol").empty());
  EXPECT_EQ(store.stats().users, 2);
  EXPECT_EQ(store.stats().events, 4);

  EXPECT_FALSE(store.was_forgotten("alice"));
  EXPECT_EQ(store.forget("alice"), 3);
  EXPECT_TRUE(store.history("alice").empty());
  EXPECT_TRUE(store.was_forgotten("alice"));
  EXPECT_EQ(store.stats().users, 1);
  EXPECT_EQ(store.stats().events, 1);
  store.compact();

  RedisEventStore other_replica(address());  // a second replica sees the same store
  EXPECT_TRUE(other_replica.was_forgotten("alice"));
  EXPECT_EQ(other_replica.history("bob"), store.history("bob"));
}

TEST_F(RedisEventStoreTest, ABatchWithABadEventStoresNothing) {
  RedisEventStore store(address());
  EXPECT_THROW(store.append(std::vector<Event>{{"u", "ok", 1}, {"u", "", 2}}), Error);
  EXPECT_EQ(store.stats().events, 0);
}

TEST_F(RedisEventStoreTest, ConcurrentAppendsAreAllStored) {
  RedisEventStore store(address());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 40; ++i) store.append(std::vector<Event>{{"user" + std::to_string(t), "item", i}});
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(store.stats().events, 320);
  for (int t = 0; t < 8; ++t) EXPECT_EQ(store.history("user" + std::to_string(t)).size(), 40u);
}

TEST_F(RedisEventStoreTest, WarnsWhenTheServerDoesNotSyncEachWrite) {
  TempDir lax_dir;
  RedisProcess lax(lax_dir.path(), test_support::free_loopback_port(), {"--appendfsync", "everysec"});
  ASSERT_TRUE(lax.up());
  RedisEventStore store(parse_redis_url(lax.url()));
  EXPECT_NE(store.durability_warning().find("appendfsync everysec"), std::string::npos) << store.durability_warning();
}

TEST_F(RedisEventStoreTest, AnUnreachableServerIsAnErrorNamingIt) {
  const int port = test_support::free_loopback_port();
  try {
    RedisEventStore store({.port = port});
    FAIL() << "connected to nothing";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("redis://127.0.0.1:" + std::to_string(port)), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace aisle::rec
