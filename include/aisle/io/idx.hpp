#pragma once

#include <cstdint>
#include <filesystem>

#include "aisle/core/tensor.hpp"

namespace aisle::io {

// IDX, the file format of MNIST and Fashion-MNIST: a big-endian header (a
// magic number, then one u32 per dimension) followed by unsigned bytes.
// Files may be gzip-compressed or plain; readers tell them apart by content.
inline constexpr std::uint32_t kIdxImagesMagic = 0x00000803;  // ubyte data, 3 dims: count, rows, cols
inline constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;  // ubyte data, 1 dim: count

struct IdxImages {
  Matrix pixels;  // [count x rows*cols], each image's rows one after another, scaled to [0, 1]
  Index rows = 0;
  Index cols = 0;
};

// An image file and its label file, checked to hold the same number of samples.
struct LabeledImages {
  Matrix images;  // [count x rows*cols] in [0, 1]
  Labels labels;  // [count]
  Index rows = 0;
  Index cols = 0;
};

// Each reader validates the magic number, the dimensions and the data size
// (neither truncated nor longer than the header says) and throws aisle::Error
// naming the file and the fault.
IdxImages read_idx_images(const std::filesystem::path& path);
Labels read_idx_labels(const std::filesystem::path& path);
LabeledImages read_idx_dataset(const std::filesystem::path& images_path, const std::filesystem::path& labels_path);

// Writers, gzip-compressed when the path ends in ".gz", plain otherwise: for
// making small data sets (tests, demos). Pixels are clamped to [0, 1] and
// rounded to bytes (a NaN pixel is an error); labels must lie in [0, 255].
// Written through write_file_atomically_at (atomic_file.hpp): a failed write
// never leaves half a file at path.
void write_idx_images(const std::filesystem::path& path, ConstMatrixRef pixels, Index rows, Index cols);
void write_idx_labels(const std::filesystem::path& path, ConstLabelsRef labels);

}  // namespace aisle::io
