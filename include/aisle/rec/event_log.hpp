#pragma once

// The embedded event store: an append-only log file in one folder
// (FOLDER/events.log), replayed into memory when it is opened.
//
// Each record carries its length and a CRC-32. Appends from many threads
// are group-committed: one thread writes every pending record and fsyncs
// once for all of them, and each append returns only once its records are
// on disk. A crash can leave a torn last record; opening cuts it off and
// reports it (EventLog::opening_warning). Damage anywhere else is an
// aisle::Error naming the file and the byte.
//
// forget() appends a tombstone; compact() rewrites the log under a temporary
// name without the forgotten users' events and ids (only a 64-bit hash of
// each forgotten id stays, see forgotten_user_hash) and renames it over the
// old one. Opening a log that holds tombstones compacts it.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "aisle/rec/event_store.hpp"

namespace aisle::rec {

struct EventLogLimits {
  std::size_t max_id_bytes = 1024;  // a user or item id; longer ones are refused
};

class EventLog final : public EventStore {
 public:
  // Opens (creating the folder and the log if needed) and replays FOLDER's
  // log. Throws aisle::Error for a file that is not an event log, damage
  // before the last record, or a folder it cannot write.
  explicit EventLog(std::filesystem::path folder, EventLogLimits limits = {});
  ~EventLog() override;
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  void append(std::span<const Event> events) override;
  std::vector<TimedItem> history(std::string_view user) const override;
  std::int64_t forget(std::string_view user) override;
  bool was_forgotten(std::string_view user) const override;
  void compact() override;
  EventStoreStats stats() const override;
  std::string describe() const override;

  // What opening had to say: a torn last record cut off ("cut off a torn
  // record of 17 bytes at byte 4096 ..."), or empty.
  const std::string& opening_warning() const { return opening_warning_; }
  std::filesystem::path path() const { return folder_ / "events.log"; }
  // fsyncs so far: fewer than appends when group commit merged them.
  std::int64_t syncs() const;

 private:
  struct Shopper {
    std::vector<TimedItem> events;  // oldest first
  };
  void replay();
  void open_for_append();
  void write_durably(const std::string& bytes);
  void commit(std::string records, const std::function<void()>& apply);
  void apply_event(const Event& event);
  // Removes user's events from memory and remembers them as forgotten;
  // returns how many there were.
  std::int64_t apply_forget(std::string_view user);
  void rewrite();
  void check_id(std::string_view id, const char* what) const;

  std::filesystem::path folder_;
  EventLogLimits limits_;
  int fd_ = -1;
  std::string opening_warning_;

  // Group commit: appends queue their records in pending_; one leader at a
  // time writes and fsyncs a whole queue (batch numbers say whose records
  // are durable).
  std::mutex commit_mutex_;
  std::condition_variable committed_;
  std::string pending_;
  std::vector<std::function<void()>> pending_apply_;
  std::uint64_t next_batch_ = 1;
  std::uint64_t durable_batch_ = 0;
  bool writing_ = false;
  std::string failure_;  // set when a write failed: the log refuses appends from then on
  std::atomic<std::int64_t> syncs_{0};

  std::mutex file_mutex_;  // the leader's write and fsync, or a compaction
  mutable std::shared_mutex memory_mutex_;
  std::unordered_map<std::string, Shopper> shoppers_;
  std::unordered_set<std::uint64_t> forgotten_;
  std::int64_t events_ = 0;
  std::atomic<std::int64_t> log_bytes_{0};
  std::int64_t tombstones_ = 0;
};

// The records of an event log's bytes, for replay and the fuzz target:
// calls on_event / on_forget / on_forgotten_hash for each, in order, and
// returns the length of the intact prefix; a torn last record is not
// counted in it. Throws aisle::Error (naming where, and the byte offset) for
// a bad header or damage before the last record.
struct EventLogVisitor {
  std::function<void(Event&&)> on_event;
  std::function<void(std::string&&)> on_forget;
  std::function<void(std::uint64_t)> on_forgotten_hash;
};
std::size_t parse_event_log(std::string_view bytes, const std::string& where, const EventLogVisitor& visitor);

}  // namespace aisle::rec
