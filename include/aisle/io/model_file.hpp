#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "aisle/core/tensor.hpp"

namespace aisle::io {

// A named float32 tensor stored in a model file.
struct NamedTensor {
  std::string name;
  Matrix value;
};

// The contents of an aisle model file: a JSON header that says what the model
// is (its "kind", architecture and settings) and its weight tensors.
//
// On disk (all integers little-endian):
//   8 bytes   magic "AISLEMDL"
//   u32       container version (kModelFileVersion)
//   u64       header length H
//   H bytes   UTF-8 JSON header; it holds "format": "aisle.model", "version",
//             "kind", the caller's fields, and "tensors": [{name, shape, dtype,
//             offset, bytes}] describing the blobs
//   blobs     float32 little-endian, row-major, one after another
//   u32       CRC-32 (zlib) of every byte before it
struct ModelFile {
  std::string kind;        // e.g. "sequential", "rec.ease"
  nlohmann::json header;   // the caller's fields (architecture, settings, ...)
  std::vector<NamedTensor> tensors;

  // The tensor called name; throws aisle::Error naming the file's kind if absent.
  const Matrix& tensor(std::string_view name) const;
  // The named tensor moved out of the file (left empty there): a loader takes
  // its weights without a second copy of them in memory.
  Matrix take_tensor(std::string_view name);
};

inline constexpr std::uint32_t kModelFileVersion = 1;

// Writes to a temporary name beside path, then renames it over path, so a
// reader never sees a half-written file. Throws aisle::Error on I/O failure.
void write_model_file(const std::filesystem::path& path, const ModelFile& file);

// Reads and validates everything: magic, version, header, tensor table,
// sizes and checksum. When expected_kind is not empty, a file of another kind
// is refused. Throws aisle::Error with a message naming the file and the fault.
ModelFile read_model_file(const std::filesystem::path& path, std::string_view expected_kind = {});

// Checks that a tensor has the expected shape; throws aisle::Error naming it.
void expect_shape(const NamedTensor& tensor, Index rows, Index cols, const std::filesystem::path& path);

}  // namespace aisle::io
