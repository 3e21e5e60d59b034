#include "aisle/io/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/io/atomic_file.hpp"
#include "core/huge_pages.hpp"

namespace aisle::io {
namespace {

using Bytes = std::vector<std::uint8_t>;
using ByteMatrix = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Large reads go in pieces: gzread takes an unsigned length, and a corrupt
// header must not make us allocate gigabytes before the data shows up. The
// pieces start small and double, so that a short file whose header claims
// much costs little (a fuzzer sends thousands of them).
constexpr std::size_t kChunkBytes = std::size_t{1} << 24;
constexpr std::size_t kFirstChunkBytes = std::size_t{1} << 16;

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw Error("IDX file " + path.string() + ": " + what);
}

std::string hex32(std::uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

std::string magic_name(std::uint32_t magic) {
  if (magic == kIdxImagesMagic) return "an IDX image file";
  if (magic == kIdxLabelsMagic) return "an IDX label file";
  return "not an IDX file of unsigned bytes";
}

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};

// A gzip-compressed or plain file read through zlib, which passes plain files
// through unchanged.
class IdxReader {
 public:
  explicit IdxReader(const std::filesystem::path& path) : path_(path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) fail(path, "no such file");
    if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory, not a file");
    file_.reset(gzopen(path.c_str(), "rb"));
    if (!file_) fail(path, std::string("cannot open: ") + std::generic_category().message(errno));
  }

  const std::filesystem::path& path() const { return path_; }

  // Reads up to size bytes; fewer only where the data ends.
  std::size_t read(std::uint8_t* out, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
      const auto chunk = static_cast<unsigned>(std::min(size - done, kChunkBytes));
      const int got = gzread(file_.get(), out + done, chunk);
      if (got < 0) fail_with_zlib_error();
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    return done;
  }

  std::uint32_t read_u32(const char* what) {
    std::array<std::uint8_t, 4> bytes{};
    if (read(bytes.data(), bytes.size()) != bytes.size())
      fail(path_, std::string("truncated header: the file ends before the ") + what);
    return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) |
           std::uint32_t{bytes[3]};
  }

  // Reads exactly size bytes of data, then checks that nothing follows them.
  // describe() says what the header announced, for the error messages.
  template <class Describe>
  Bytes read_data(std::uint64_t size, Describe describe) {
    Bytes data;
    std::size_t piece = kFirstChunkBytes;
    while (data.size() < size) {
      const std::size_t chunk = std::min<std::uint64_t>(size - data.size(), piece);
      piece = std::min(piece * 2, kChunkBytes);
      const std::size_t start = data.size();
      data.resize(start + chunk);
      const std::size_t got = read(data.data() + start, chunk);
      if (got < chunk)
        fail(path_, "truncated: the header announces " + describe() + " (" + std::to_string(size) +
                        " bytes of data) but the file ends after " + std::to_string(start + got) + " bytes" +
                        zlib_note());
    }
    std::uint8_t extra = 0;
    if (read(&extra, 1) != 0)
      fail(path_, "longer than its header says: data continues after the " + describe() + " it announces");
    return data;
  }

 private:
  [[noreturn]] void fail_with_zlib_error() {
    int code = Z_OK;
    const char* message = gzerror(file_.get(), &code);
    if (code == Z_ERRNO) fail(path_, std::string("read error: ") + std::generic_category().message(errno));
    fail(path_, std::string("corrupt gzip data: ") + (message ? message : "unknown zlib error"));
  }

  // zlib's own word on a short read, e.g. "unexpected end of file" for a cut gzip stream.
  std::string zlib_note() {
    int code = Z_OK;
    const char* message = gzerror(file_.get(), &code);
    if (code == Z_OK || message == nullptr || *message == '\0') return "";
    return std::string(" (gzip: ") + message + ")";
  }

  std::filesystem::path path_;
  std::unique_ptr<gzFile_s, GzCloser> file_;
};

void expect_magic(IdxReader& reader, std::uint32_t expected) {
  const std::uint32_t magic = reader.read_u32("magic number");
  if (magic == expected) return;
  fail(reader.path(), "wrong magic number " + hex32(magic) + ": this is " + magic_name(magic) + ", expected " +
                          magic_name(expected) + " (magic " + hex32(expected) + ")");
}

// The pixel count of count images of rows x cols, refusing sizes no array can hold.
std::uint64_t checked_pixel_count(const std::filesystem::path& path, std::uint32_t count, std::uint32_t rows,
                                  std::uint32_t cols) {
  if (rows == 0 || cols == 0)
    fail(path, "images of " + std::to_string(rows) + "x" + std::to_string(cols) + " pixels: both sides must be positive");
  const std::uint64_t per_image = std::uint64_t{rows} * cols;
  constexpr auto kLimit = static_cast<std::uint64_t>(std::numeric_limits<Index>::max());
  if (per_image > kLimit / std::max<std::uint64_t>(count, 1))
    fail(path, "the header announces " + std::to_string(count) + " images of " + std::to_string(rows) + "x" +
                   std::to_string(cols) + ", more than any array can hold");
  return per_image * count;
}

// Writes an IDX file at `file` (gzip when path ends in ".gz"); errors name path.
struct GzWriter {
  GzWriter(const std::filesystem::path& path, const std::filesystem::path& file) : path_(path) {
    const bool gzip = path.extension() == ".gz";
    // "T" writes through zlib without compressing.
    file_ = gzopen(file.c_str(), gzip ? "wb" : "wbT");
    if (file_ == nullptr) fail(path, std::string("cannot create: ") + std::generic_category().message(errno));
  }
  GzWriter(const GzWriter&) = delete;
  GzWriter& operator=(const GzWriter&) = delete;
  ~GzWriter() {
    if (file_ != nullptr) gzclose(file_);
  }

  void write_u32(std::uint32_t value) {
    const std::array<std::uint8_t, 4> bytes = {static_cast<std::uint8_t>(value >> 24),
                                               static_cast<std::uint8_t>(value >> 16),
                                               static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
    write(bytes.data(), bytes.size());
  }

  void write(const std::uint8_t* data, std::size_t size) {
    while (size > 0) {
      const auto chunk = static_cast<unsigned>(std::min(size, kChunkBytes));
      if (gzwrite(file_, data, chunk) != static_cast<int>(chunk)) fail(path_, "write failed");
      data += chunk;
      size -= chunk;
    }
  }

  void close() {
    const int status = gzclose(file_);
    file_ = nullptr;
    if (status != Z_OK) fail(path_, "write failed while closing (disk full?)");
  }

 private:
  std::filesystem::path path_;
  gzFile file_ = nullptr;
};

std::uint32_t checked_u32(const std::filesystem::path& path, Index value, const char* what) {
  if (value < 0 || static_cast<std::uint64_t>(value) > std::numeric_limits<std::uint32_t>::max())
    fail(path, std::string(what) + " " + std::to_string(value) + " does not fit an IDX header");
  return static_cast<std::uint32_t>(value);
}

std::uint8_t pixel_byte(float value) {
  const float clamped = std::clamp(value, 0.0f, 1.0f);
  return static_cast<std::uint8_t>(clamped * 255.0f + 0.5f);
}

// A NaN pixel has no byte to stand for it: refused, not written as 0.
void check_no_nan(const std::filesystem::path& path, ConstMatrixRef pixels) {
  if (!pixels.array().isNaN().any()) return;
  for (Index r = 0; r < pixels.rows(); ++r)
    for (Index c = 0; c < pixels.cols(); ++c)
      if (std::isnan(pixels(r, c)))
        fail(path, "pixel " + std::to_string(c) + " of image " + std::to_string(r) + " is NaN; nothing was written");
}

}  // namespace

IdxImages read_idx_images(const std::filesystem::path& path) {
  IdxReader reader(path);
  expect_magic(reader, kIdxImagesMagic);
  const std::uint32_t count = reader.read_u32("image count");
  const std::uint32_t rows = reader.read_u32("row count");
  const std::uint32_t cols = reader.read_u32("column count");
  const std::uint64_t pixels = checked_pixel_count(path, count, rows, cols);
  const Bytes data = reader.read_data(pixels, [&] {
    return std::to_string(count) + " images of " + std::to_string(rows) + "x" + std::to_string(cols);
  });

  IdxImages images;
  images.rows = rows;
  images.cols = cols;
  const Index width = images.rows * images.cols;
  images.pixels.resize(count, width);
  // fit reads the training rows in a random order, each row on pages of its
  // own: with 2 MB pages its gather misses the TLB far less often.
  detail::advise_huge_pages(images.pixels.data(), sizeof(float) * static_cast<std::size_t>(images.pixels.size()));
  images.pixels = Eigen::Map<const ByteMatrix>(data.data(), count, width).cast<float>() / 255.0f;
  return images;
}

Labels read_idx_labels(const std::filesystem::path& path) {
  IdxReader reader(path);
  expect_magic(reader, kIdxLabelsMagic);
  const std::uint32_t count = reader.read_u32("label count");
  const Bytes data = reader.read_data(count, [&] { return std::to_string(count) + " labels"; });
  return Eigen::Map<const Eigen::Matrix<std::uint8_t, Eigen::Dynamic, 1>>(data.data(), count).cast<std::int32_t>();
}

LabeledImages read_idx_dataset(const std::filesystem::path& images_path, const std::filesystem::path& labels_path) {
  IdxImages images = read_idx_images(images_path);
  Labels labels = read_idx_labels(labels_path);
  if (images.pixels.rows() != labels.size())
    throw Error("IDX files " + images_path.string() + " and " + labels_path.string() + " disagree: " +
                std::to_string(images.pixels.rows()) + " images but " + std::to_string(labels.size()) + " labels");
  return {std::move(images.pixels), std::move(labels), images.rows, images.cols};
}

void write_idx_images(const std::filesystem::path& path, ConstMatrixRef pixels, Index rows, Index cols) {
  if (pixels.cols() != rows * cols)
    fail(path, "cannot write images of " + std::to_string(rows) + "x" + std::to_string(cols) + " from pixels of shape " +
                   shape_string(pixels));
  check_no_nan(path, pixels);
  const ByteMatrix bytes = pixels.unaryExpr(&pixel_byte);
  write_file_atomically_at(path, [&](const std::filesystem::path& temporary) {
    GzWriter out(path, temporary);
    out.write_u32(kIdxImagesMagic);
    out.write_u32(checked_u32(path, pixels.rows(), "image count"));
    out.write_u32(checked_u32(path, rows, "row count"));
    out.write_u32(checked_u32(path, cols, "column count"));
    out.write(bytes.data(), static_cast<std::size_t>(bytes.size()));
    out.close();
  });
}

void write_idx_labels(const std::filesystem::path& path, ConstLabelsRef labels) {
  if (labels.size() > 0 && (labels.minCoeff() < 0 || labels.maxCoeff() > 255))
    fail(path, "labels must lie in [0, 255] to be written as bytes");
  const Eigen::Matrix<std::uint8_t, Eigen::Dynamic, 1> bytes = labels.cast<std::uint8_t>();
  write_file_atomically_at(path, [&](const std::filesystem::path& temporary) {
    GzWriter out(path, temporary);
    out.write_u32(kIdxLabelsMagic);
    out.write_u32(checked_u32(path, labels.size(), "label count"));
    out.write(bytes.data(), static_cast<std::size_t>(bytes.size()));
    out.close();
  });
}

}  // namespace aisle::io
