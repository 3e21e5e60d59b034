#include "aisle/io/model_file.hpp"

#include <zlib.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <iterator>

#include "aisle/core/error.hpp"
#include "aisle/io/atomic_file.hpp"

namespace aisle::io {
namespace {

constexpr char kMagic[8] = {'A', 'I', 'S', 'L', 'E', 'M', 'D', 'L'};
constexpr const char* kFormatName = "aisle.model";
constexpr std::size_t kPreambleBytes = sizeof(kMagic) + 4 + 8;
constexpr std::size_t kChecksumBytes = 4;

template <class T>
void append_le(std::string& out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

template <class T>
T read_le(const unsigned char* p) {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(p[i]) << (8 * i);
  return value;
}

void append_floats_le(std::string& out, const Matrix& m) {
  const std::size_t start = out.size();
  out.resize(start + static_cast<std::size_t>(m.size()) * 4);
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out.data() + start, m.data(), static_cast<std::size_t>(m.size()) * 4);
  } else {
    for (Index i = 0; i < m.size(); ++i) {
      const auto bits = std::bit_cast<std::uint32_t>(m.data()[i]);
      for (int b = 0; b < 4; ++b) out[start + 4 * i + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
    }
  }
}

void read_floats_le(const unsigned char* p, Matrix& m) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(m.data(), p, static_cast<std::size_t>(m.size()) * 4);
  } else {
    for (Index i = 0; i < m.size(); ++i) m.data()[i] = std::bit_cast<float>(read_le<std::uint32_t>(p + 4 * i));
  }
}

std::uint32_t crc32_of(const unsigned char* data, std::size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
    crc = crc32(crc, data, chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

// One read into a buffer of the file's size: growing a string byte by byte
// through stream iterators took seconds for a model of hundreds of MB.
std::string read_whole_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error("cannot open model file " + path.string());
  const std::streamoff size = in.tellg();
  if (size < 0) return std::string(std::istreambuf_iterator<char>(in.seekg(0)), std::istreambuf_iterator<char>());
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.seekg(0);
  in.read(bytes.data(), size);
  if (in.gcount() != size)
    throw Error("model file " + path.string() + ": read " + std::to_string(in.gcount()) + " of " +
                std::to_string(size) + " bytes");
  return bytes;
}

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw Error("model file " + path.string() + ": " + what);
}

nlohmann::json parse_header(const std::filesystem::path& path, const std::string& bytes, std::size_t length,
                            bool checksum_ok) {
  try {
    return nlohmann::json::parse(bytes.begin() + kPreambleBytes, bytes.begin() + kPreambleBytes + length);
  } catch (const nlohmann::json::exception& e) {
    if (!checksum_ok) fail(path, "checksum mismatch: the file is corrupt or truncated");
    fail(path, std::string("header is not valid JSON (") + e.what() + ")");
  }
}

NamedTensor read_tensor(const std::filesystem::path& path, const nlohmann::json& entry,
                        const unsigned char* blobs, std::size_t blob_bytes) {
  try {
    NamedTensor t;
    t.name = entry.at("name").get<std::string>();
    if (entry.at("dtype").get<std::string>() != "float32")
      fail(path, "tensor '" + t.name + "' has dtype " + entry.at("dtype").dump() + ", expected float32");
    const auto shape = entry.at("shape").get<std::vector<std::int64_t>>();
    if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0) fail(path, "tensor '" + t.name + "' has a bad shape");
    const auto offset = entry.at("offset").get<std::uint64_t>();
    const auto bytes = entry.at("bytes").get<std::uint64_t>();
    const auto expected = static_cast<std::uint64_t>(shape[0]) * static_cast<std::uint64_t>(shape[1]) * 4;
    if (bytes != expected)
      fail(path, "tensor '" + t.name + "' holds " + std::to_string(bytes) + " bytes but its shape " +
                     shape_string(shape[0], shape[1]) + " needs " + std::to_string(expected));
    if (offset > blob_bytes || bytes > blob_bytes - offset)
      fail(path, "tensor '" + t.name + "' lies beyond the end of the file (truncated?)");
    t.value.resize(shape[0], shape[1]);
    read_floats_le(blobs + offset, t.value);
    return t;
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("bad tensor table entry (") + e.what() + ")");
  }
}

}  // namespace

const Matrix& ModelFile::tensor(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return t.value;
  throw Error("model file of kind '" + kind + "' has no tensor '" + std::string(name) + "'");
}

Matrix ModelFile::take_tensor(std::string_view name) {
  // tensor() finds it; this file is not const, so neither is what it found.
  return std::move(const_cast<Matrix&>(tensor(name)));
}

void write_model_file(const std::filesystem::path& path, const ModelFile& file) {
  nlohmann::json header = file.header;
  header["format"] = kFormatName;
  header["version"] = kModelFileVersion;
  header["kind"] = file.kind;
  nlohmann::json table = nlohmann::json::array();
  std::uint64_t offset = 0;
  for (const auto& t : file.tensors) {
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.value.size()) * 4;
    table.push_back({{"name", t.name}, {"shape", {t.value.rows(), t.value.cols()}}, {"dtype", "float32"},
                     {"offset", offset}, {"bytes", bytes}});
    offset += bytes;
  }
  header["tensors"] = std::move(table);
  const std::string header_text = header.dump();

  std::string bytes(kMagic, sizeof(kMagic));
  append_le<std::uint32_t>(bytes, kModelFileVersion);
  append_le<std::uint64_t>(bytes, header_text.size());
  bytes += header_text;
  bytes.reserve(bytes.size() + offset + kChecksumBytes);
  for (const auto& t : file.tensors) append_floats_le(bytes, t.value);
  append_le<std::uint32_t>(bytes, crc32_of(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));

  write_file_atomically(path, [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

ModelFile read_model_file(const std::filesystem::path& path, std::string_view expected_kind) {
  const std::string bytes = read_whole_file(path);
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < sizeof(kMagic) || std::memcmp(data, kMagic, sizeof(kMagic)) != 0)
    fail(path, "not an aisle model file (wrong magic bytes)");
  if (bytes.size() < kPreambleBytes + kChecksumBytes) fail(path, "truncated (" + std::to_string(bytes.size()) + " bytes)");
  const auto version = read_le<std::uint32_t>(data + sizeof(kMagic));
  if (version != kModelFileVersion)
    fail(path, "unsupported format version " + std::to_string(version) + " (this build reads version " +
                   std::to_string(kModelFileVersion) + ")");
  const auto header_length = read_le<std::uint64_t>(data + sizeof(kMagic) + 4);
  if (header_length > bytes.size() - kPreambleBytes - kChecksumBytes)
    fail(path, "truncated: the header claims " + std::to_string(header_length) + " bytes but the file has " +
                   std::to_string(bytes.size()));
  const std::size_t body_end = bytes.size() - kChecksumBytes;
  const auto stored_crc = read_le<std::uint32_t>(data + body_end);
  const bool checksum_ok = crc32_of(data, body_end) == stored_crc;
  const nlohmann::json header = parse_header(path, bytes, header_length, checksum_ok);

  ModelFile file;
  try {
    if (header.at("format").get<std::string>() != kFormatName) fail(path, "header format is not " + std::string(kFormatName));
    if (header.at("version").get<std::uint32_t>() != kModelFileVersion)
      fail(path, "unsupported header version " + header.at("version").dump());
    file.kind = header.at("kind").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("header lacks a required field (") + e.what() + ")");
  }
  if (!expected_kind.empty() && file.kind != expected_kind)
    fail(path, "holds a model of kind '" + file.kind + "', expected '" + std::string(expected_kind) + "'");

  const std::size_t blob_start = kPreambleBytes + header_length;
  const std::size_t blob_bytes = body_end - blob_start;
  std::uint64_t expected_blob_bytes = 0;
  const nlohmann::json& table = header.contains("tensors") ? header["tensors"] : nlohmann::json::array();
  for (const auto& entry : table) {
    file.tensors.push_back(read_tensor(path, entry, data + blob_start, blob_bytes));
    expected_blob_bytes += static_cast<std::uint64_t>(file.tensors.back().value.size()) * 4;
  }
  if (expected_blob_bytes != blob_bytes)
    fail(path, "size mismatch: the tensors need " + std::to_string(expected_blob_bytes) + " bytes but the file holds " +
                   std::to_string(blob_bytes) + " (truncated or padded)");
  if (!checksum_ok) fail(path, "checksum mismatch: the file is corrupt");

  file.header = header;
  for (const char* key : {"format", "version", "kind", "tensors"}) file.header.erase(key);
  return file;
}

void expect_shape(const NamedTensor& tensor, Index rows, Index cols, const std::filesystem::path& path) {
  if (tensor.value.rows() != rows || tensor.value.cols() != cols)
    fail(path, "tensor '" + tensor.name + "' has shape " + shape_string(tensor.value) + ", expected " +
                   shape_string(rows, cols));
}

}  // namespace aisle::io
