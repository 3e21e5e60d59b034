#pragma once

// Shared by the fuzz targets: each writes the fuzzer's bytes to a file of its
// own (aisle's readers take paths) and calls one reader. Bad input must end in
// aisle::Error; any other exception, a crash, a sanitizer report or a hang is
// a finding.

#include <unistd.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "aisle/core/error.hpp"

namespace aisle::fuzz {

// A file for this process's inputs, in the temporary folder.
inline std::filesystem::path input_path(const char* name) {
  return std::filesystem::temp_directory_path() / ("aisle-fuzz-" + std::to_string(getpid()) + "-" + name);
}

// Removes the input file when the fuzzer exits normally (a crash leaves it,
// beside the input libFuzzer saves).
struct RemovedAtExit {
  std::filesystem::path path;
  ~RemovedAtExit() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};

// Runs read; an aisle::Error is the expected answer to bad input, and any
// other exception escapes to libFuzzer as a finding.
template <class Read>
void allowing_aisle_errors(Read&& read) {
  try {
    read();
  } catch (const aisle::Error&) {
  }
}

// Model files end in a CRC-32 of everything before it; appending it lets the
// fuzzer reach the header and tensor checks instead of failing the checksum.
enum class Checksum { none, append };

inline std::filesystem::path write_input(const char* name, const std::uint8_t* data, std::size_t size,
                                         Checksum checksum = Checksum::none) {
  const std::filesystem::path path = input_path(name);
  static const RemovedAtExit cleanup{path};  // each target writes one file
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (checksum == Checksum::append) {
    const auto crc = static_cast<std::uint32_t>(crc32(crc32(0L, Z_NULL, 0), data, static_cast<uInt>(size)));
    const unsigned char le[4] = {static_cast<unsigned char>(crc), static_cast<unsigned char>(crc >> 8),
                                 static_cast<unsigned char>(crc >> 16), static_cast<unsigned char>(crc >> 24)};
    out.write(reinterpret_cast<const char*>(le), 4);
  }
  return path;
}

}  // namespace aisle::fuzz
