#pragma once

// Where a storefront's live shopper events go: what a shopper viewed or
// bought since the model was fitted, kept durably and read back as their
// history by every query. aisle's models have no per-user parameters, so a
// shopper's list follows their clicks without a refit.
//
// Two implementations: EventLog (rec/event_log.hpp), an append-only file in
// one folder, and aisle-serve's Redis store, which every replica shares.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aisle::rec {

struct Event {
  std::string user;
  std::string item;
  std::int64_t timestamp = 0;  // seconds since the Unix epoch
};

struct TimedItem {
  std::string item;
  std::int64_t timestamp = 0;

  bool operator==(const TimedItem&) const = default;
};

struct EventStoreStats {
  std::int64_t users = 0;    // shoppers with stored events
  std::int64_t events = 0;   // stored events
  std::int64_t bytes = 0;    // on disk or in the server, where known; else 0
};

// Every member is safe from many threads at once.
class EventStore {
 public:
  virtual ~EventStore() = default;

  // Stores events; when it returns they are durable (on disk, or acknowledged
  // by a server that has them on disk) and history() shows them. Throws
  // aisle::Error when they could not be stored.
  virtual void append(std::span<const Event> events) = 0;

  // user's stored events, oldest first (by timestamp, then arrival); empty
  // for a user with none.
  virtual std::vector<TimedItem> history(std::string_view user) const = 0;

  // Removes every stored event of user, durably; returns how many there
  // were. From then on (across restarts too) was_forgotten(user) is true,
  // so that a server also hides what a model file knows of them; events
  // they send afterwards are stored and used as anyone's.
  virtual std::int64_t forget(std::string_view user) = 0;
  virtual bool was_forgotten(std::string_view user) const = 0;

  // Rewrites the store without what forget() removed, so that no byte of a
  // forgotten user's id remains in it.
  virtual void compact() = 0;

  virtual EventStoreStats stats() const = 0;
  // "log:/var/lib/aisle/events", "redis://127.0.0.1:6379": for logs and /metrics.
  virtual std::string describe() const = 0;
};

// The 64-bit FNV-1a hash of a user id: how stores remember a forgotten user
// without keeping the id.
std::uint64_t forgotten_user_hash(std::string_view user);

}  // namespace aisle::rec
