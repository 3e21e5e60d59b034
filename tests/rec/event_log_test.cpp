#include "aisle/rec/event_log.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "aisle/core/error.hpp"
#include "support/test_files.hpp"

namespace aisle::rec {
namespace {

using test_support::TempDir;

void overwrite_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::vector<Event> events_of(const std::string& user, std::initializer_list<std::pair<const char*, std::int64_t>> items) {
  std::vector<Event> out;
  for (const auto& [item, t] : items) out.push_back({user, item, t});
  return out;
}

const std::vector<TimedItem> kAliceHistory = {{"a", 10}, {"b", 11}, {"c", 12}};

TEST(EventLog, AppendedEventsAreReadBackAndSurviveReopening) {
  TempDir dir;
  {
    EventLog log(dir.path());
    log.append(events_of("alice", {{"a", 10}, {"b", 11}}));
    log.append(events_of("bob", {{"x", 5}}));
    log.append(events_of("alice", {{"c", 12}}));
    EXPECT_EQ(log.history("alice"), kAliceHistory);
    EXPECT_TRUE(log.history("carol").empty());
    EXPECT_EQ(log.stats().users, 2);
    EXPECT_EQ(log.stats().events, 4);
  }
  EventLog reopened(dir.path());
  EXPECT_TRUE(reopened.opening_warning().empty());
  EXPECT_EQ(reopened.history("alice"), kAliceHistory);
  EXPECT_EQ(reopened.history("bob"), (std::vector<TimedItem>{{"x", 5}}));
  EXPECT_EQ(reopened.stats().bytes, static_cast<std::int64_t>(std::filesystem::file_size(reopened.path())));
}

TEST(EventLog, KeepsEachHistoryInTimestampOrder) {
  TempDir dir;
  EventLog log(dir.path());
  log.append(events_of("u", {{"late", 30}, {"early", 10}, {"middle", 20}, {"also-middle", 20}}));
  const std::vector<TimedItem> expected = {{"early", 10}, {"middle", 20}, {"also-middle", 20}, {"late", 30}};
  EXPECT_EQ(log.history("u"), expected);
}

TEST(EventLog, CutsOffATornLastRecordWithAWarning) {
  TempDir dir;
  std::int64_t intact_bytes = 0;
  {
    EventLog log(dir.path());
    log.append(events_of("alice", {{"a", 10}, {"b", 11}, {"c", 12}}));
    intact_bytes = log.stats().bytes;
    log.append(events_of("alice", {{"torn", 13}}));
  }
  const auto path = dir.path() / "events.log";
  const auto whole = test_support::read_text(path);
  // Every way a crash can cut the last write: inside its frame or its payload.
  for (std::size_t keep = static_cast<std::size_t>(intact_bytes) + 1; keep < whole.size(); keep += 3) {
    overwrite_bytes(path, whole.substr(0, keep));
    EventLog log(dir.path());
    EXPECT_NE(log.opening_warning().find("torn record of " + std::to_string(keep - intact_bytes) + " bytes"), std::string::npos)
        << log.opening_warning();
    EXPECT_EQ(log.history("alice"), kAliceHistory);
    EXPECT_EQ(std::filesystem::file_size(path), static_cast<std::uintmax_t>(intact_bytes));
    log.append(events_of("alice", {{"d", 14}}));  // appends after the cut replay cleanly
    EXPECT_EQ(EventLog(dir.path()).history("alice").back(), (TimedItem{"d", 14}));
  }
}

TEST(EventLog, CutsOffZerosAndAFlippedByteInTheLastRecord) {
  TempDir dir;
  std::int64_t intact_bytes = 0;
  {
    EventLog log(dir.path());
    log.append(events_of("alice", {{"a", 10}, {"b", 11}, {"c", 12}}));
    intact_bytes = log.stats().bytes;
  }
  const auto path = dir.path() / "events.log";
  const auto intact = test_support::read_text(path);
  overwrite_bytes(path, intact + std::string(4096, '\0'));  // blocks allocated, data never written
  EXPECT_EQ(EventLog(dir.path()).history("alice"), kAliceHistory);

  EventLog(dir.path()).append(events_of("alice", {{"d", 13}}));
  auto flipped = test_support::read_text(path);
  flipped.back() ^= 0x40;
  overwrite_bytes(path, flipped);
  EventLog log(dir.path());
  EXPECT_FALSE(log.opening_warning().empty());
  EXPECT_EQ(log.history("alice"), kAliceHistory);
  EXPECT_EQ(log.stats().bytes, intact_bytes);
}

TEST(EventLog, RefusesDamageBeforeTheLastRecordNamingTheByte) {
  TempDir dir;
  std::int64_t first_record_end = 0;
  {
    EventLog log(dir.path());
    log.append(events_of("alice", {{"a", 10}}));
    first_record_end = log.stats().bytes;
    log.append(events_of("alice", {{"b", 11}, {"c", 12}}));
  }
  const auto path = dir.path() / "events.log";
  auto bytes = test_support::read_text(path);
  bytes[static_cast<std::size_t>(first_record_end) - 1] ^= 0x01;  // the first record's timestamp
  overwrite_bytes(path, bytes);
  try {
    EventLog log(dir.path());
    FAIL() << "a damaged record before the last one was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("damaged record at byte 12"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  overwrite_bytes(path, "not a log at all");
  EXPECT_THROW(EventLog{dir.path()}, Error);
}

TEST(EventLog, ForgetRemovesTheUserAndCompactionLeavesNoByteOfTheirId) {
  TempDir dir;
  const std::string id = "shopper-zq81x";
  {
    EventLog log(dir.path());
    log.append(events_of(id, {{"a", 1}, {"b", 2}}));
    log.append(events_of("bob", {{"x", 3}}));
    EXPECT_EQ(log.forget(id), 2);
    EXPECT_TRUE(log.history(id).empty());
    EXPECT_TRUE(log.was_forgotten(id));
    EXPECT_FALSE(log.was_forgotten("bob"));
    EXPECT_NE(test_support::read_text(log.path()).find(id), std::string::npos);  // the tombstone, until compaction
    log.compact();
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
      EXPECT_EQ(test_support::read_text(entry.path()).find(id), std::string::npos) << entry.path();
    EXPECT_EQ(log.history("bob"), (std::vector<TimedItem>{{"x", 3}}));
    log.append(events_of(id, {{"after", 4}}));  // a forgotten shopper who comes back
  }
  EventLog reopened(dir.path());
  EXPECT_TRUE(reopened.was_forgotten(id));
  EXPECT_EQ(reopened.history(id), (std::vector<TimedItem>{{"after", 4}}));
  EXPECT_EQ(reopened.history("bob"), (std::vector<TimedItem>{{"x", 3}}));
}

TEST(EventLog, OpeningALogWithTombstonesCompactsIt) {
  TempDir dir;
  const std::string id = "shopper-tomb7";
  {
    EventLog log(dir.path());
    log.append(events_of(id, {{"a", 1}}));
    log.forget(id);
  }
  EventLog reopened(dir.path());
  EXPECT_EQ(test_support::read_text(reopened.path()).find(id), std::string::npos);
  EXPECT_TRUE(reopened.was_forgotten(id));
}

TEST(EventLog, ConcurrentAppendsAreAllStoredAndShareSyncs) {
  TempDir dir;
  constexpr int kThreads = 8, kAppends = 50;
  {
    EventLog log(dir.path());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&log, t] {
        for (int i = 0; i < kAppends; ++i) log.append(events_of("user" + std::to_string(t), {{"item", i}}));
      });
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(log.stats().events, kThreads * kAppends);
    EXPECT_LE(log.syncs(), kThreads * kAppends);
  }
  EventLog reopened(dir.path());
  for (int t = 0; t < kThreads; ++t) {
    const auto h = reopened.history("user" + std::to_string(t));
    ASSERT_EQ(h.size(), static_cast<std::size_t>(kAppends));
    for (int i = 0; i < kAppends; ++i) EXPECT_EQ(h[static_cast<std::size_t>(i)].timestamp, i);
  }
}

TEST(EventLog, RefusesEmptyAndOverlongIds) {
  TempDir dir;
  EventLog log(dir.path(), {.max_id_bytes = 8});
  EXPECT_THROW(log.append(events_of("", {{"a", 1}})), Error);
  EXPECT_THROW(log.append(events_of("u", {{"123456789", 1}})), Error);
  // Nothing of a refused batch is stored.
  EXPECT_THROW(log.append(std::vector<Event>{{"u", "ok", 1}, {"u", "", 2}}), Error);
  EXPECT_EQ(log.stats().events, 0);
}

}  // namespace
}  // namespace aisle::rec
