#include "aisle/io/pgm.hpp"

#include <cctype>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "aisle/core/error.hpp"

namespace aisle::io {
namespace {

// Refuses absurd headers before allocating anything.
constexpr std::uint64_t kMaxSamples = std::uint64_t{1} << 28;

// source: what the bytes are, first in every message ("PGM file x.pgm").
[[noreturn]] void fail(const std::string& source, const std::string& what) { throw Error(source + ": " + what); }

std::string file_source(const std::filesystem::path& path) { return "PGM file " + path.string(); }

std::string read_whole_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(file_source(path), "no such file");
  if (std::filesystem::is_directory(path, ec)) fail(file_source(path), "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(file_source(path), "cannot open");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string printable(char c) {
  if (std::isprint(static_cast<unsigned char>(c))) return std::string("'") + c + "'";
  return "byte " + std::to_string(static_cast<unsigned char>(c));
}

// Walks the bytes of a PGM file: header fields and P2 samples are decimal
// numbers separated by whitespace, and '#' starts a comment up to the line's end.
class PgmCursor {
 public:
  PgmCursor(const std::string& source, std::string_view bytes, std::size_t start)
      : source_(source), bytes_(bytes), pos_(start) {}

  std::size_t remaining() const { return bytes_.size() - pos_; }
  const unsigned char* here() const { return reinterpret_cast<const unsigned char*>(bytes_.data()) + pos_; }

  std::uint32_t number(const char* what) {
    skip_space_and_comments();
    if (pos_ == bytes_.size()) fail(source_, std::string("truncated: the file ends before the ") + what);
    if (!is_digit(bytes_[pos_]))
      fail(source_, std::string("expected a number for the ") + what + ", found " + printable(bytes_[pos_]));
    std::uint64_t value = 0;
    while (pos_ < bytes_.size() && is_digit(bytes_[pos_])) {
      value = value * 10 + static_cast<std::uint64_t>(bytes_[pos_] - '0');
      if (value > 0xffffffffu) fail(source_, std::string("the ") + what + " is too large");
      ++pos_;
    }
    return static_cast<std::uint32_t>(value);
  }

  // In P5, exactly one whitespace character separates maxval from the raster.
  void single_space_before_raster() {
    if (pos_ == bytes_.size() || !is_space(bytes_[pos_]))
      fail(source_, "expected one whitespace character between maxval and the binary raster");
    ++pos_;
  }

 private:
  void skip_space_and_comments() {
    while (pos_ < bytes_.size()) {
      if (is_space(bytes_[pos_])) {
        ++pos_;
      } else if (bytes_[pos_] == '#') {
        while (pos_ < bytes_.size() && bytes_[pos_] != '\n' && bytes_[pos_] != '\r') ++pos_;
      } else {
        return;
      }
    }
  }

  const std::string& source_;
  std::string_view bytes_;
  std::size_t pos_;
};

struct PgmHeader {
  bool binary = false;
  Index width = 0;
  Index height = 0;
  std::uint32_t maxval = 0;
};

PgmHeader read_header(const std::string& source, std::string_view bytes, PgmCursor& cursor) {
  if (bytes.size() < 2 || bytes[0] != 'P' || (bytes[1] != '2' && bytes[1] != '5'))
    fail(source, "not a PGM file: it must start with P2 (plain) or P5 (binary)");
  PgmHeader header;
  header.binary = bytes[1] == '5';
  const std::uint32_t width = cursor.number("width");
  const std::uint32_t height = cursor.number("height");
  header.maxval = cursor.number("maxval");
  if (width == 0 || height == 0)
    fail(source, "an image of " + std::to_string(width) + "x" + std::to_string(height) + " pixels has no pixels");
  if (std::uint64_t{width} * height > kMaxSamples)
    fail(source, "an image of " + std::to_string(width) + "x" + std::to_string(height) + " pixels is too large");
  if (header.maxval == 0 || header.maxval > 65535)
    fail(source, "maxval " + std::to_string(header.maxval) + " is outside 1 to 65535");
  header.width = width;
  header.height = height;
  return header;
}

void check_sample(const std::string& source, std::uint32_t sample, const PgmHeader& header, Index index) {
  if (sample > header.maxval)
    fail(source, "pixel " + std::to_string(index) + " has value " + std::to_string(sample) + ", above maxval " +
                   std::to_string(header.maxval));
}

void read_plain_raster(const std::string& source, const PgmHeader& header, PgmCursor& cursor, Matrix& out) {
  for (Index i = 0; i < out.size(); ++i) {
    const std::uint32_t sample = cursor.number("next pixel");
    check_sample(source, sample, header, i);
    out.data()[i] = static_cast<float>(sample);
  }
}

void read_binary_raster(const std::string& source, const PgmHeader& header, PgmCursor& cursor, Matrix& out) {
  cursor.single_space_before_raster();
  const std::size_t bytes_per_sample = header.maxval > 255 ? 2 : 1;
  const std::size_t needed = static_cast<std::size_t>(out.size()) * bytes_per_sample;
  if (cursor.remaining() < needed)
    fail(source, "truncated: the raster of " + std::to_string(header.width) + "x" + std::to_string(header.height) +
                   " pixels needs " + std::to_string(needed) + " bytes, the file has " +
                   std::to_string(cursor.remaining()));
  const unsigned char* raster = cursor.here();
  for (Index i = 0; i < out.size(); ++i) {
    const unsigned char* p = raster + static_cast<std::size_t>(i) * bytes_per_sample;
    const std::uint32_t sample = bytes_per_sample == 2 ? (std::uint32_t{p[0]} << 8) | p[1] : p[0];
    check_sample(source, sample, header, i);
    out.data()[i] = static_cast<float>(sample);
  }
}

PgmImage parse(const std::string& source, std::string_view bytes) {
  PgmCursor cursor(source, bytes, std::min<std::size_t>(bytes.size(), 2));
  const PgmHeader header = read_header(source, bytes, cursor);
  Matrix samples(header.height, header.width);
  if (header.binary) {
    read_binary_raster(source, header, cursor, samples);
  } else {
    read_plain_raster(source, header, cursor, samples);
  }
  PgmImage image;
  image.maxval = static_cast<int>(header.maxval);
  image.pixels = samples / static_cast<float>(header.maxval);
  return image;
}

Matrix as_row(const std::string& source, const PgmImage& image, Index width, Index height) {
  if (image.width() != width || image.height() != height)
    fail(source, "the image is " + std::to_string(image.width()) + "x" + std::to_string(image.height()) +
                     " pixels, expected " + std::to_string(width) + "x" + std::to_string(height));
  return Eigen::Map<const Matrix>(image.pixels.data(), 1, image.pixels.size());
}

}  // namespace

PgmImage read_pgm(const std::filesystem::path& path) { return parse(file_source(path), read_whole_file(path)); }

PgmImage parse_pgm(std::string_view bytes, std::string_view source) { return parse("PGM image " + std::string(source), bytes); }

Matrix read_pgm_row(const std::filesystem::path& path, Index width, Index height) {
  return as_row(file_source(path), read_pgm(path), width, height);
}

Matrix parse_pgm_row(std::string_view bytes, std::string_view source, Index width, Index height) {
  return as_row("PGM image " + std::string(source), parse_pgm(bytes, source), width, height);
}

}  // namespace aisle::io
