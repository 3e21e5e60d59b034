#include "aisle/rec/event_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "aisle/core/error.hpp"

namespace aisle::rec {
namespace {

constexpr std::string_view kMagic = "AISLEEVT";
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::size_t kHeaderBytes = 12;       // magic + version
constexpr std::size_t kRecordHeaderBytes = 8;  // length + CRC-32 of the payload
constexpr std::uint32_t kMaxPayloadBytes = 1u << 20;

enum class RecordKind : unsigned char { event = 1, forget = 2, forgotten_hash = 3 };

template <typename T>
void put(std::string& out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((static_cast<std::uint64_t>(value) >> (8 * i)) & 0xff));
}

void put_string(std::string& out, std::string_view s) {
  put<std::uint32_t>(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

std::uint32_t crc_of(std::string_view bytes) {
  return static_cast<std::uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// Frames a payload as a record: length, CRC-32, payload.
void put_record(std::string& out, const std::string& payload) {
  put<std::uint32_t>(out, static_cast<std::uint32_t>(payload.size()));
  put<std::uint32_t>(out, crc_of(payload));
  out += payload;
}

std::string event_payload(const Event& event) {
  std::string p(1, static_cast<char>(RecordKind::event));
  put_string(p, event.user);
  put_string(p, event.item);
  put<std::int64_t>(p, event.timestamp);
  return p;
}

std::string forget_payload(std::string_view user) {
  std::string p(1, static_cast<char>(RecordKind::forget));
  put_string(p, user);
  return p;
}

std::string forgotten_hash_payload(std::uint64_t hash) {
  std::string p(1, static_cast<char>(RecordKind::forgotten_hash));
  put<std::uint64_t>(p, hash);
  return p;
}

std::string file_header() {
  std::string h(kMagic);
  put<std::uint32_t>(h, kFormatVersion);
  return h;
}

// Reads little-endian fields from a payload; false once past its end.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view bytes) : bytes_(bytes) {}
  template <typename T>
  bool read(T& value) {
    if (bytes_.size() - at_ < sizeof(T)) return false;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v |= std::uint64_t{static_cast<unsigned char>(bytes_[at_ + i])} << (8 * i);
    at_ += sizeof(T);
    value = static_cast<T>(v);
    return true;
  }
  bool read_string(std::string& s) {
    std::uint32_t size = 0;
    if (!read(size) || bytes_.size() - at_ < size) return false;
    s.assign(bytes_.substr(at_, size));
    at_ += size;
    return true;
  }
  bool at_end() const { return at_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  std::size_t at_ = 0;
};

// One record's payload to the visitor; false when it does not parse.
bool visit_payload(std::string_view payload, const EventLogVisitor& visitor) {
  PayloadReader in(payload);
  unsigned char kind = 0;
  if (!in.read(kind)) return false;
  switch (static_cast<RecordKind>(kind)) {
    case RecordKind::event: {
      Event e;
      if (!in.read_string(e.user) || !in.read_string(e.item) || !in.read(e.timestamp) || !in.at_end()) return false;
      if (visitor.on_event) visitor.on_event(std::move(e));
      return true;
    }
    case RecordKind::forget: {
      std::string user;
      if (!in.read_string(user) || !in.at_end()) return false;
      if (visitor.on_forget) visitor.on_forget(std::move(user));
      return true;
    }
    case RecordKind::forgotten_hash: {
      std::uint64_t hash = 0;
      if (!in.read(hash) || !in.at_end()) return false;
      if (visitor.on_forgotten_hash) visitor.on_forgotten_hash(hash);
      return true;
    }
  }
  return false;
}

bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

std::string system_error(const std::string& what) { return what + ": " + std::strerror(errno); }

void write_all(int fd, std::string_view bytes, const std::string& where) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(system_error("cannot write " + where));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void sync_file(int fd, const std::string& where) {
  if (::fdatasync(fd) != 0) throw Error(system_error("cannot sync " + where + " to disk"));
}

// A rename or a new file is durable once its folder is synced.
void sync_folder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) throw Error(system_error("cannot open folder " + folder.string()));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw Error(system_error("cannot sync folder " + folder.string()));
}

std::string read_whole_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path.string() + " for reading");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw Error("cannot read " + path.string());
  return std::move(bytes).str();
}

}  // namespace

std::uint64_t forgotten_user_hash(std::string_view user) {
  std::uint64_t hash = 14695981039346656037ull;
  for (const char c : user) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

std::size_t parse_event_log(std::string_view bytes, const std::string& where, const EventLogVisitor& visitor) {
  if (bytes.size() < kHeaderBytes || bytes.substr(0, kMagic.size()) != kMagic)
    throw Error(where + ": not an aisle event log (its first bytes are not \"AISLEEVT\")");
  PayloadReader header(bytes.substr(kMagic.size(), 4));
  std::uint32_t version = 0;
  header.read(version);
  if (version != kFormatVersion)
    throw Error(where + ": event log format " + std::to_string(version) + "; this aisle reads format " +
                std::to_string(kFormatVersion));
  std::size_t at = kHeaderBytes;
  while (at < bytes.size()) {
    const auto rest = bytes.substr(at);
    PayloadReader frame(rest.substr(0, std::min(rest.size(), kRecordHeaderBytes)));
    std::uint32_t length = 0, crc = 0;
    const bool framed = frame.read(length) && frame.read(crc);
    const bool complete = framed && length <= kMaxPayloadBytes && rest.size() - kRecordHeaderBytes >= length;
    if (complete) {
      const auto payload = rest.substr(kRecordHeaderBytes, length);
      if (crc_of(payload) == crc && visit_payload(payload, visitor)) {
        at += kRecordHeaderBytes + length;
        continue;
      }
    }
    // A crash tears only the last write: a record that runs to the end of
    // the file, or zeros the file system left where data never came.
    const bool last = !complete || rest.size() == kRecordHeaderBytes + length || all_zero(rest);
    if (last) return at;
    throw Error(where + ": damaged record at byte " + std::to_string(at) + " (" +
                (crc_of(rest.substr(kRecordHeaderBytes, length)) != crc ? "checksum mismatch" : "bad contents") +
                ") with " + std::to_string(rest.size() - kRecordHeaderBytes - length) +
                " more bytes after it: not a torn write; restore the file from a backup or move it away");
  }
  return at;
}

EventLog::EventLog(std::filesystem::path folder, EventLogLimits limits)
    : folder_(std::move(folder)), limits_(limits) {
  std::error_code ec;
  std::filesystem::create_directories(folder_, ec);
  if (ec) throw Error("cannot create the event folder " + folder_.string() + ": " + ec.message());
  replay();
  open_for_append();
  if (tombstones_ > 0) compact();
}

EventLog::~EventLog() {
  if (fd_ >= 0) ::close(fd_);
}

void EventLog::replay() {
  const auto file = path();
  if (!std::filesystem::exists(file)) {
    rewrite();  // an empty log: the header alone
    return;
  }
  const auto bytes = read_whole_file(file);
  EventLogVisitor visitor;
  visitor.on_event = [this](Event&& e) { apply_event(e); };
  visitor.on_forget = [this](std::string&& user) { apply_forget(user); };
  visitor.on_forgotten_hash = [this](std::uint64_t hash) { forgotten_.insert(hash); };
  const auto intact = parse_event_log(bytes, file.string(), visitor);
  log_bytes_ = static_cast<std::int64_t>(intact);
  if (intact == bytes.size()) return;
  std::error_code ec;
  std::filesystem::resize_file(file, intact, ec);
  if (ec) throw Error("cannot cut the torn end off " + file.string() + ": " + ec.message());
  opening_warning_ = file.string() + ": cut off a torn record of " + std::to_string(bytes.size() - intact) +
                     " bytes at byte " + std::to_string(intact) + " (a write the crash interrupted; it was never acknowledged)";
}

void EventLog::open_for_append() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path().c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) throw Error(system_error("cannot open " + path().string() + " for appending"));
}

void EventLog::write_durably(const std::string& bytes) {
  write_all(fd_, bytes, path().string());
  sync_file(fd_, path().string());
  log_bytes_ += static_cast<std::int64_t>(bytes.size());
  ++syncs_;
}

void EventLog::check_id(std::string_view id, const char* what) const {
  if (id.empty()) throw Error(std::string("an event's ") + what + " is empty");
  if (id.size() > limits_.max_id_bytes)
    throw Error(std::string("an event's ") + what + " has " + std::to_string(id.size()) + " bytes; at most " +
                std::to_string(limits_.max_id_bytes));
}

void EventLog::apply_event(const Event& event) {
  auto& events = shoppers_[event.user].events;
  TimedItem timed{event.item, event.timestamp};
  if (events.empty() || events.back().timestamp <= event.timestamp) {
    events.push_back(std::move(timed));
  } else {
    const auto at = std::upper_bound(events.begin(), events.end(), event.timestamp,
                                     [](std::int64_t t, const TimedItem& e) { return t < e.timestamp; });
    events.insert(at, std::move(timed));
  }
  ++events_;
}

void EventLog::commit(std::string records, const std::function<void()>& apply) {
  std::unique_lock lock(commit_mutex_);
  if (!failure_.empty()) throw Error("the event log refuses writes after a failed one: " + failure_);
  pending_ += records;
  pending_apply_.push_back(apply);
  const auto mine = next_batch_;
  while (durable_batch_ < mine) {
    if (!failure_.empty()) throw Error(failure_);
    if (writing_) {
      committed_.wait(lock);
      continue;
    }
    // The leader: writes every queued record, with one fsync for all.
    writing_ = true;
    const std::string bytes = std::move(pending_);
    pending_.clear();
    const auto applies = std::move(pending_apply_);
    pending_apply_.clear();
    const auto batch = next_batch_++;
    lock.unlock();
    std::string error;
    {
      std::lock_guard file(file_mutex_);
      try {
        write_durably(bytes);
        std::unique_lock memory(memory_mutex_);
        for (const auto& a : applies) a();
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    lock.lock();
    writing_ = false;
    if (error.empty()) {
      durable_batch_ = batch;
    } else {
      failure_ = error;
    }
    committed_.notify_all();
  }
}

void EventLog::append(std::span<const Event> events) {
  std::string records;
  for (const auto& e : events) {
    check_id(e.user, "user");
    check_id(e.item, "item");
    put_record(records, event_payload(e));
  }
  if (events.empty()) return;
  commit(std::move(records), [this, events] {
    for (const auto& e : events) apply_event(e);
  });
}

std::vector<TimedItem> EventLog::history(std::string_view user) const {
  std::shared_lock lock(memory_mutex_);
  const auto it = shoppers_.find(std::string(user));
  return it == shoppers_.end() ? std::vector<TimedItem>{} : it->second.events;
}

std::int64_t EventLog::forget(std::string_view user) {
  check_id(user, "user");
  std::string record;
  put_record(record, forget_payload(user));
  std::int64_t removed = 0;
  commit(std::move(record), [this, user, &removed] { removed = apply_forget(user); });
  return removed;
}

std::int64_t EventLog::apply_forget(std::string_view user) {
  std::int64_t removed = 0;
  const auto it = shoppers_.find(std::string(user));
  if (it != shoppers_.end()) {
    removed = static_cast<std::int64_t>(it->second.events.size());
    events_ -= removed;
    shoppers_.erase(it);
  }
  forgotten_.insert(forgotten_user_hash(user));
  ++tombstones_;
  return removed;
}

bool EventLog::was_forgotten(std::string_view user) const {
  std::shared_lock lock(memory_mutex_);
  return forgotten_.count(forgotten_user_hash(user)) > 0;
}

void EventLog::compact() {
  std::lock_guard file(file_mutex_);
  rewrite();
  open_for_append();
}

// Writes the live events and the forgotten hashes to a temporary file,
// syncs it, and renames it over the log. The caller holds file_mutex_ (or
// is the constructor).
void EventLog::rewrite() {
  std::string bytes = file_header();
  {
    std::shared_lock memory(memory_mutex_);
    for (const auto& [user, shopper] : shoppers_)
      for (const auto& e : shopper.events) put_record(bytes, event_payload({user, e.item, e.timestamp}));
    for (const auto hash : forgotten_) put_record(bytes, forgotten_hash_payload(hash));
  }
  const auto target = path();
  auto temporary = target;
  temporary += ".compacting";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(system_error("cannot create " + temporary.string()));
  try {
    write_all(fd, bytes, temporary.string());
    sync_file(fd, temporary.string());
  } catch (...) {
    ::close(fd);
    std::filesystem::remove(temporary);
    throw;
  }
  ::close(fd);
  std::error_code ec;
  std::filesystem::rename(temporary, target, ec);
  if (ec) throw Error("cannot rename " + temporary.string() + " to " + target.string() + ": " + ec.message());
  sync_folder(folder_);
  log_bytes_ = static_cast<std::int64_t>(bytes.size());
  tombstones_ = 0;
}

EventStoreStats EventLog::stats() const {
  std::shared_lock lock(memory_mutex_);
  return {static_cast<std::int64_t>(shoppers_.size()), events_, log_bytes_};
}

std::string EventLog::describe() const { return "log:" + folder_.string(); }

std::int64_t EventLog::syncs() const { return syncs_.load(); }

}  // namespace aisle::rec
