#include "aisle/core/memory.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include "aisle/core/error.hpp"

namespace aisle {
namespace {

std::mutex g_mutex;
std::optional<std::uint64_t> g_limit;
bool g_limit_set = false;

// "123", "8G", "512M": bytes with an optional binary-unit suffix.
std::uint64_t parse_byte_count(const std::string& text, const std::string& source) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  std::uint64_t unit = 1;
  if (stop != end && stop + 1 == end) {
    switch (*stop) {
      case 'K': case 'k': unit = 1ull << 10; break;
      case 'M': case 'm': unit = 1ull << 20; break;
      case 'G': case 'g': unit = 1ull << 30; break;
      case 'T': case 't': unit = 1ull << 40; break;
      default: unit = 0;
    }
  } else if (stop != end) {
    unit = 0;
  }
  if (text.empty() || error != std::errc{} || unit == 0 || value == 0)
    throw Error(source + "=" + text + ": expected a positive number of bytes, optionally with K, M, G or T");
  return value * unit;
}

// A "Name:   1234 kB" line of /proc/meminfo, in bytes.
std::optional<std::uint64_t> meminfo_bytes(const std::string& name) {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ":", 0) != 0) continue;
    std::istringstream fields(line.substr(name.size() + 1));
    std::uint64_t kilobytes = 0;
    if (fields >> kilobytes) return kilobytes * 1024;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> read_number(const char* path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return std::nullopt;
  std::uint64_t value = 0;
  const auto [stop, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{}) return std::nullopt;
  return value;
}

// What cgroup v2's memory.max leaves over memory.current, when a limit is set.
std::optional<std::uint64_t> cgroup_headroom() {
  const auto limit = read_number("/sys/fs/cgroup/memory.max");
  const auto current = read_number("/sys/fs/cgroup/memory.current");
  if (!limit || !current) return std::nullopt;
  return *limit > *current ? *limit - *current : 0;
}

std::optional<std::uint64_t> system_available() {
  const auto available = meminfo_bytes("MemAvailable");
  const auto headroom = cgroup_headroom();
  if (available && headroom) return std::min(*available, *headroom);
  return available ? available : headroom;
}

}  // namespace

std::optional<std::uint64_t> available_memory() {
  {
    std::lock_guard lock(g_mutex);
    if (g_limit_set) return g_limit;
  }
  if (const char* env = std::getenv("AISLE_MEMORY_LIMIT")) return parse_byte_count(env, "AISLE_MEMORY_LIMIT");
  return system_available();
}

void set_memory_limit(std::optional<std::uint64_t> bytes) {
  std::lock_guard lock(g_mutex);
  g_limit = bytes;
  g_limit_set = bytes.has_value();
}

void require_memory(std::uint64_t bytes, const std::string& what, const std::string& how, const std::string& advice) {
  const auto available = available_memory();
  if (!available || bytes <= *available) return;
  throw Error(what + " needs " + format_bytes(bytes) + " (" + how + "), " + format_bytes(*available) +
              " is available; " + advice);
}

std::string format_bytes(std::uint64_t bytes) {
  static const char* const units[] = {"bytes", "kB", "MB", "GB", "TB", "PB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1000.0 && unit < 5) {
    value /= 1000.0;
    ++unit;
  }
  if (unit == 0) return std::to_string(bytes) + " bytes";
  char text[32];
  std::snprintf(text, sizeof text, value >= 100 ? "%.0f %s" : value >= 10 ? "%.1f %s" : "%.2f %s", value, units[unit]);
  return text;
}

}  // namespace aisle
