#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace aisle {

// Bytes this process may still allocate: the smaller of the kernel's
// MemAvailable and what the cgroup's memory.max leaves, or the limit set by
// AISLE_MEMORY_LIMIT (bytes, or with a K, M, G or T suffix: "8G") or
// set_memory_limit. nullopt when none of these can be read.
std::optional<std::uint64_t> available_memory();

// Overrides the memory available to aisle's work (an operator's budget, a
// test's small limit); nullopt restores the default above.
void set_memory_limit(std::optional<std::uint64_t> bytes);

// Throws aisle::Error before anything is allocated when work needs more than
// available_memory(): "<what> needs <bytes> (<how>), <available> is
// available; <advice>".
void require_memory(std::uint64_t bytes, const std::string& what, const std::string& how, const std::string& advice);

// "1.46 GB", "512 MB", "812 bytes": decimal units, three digits.
std::string format_bytes(std::uint64_t bytes);

}  // namespace aisle
