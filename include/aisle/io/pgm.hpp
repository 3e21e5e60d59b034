#pragma once

#include <filesystem>
#include <string_view>

#include "aisle/core/tensor.hpp"

namespace aisle::io {

// A grey image from a PGM file (netpbm "P2" plain text or "P5" binary;
// comments allowed; maxval up to 65535, two big-endian bytes per sample in P5
// when it exceeds 255).
struct PgmImage {
  Matrix pixels;  // [height x width], value / maxval in [0, 1]
  int maxval = 0;
  Index width() const { return pixels.cols(); }
  Index height() const { return pixels.rows(); }
};

// Throws aisle::Error naming the file and the fault: a bad or truncated
// header, a sample above maxval, a truncated raster.
PgmImage read_pgm(const std::filesystem::path& path);

// The image as one model input row [1 x width*height] in [0, 1]; an image of
// any other size is an aisle::Error that gives both sizes.
Matrix read_pgm_row(const std::filesystem::path& path, Index width, Index height);

// The same from bytes already in memory (an HTTP request's body); source
// names them in errors ("PGM image <source>: ...").
PgmImage parse_pgm(std::string_view bytes, std::string_view source);
Matrix parse_pgm_row(std::string_view bytes, std::string_view source, Index width, Index height);

}  // namespace aisle::io
