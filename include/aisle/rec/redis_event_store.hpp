#pragma once

// The shared event store: a Redis server (Debian's redis-server) that every
// aisle-serve replica reads and writes, so that a shopper's events are used
// whichever replica answers them, and survive any replica.
//
// Layout, under a key prefix ("aisle:" by default):
//   PREFIX events:USER   a list, one entry per event: 8 bytes of timestamp
//                        (little-endian) then the item id
//   PREFIX users         the set of users with events
//   PREFIX event-count   the number of stored events
//   PREFIX forgotten     the set of forgotten_user_hash values, in decimal
// A batch is one MULTI/EXEC transaction: all of it or none. An append is as
// durable as the server is configured: with "appendonly yes" and
// "appendfsync always" (what scripts/serve-cluster starts) Redis answers only
// once the batch is on its disk. The constructor warns
// (RedisEventStore::durability_warning) when the server says otherwise.
// compact() asks the server to rewrite its append-only file (BGREWRITEAOF),
// which drops the bytes of deleted keys.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aisle/rec/event_store.hpp"

struct redisContext;

namespace aisle::rec {

struct RedisAddress {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string key_prefix = "aisle:";
};

// "redis://HOST:PORT" (or "redis://HOST", port 6379); throws aisle::Error
// naming the text otherwise.
RedisAddress parse_redis_url(const std::string& url);

class RedisEventStore final : public EventStore {
 public:
  // Connects once to check the server (throws aisle::Error naming the
  // address when it cannot).
  explicit RedisEventStore(RedisAddress address, double timeout_s = 2.0);
  ~RedisEventStore() override;
  RedisEventStore(const RedisEventStore&) = delete;
  RedisEventStore& operator=(const RedisEventStore&) = delete;

  void append(std::span<const Event> events) override;
  std::vector<TimedItem> history(std::string_view user) const override;
  std::int64_t forget(std::string_view user) override;
  bool was_forgotten(std::string_view user) const override;
  void compact() override;
  EventStoreStats stats() const override;
  std::string describe() const override;

  // Empty, or why acknowledged events could be lost if the Redis server
  // crashes ("appendfsync is everysec, not always").
  const std::string& durability_warning() const { return durability_warning_; }

 private:
  class Connection;
  // A connection from the pool (a new one when none is idle), returned to it
  // by the guard unless it failed.
  class Lease;
  Lease lease() const;
  std::string key(std::string_view what) const { return address_.key_prefix + std::string(what); }

  RedisAddress address_;
  double timeout_s_;
  std::string durability_warning_;
  mutable std::mutex pool_mutex_;
  mutable std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace aisle::rec
