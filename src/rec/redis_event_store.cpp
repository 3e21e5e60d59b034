#include "aisle/rec/redis_event_store.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "aisle/core/error.hpp"

namespace aisle::rec {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

timeval to_timeval(double seconds) {
  const auto whole = static_cast<long>(seconds);
  return {whole, static_cast<long>((seconds - static_cast<double>(whole)) * 1e6)};
}

std::string encode_event(const Event& e) {
  std::string value(8, '\0');
  const auto t = static_cast<std::uint64_t>(e.timestamp);
  for (int i = 0; i < 8; ++i) value[static_cast<std::size_t>(i)] = static_cast<char>((t >> (8 * i)) & 0xff);
  return value + e.item;
}

TimedItem decode_event(std::string_view value, const std::string& where) {
  if (value.size() < 8) throw Error(where + ": an event entry of " + std::to_string(value.size()) + " bytes (at least 8)");
  std::uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t |= std::uint64_t{static_cast<unsigned char>(value[static_cast<std::size_t>(i)])} << (8 * i);
  return {std::string(value.substr(8)), static_cast<std::int64_t>(t)};
}

std::string_view text_of(const redisReply& reply) { return {reply.str, reply.len}; }

// Removes a user's events and remembers them as forgotten, in one step:
// KEYS events:USER, users, forgotten, event-count; ARGV user, hash.
constexpr const char* kForgetScript =
    "local n = redis.call('LLEN', KEYS[1]) "
    "redis.call('DEL', KEYS[1]) "
    "redis.call('SREM', KEYS[2], ARGV[1]) "
    "redis.call('SADD', KEYS[3], ARGV[2]) "
    "redis.call('DECRBY', KEYS[4], n) "
    "return n";

}  // namespace

RedisAddress parse_redis_url(const std::string& url) {
  constexpr std::string_view kScheme = "redis://";
  const auto bad = [&](const std::string& why) { return Error("event store '" + url + "': " + why + " (redis://HOST:PORT)"); };
  if (!url.starts_with(kScheme)) throw bad("not a redis:// address");
  std::string_view rest(url);
  rest.remove_prefix(kScheme.size());
  if (rest.ends_with("/")) rest.remove_suffix(1);
  RedisAddress address;
  const auto colon = rest.rfind(':');
  if (colon != std::string_view::npos) {
    const auto port_text = rest.substr(colon + 1);
    int port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535)
      throw bad("bad port '" + std::string(port_text) + "'");
    address.port = port;
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) throw bad("no host");
  address.host = std::string(rest);
  return address;
}

class RedisEventStore::Connection {
 public:
  Connection(const RedisAddress& address, double timeout_s) : where_(url_of(address)) {
    context_ = redisConnectWithTimeout(address.host.c_str(), address.port, to_timeval(timeout_s));
    if (context_ == nullptr) throw Error(where_ + ": cannot allocate a connection");
    if (context_->err) {
      const std::string why = context_->errstr;
      redisFree(context_);
      throw Error(where_ + ": cannot connect (" + why + "); is redis-server running there?");
    }
    redisSetTimeout(context_, to_timeval(timeout_s));
  }
  ~Connection() { redisFree(context_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  static std::string url_of(const RedisAddress& a) { return "redis://" + a.host + ":" + std::to_string(a.port); }

  // Sends every command, then reads every reply (one round trip). A reply
  // that is an error throws, naming it.
  std::vector<Reply> run(const std::vector<std::vector<std::string>>& commands) {
    for (const auto& args : commands) {
      std::vector<const char*> argv;
      std::vector<std::size_t> lengths;
      for (const auto& a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
      }
      if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data()) != REDIS_OK)
        fail("cannot send " + args.front());
    }
    std::vector<Reply> replies;
    for (const auto& args : commands) {
      void* raw = nullptr;
      if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) fail("no answer to " + args.front());
      Reply reply(static_cast<redisReply*>(raw));
      if (reply->type == REDIS_REPLY_ERROR) throw Error(where_ + ": " + args.front() + " failed: " + std::string(text_of(*reply)));
      replies.push_back(std::move(reply));
    }
    return replies;
  }
  Reply run_one(std::vector<std::string> command) { return std::move(run({std::move(command)}).front()); }

  bool broken() const { return broken_; }
  const std::string& where() const { return where_; }

 private:
  [[noreturn]] void fail(const std::string& what) {
    broken_ = true;
    throw Error(where_ + ": " + what + " (" + (context_->err ? context_->errstr : "connection lost") + ")");
  }

  redisContext* context_ = nullptr;
  std::string where_;
  bool broken_ = false;
};

class RedisEventStore::Lease {
 public:
  Lease(const RedisEventStore& store, std::unique_ptr<Connection> connection)
      : store_(store), connection_(std::move(connection)) {}
  ~Lease() {
    if (!connection_ || connection_->broken()) return;  // a failed connection is dropped, not reused
    std::lock_guard lock(store_.pool_mutex_);
    store_.idle_.push_back(std::move(connection_));
  }
  Lease(Lease&&) = default;
  Connection* operator->() { return connection_.get(); }

 private:
  const RedisEventStore& store_;
  std::unique_ptr<Connection> connection_;
};

RedisEventStore::Lease RedisEventStore::lease() const {
  {
    std::lock_guard lock(pool_mutex_);
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(connection));
    }
  }
  return Lease(*this, std::make_unique<Connection>(address_, timeout_s_));
}

RedisEventStore::RedisEventStore(RedisAddress address, double timeout_s)
    : address_(std::move(address)), timeout_s_(timeout_s) {
  auto connection = lease();
  try {
    const auto replies = connection->run({{"CONFIG", "GET", "appendonly"}, {"CONFIG", "GET", "appendfsync"}});
    const auto value = [](const Reply& r) {
      return r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? std::string(text_of(*r->element[1])) : std::string("?");
    };
    const auto appendonly = value(replies[0]), appendfsync = value(replies[1]);
    if (appendonly != "yes" || appendfsync != "always")
      durability_warning_ = describe() + ": appendonly is " + appendonly + " and appendfsync " + appendfsync +
                            " (not yes and always): events acknowledged just before a crash of the Redis server can be lost";
  } catch (const Error& e) {
    durability_warning_ = describe() + ": cannot read the server's durability settings (" + e.what() + ")";
  }
}

RedisEventStore::~RedisEventStore() = default;

void RedisEventStore::append(std::span<const Event> events) {
  if (events.empty()) return;
  std::vector<std::vector<std::string>> commands{{"MULTI"}};
  std::set<std::string_view> users;
  for (const auto& e : events) {
    if (e.user.empty() || e.item.empty()) throw Error("an event's user or item is empty");
    commands.push_back({"RPUSH", key("events:") + e.user, encode_event(e)});
    users.insert(e.user);
  }
  std::vector<std::string> add_users{"SADD", key("users")};
  add_users.insert(add_users.end(), users.begin(), users.end());
  commands.push_back(std::move(add_users));
  commands.push_back({"INCRBY", key("event-count"), std::to_string(events.size())});
  commands.push_back({"EXEC"});
  auto connection = lease();
  const auto replies = connection->run(commands);
  const auto& exec = replies.back();
  if (exec->type != REDIS_REPLY_ARRAY || exec->elements != commands.size() - 2)
    throw Error(describe() + ": the events' transaction was not carried out");
  for (std::size_t i = 0; i < exec->elements; ++i)
    if (exec->element[i]->type == REDIS_REPLY_ERROR)
      throw Error(describe() + ": storing an event failed: " + std::string(text_of(*exec->element[i])));
}

std::vector<TimedItem> RedisEventStore::history(std::string_view user) const {
  auto connection = lease();
  const auto reply = connection->run_one({"LRANGE", key("events:") + std::string(user), "0", "-1"});
  std::vector<TimedItem> events;
  for (std::size_t i = 0; i < reply->elements; ++i) events.push_back(decode_event(text_of(*reply->element[i]), describe()));
  std::stable_sort(events.begin(), events.end(), [](const TimedItem& a, const TimedItem& b) { return a.timestamp < b.timestamp; });
  return events;
}

std::int64_t RedisEventStore::forget(std::string_view user) {
  const std::string id(user);
  auto connection = lease();
  const auto reply = connection->run_one({"EVAL", kForgetScript, "4", key("events:") + id, key("users"), key("forgotten"),
                                          key("event-count"), id, std::to_string(forgotten_user_hash(user))});
  return reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
}

bool RedisEventStore::was_forgotten(std::string_view user) const {
  auto connection = lease();
  const auto reply = connection->run_one({"SISMEMBER", key("forgotten"), std::to_string(forgotten_user_hash(user))});
  return reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
}

void RedisEventStore::compact() {
  auto connection = lease();
  try {
    connection->run_one({"BGREWRITEAOF"});
  } catch (const Error& e) {
    // One already running (or scheduled) does the same work.
    if (std::string(e.what()).find("in progress") == std::string::npos) throw;
  }
}

EventStoreStats RedisEventStore::stats() const {
  auto connection = lease();
  const auto replies = connection->run({{"SCARD", key("users")}, {"GET", key("event-count")}});
  EventStoreStats stats;
  stats.users = replies[0]->integer;
  if (replies[1]->type == REDIS_REPLY_STRING) stats.events = std::stoll(std::string(text_of(*replies[1])));
  return stats;
}

std::string RedisEventStore::describe() const { return Connection::url_of(address_); }

}  // namespace aisle::rec
