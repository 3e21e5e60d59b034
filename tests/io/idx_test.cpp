#include "aisle/io/idx.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/io/fashion_mnist.hpp"
#include "support/test_files.hpp"

namespace aisle {
namespace {

using test_support::contains;
using test_support::error_message;
using test_support::TempDir;
using test_support::write_bytes;

void append_u32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(value >> shift));
}

std::vector<std::uint8_t> image_header(std::uint32_t count, std::uint32_t rows, std::uint32_t cols,
                                       std::uint32_t magic = io::kIdxImagesMagic) {
  std::vector<std::uint8_t> bytes;
  append_u32(bytes, magic);
  append_u32(bytes, count);
  append_u32(bytes, rows);
  append_u32(bytes, cols);
  return bytes;
}

std::vector<std::uint8_t> label_file(const std::vector<std::uint8_t>& labels) {
  std::vector<std::uint8_t> bytes;
  append_u32(bytes, io::kIdxLabelsMagic);
  append_u32(bytes, static_cast<std::uint32_t>(labels.size()));
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

// Pixels whose values are multiples of 1/255, so that writing and reading keeps them exactly.
Matrix byte_exact_pixels(Index count, Index width) {
  Matrix pixels(count, width);
  for (Index i = 0; i < pixels.size(); ++i) pixels.data()[i] = static_cast<float>((i * 37) % 256) / 255.0f;
  return pixels;
}

TEST(IdxTest, ReadsPlainImagesScaledToUnitRange) {
  TempDir dir;
  auto bytes = image_header(2, 2, 3);
  const std::vector<std::uint8_t> pixels = {0, 255, 51, 1, 2, 3, 10, 20, 30, 40, 50, 60};
  bytes.insert(bytes.end(), pixels.begin(), pixels.end());
  write_bytes(dir / "images", bytes);

  const io::IdxImages images = io::read_idx_images(dir / "images");
  EXPECT_EQ(images.rows, 2);
  EXPECT_EQ(images.cols, 3);
  ASSERT_EQ(images.pixels.rows(), 2);
  ASSERT_EQ(images.pixels.cols(), 6);
  EXPECT_EQ(images.pixels(0, 0), 0.0f);
  EXPECT_EQ(images.pixels(0, 1), 1.0f);
  EXPECT_FLOAT_EQ(images.pixels(0, 2), 0.2f);
  EXPECT_FLOAT_EQ(images.pixels(1, 5), 60.0f / 255.0f);
}

TEST(IdxTest, GzipAndPlainImagesRoundTripThroughTheWriter) {
  TempDir dir;
  const Matrix pixels = byte_exact_pixels(5, 12);
  for (const char* name : {"images.gz", "images"}) {
    io::write_idx_images(dir / name, pixels, 3, 4);
    const io::IdxImages images = io::read_idx_images(dir / name);
    EXPECT_EQ(images.rows, 3);
    EXPECT_EQ(images.cols, 4);
    EXPECT_EQ(images.pixels, pixels) << name;
  }
  const auto gz = test_support::read_bytes(dir / "images.gz");
  const auto plain = test_support::read_bytes(dir / "images");
  ASSERT_GE(gz.size(), 2u);
  EXPECT_EQ(gz[0], 0x1f);  // the gzip signature
  EXPECT_EQ(gz[1], 0x8b);
  EXPECT_EQ(plain.size(), 16u + 60u);
}

// The writers replace a file whole or not at all: a refused write leaves the
// old file, a good one replaces it, and no temporary file is left behind.
TEST(IdxTest, WritersReplaceTheFileWholeAndRefuseNanPixels) {
  TempDir dir;
  const auto path = dir / "images.gz";
  const Matrix old_pixels = byte_exact_pixels(2, 4);
  io::write_idx_images(path, old_pixels, 2, 2);
  Matrix bad = byte_exact_pixels(3, 4);
  bad(1, 3) = std::numeric_limits<float>::quiet_NaN();
  const std::string message = error_message<Error>([&] { io::write_idx_images(path, bad, 2, 2); });
  EXPECT_TRUE(contains(message, "pixel 3 of image 1 is NaN")) << message;
  EXPECT_EQ(io::read_idx_images(path).pixels, old_pixels);
  EXPECT_THROW(io::write_idx_images(dir / "absent-folder" / "images.gz", old_pixels, 2, 2), Error);
  // Written in full, then refused at the rename (a folder is in the way):
  // the temporary file goes too.
  std::filesystem::create_directory(dir / "occupied");
  std::filesystem::create_directory(dir / "occupied" / "keep");
  const std::string renaming = error_message<Error>([&] { io::write_idx_images(dir / "occupied", old_pixels, 2, 2); });
  EXPECT_TRUE(contains(renaming, "cannot rename")) << renaming;
  std::filesystem::remove_all(dir / "occupied");

  const Matrix new_pixels = byte_exact_pixels(3, 4);
  io::write_idx_images(path, new_pixels, 2, 2);
  EXPECT_EQ(io::read_idx_images(path).pixels, new_pixels);
  Labels labels(3);
  labels << 4, 0, 9;
  io::write_idx_labels(dir / "labels", labels);
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"images.gz", "labels"}));
}

TEST(IdxTest, GzipAndPlainLabelsRoundTrip) {
  TempDir dir;
  Labels labels(4);
  labels << 9, 0, 3, 255;
  for (const char* name : {"labels.gz", "labels"}) {
    io::write_idx_labels(dir / name, labels);
    EXPECT_EQ(io::read_idx_labels(dir / name), labels) << name;
  }
}

TEST(IdxTest, WrongMagicSaysWhatTheFileIs) {
  TempDir dir;
  write_bytes(dir / "labels", label_file({1, 2, 3}));
  const std::string message = error_message<Error>([&] { io::read_idx_images(dir / "labels"); });
  EXPECT_TRUE(contains(message, (dir / "labels").string())) << message;
  EXPECT_TRUE(contains(message, "wrong magic number 0x00000801")) << message;
  EXPECT_TRUE(contains(message, "label file")) << message;

  write_bytes(dir / "images", image_header(1, 1, 1));
  EXPECT_TRUE(contains(error_message<Error>([&] { io::read_idx_labels(dir / "images"); }), "an IDX image file"));

  write_bytes(dir / "junk", image_header(1, 1, 1, 0x12345678));
  EXPECT_TRUE(contains(error_message<Error>([&] { io::read_idx_images(dir / "junk"); }), "0x12345678"));
}

TEST(IdxTest, WrongMagicInGzipFile) {
  TempDir dir;
  Labels labels(2);
  labels << 1, 2;
  io::write_idx_labels(dir / "labels.gz", labels);
  EXPECT_TRUE(contains(error_message<Error>([&] { io::read_idx_images(dir / "labels.gz"); }), "wrong magic number"));
}

TEST(IdxTest, TruncatedHeader) {
  TempDir dir;
  auto bytes = image_header(3, 28, 28);
  bytes.resize(10);
  write_bytes(dir / "images", bytes);
  const std::string message = error_message<Error>([&] { io::read_idx_images(dir / "images"); });
  EXPECT_TRUE(contains(message, "truncated header")) << message;

  write_bytes(dir / "empty", {});
  EXPECT_TRUE(contains(error_message<Error>([&] { io::read_idx_labels(dir / "empty"); }), "truncated header"));
}

TEST(IdxTest, TruncatedPlainData) {
  TempDir dir;
  auto bytes = image_header(3, 2, 2);
  bytes.resize(bytes.size() + 11);  // one pixel short
  write_bytes(dir / "images", bytes);
  const std::string message = error_message<Error>([&] { io::read_idx_images(dir / "images"); });
  EXPECT_TRUE(contains(message, (dir / "images").string())) << message;
  EXPECT_TRUE(contains(message, "truncated: the header announces 3 images of 2x2 (12 bytes of data)")) << message;
  EXPECT_TRUE(contains(message, "ends after 11 bytes")) << message;

  write_bytes(dir / "labels", label_file({1, 2, 3}));
  auto labels = test_support::read_bytes(dir / "labels");
  labels.pop_back();
  write_bytes(dir / "labels", labels);
  EXPECT_TRUE(contains(error_message<Error>([&] { io::read_idx_labels(dir / "labels"); }), "3 labels"));
}

TEST(IdxTest, TruncatedGzipData) {
  TempDir dir;
  io::write_idx_images(dir / "images.gz", Matrix::Constant(200, 64, 0.5f), 8, 8);
  std::filesystem::resize_file(dir / "images.gz", std::filesystem::file_size(dir / "images.gz") - 10);
  const std::string message = error_message<Error>([&] { io::read_idx_images(dir / "images.gz"); });
  EXPECT_TRUE(contains(message, (dir / "images.gz").string())) << message;
  EXPECT_TRUE(contains(message, "truncated") || contains(message, "corrupt gzip")) << message;
}

TEST(IdxTest, HugeCountInHeaderFailsAsTruncatedWithoutAllocating) {
  TempDir dir;
  auto bytes = image_header(0xffffffffu, 28, 28);
  bytes.resize(bytes.size() + 100);
  write_bytes(dir / "images", bytes);
  EXPECT_TRUE(contains(error_message<Error>([&] { io::read_idx_images(dir / "images"); }), "truncated"));
}

TEST(IdxTest, DataLongerThanTheHeaderSays) {
  TempDir dir;
  write_bytes(dir / "labels", label_file({1, 2, 3}));
  auto bytes = test_support::read_bytes(dir / "labels");
  bytes.push_back(7);
  write_bytes(dir / "labels", bytes);
  EXPECT_TRUE(contains(error_message<Error>([&] { io::read_idx_labels(dir / "labels"); }), "longer than its header"));
}

TEST(IdxTest, ImagesWithoutPixelsAreRefused) {
  TempDir dir;
  write_bytes(dir / "images", image_header(2, 0, 28));
  EXPECT_TRUE(contains(error_message<Error>([&] { io::read_idx_images(dir / "images"); }), "0x28 pixels"));
}

TEST(IdxTest, MissingFileAndFolder) {
  TempDir dir;
  const std::string missing = error_message<Error>([&] { io::read_idx_images(dir / "nope.gz"); });
  EXPECT_TRUE(contains(missing, (dir / "nope.gz").string())) << missing;
  EXPECT_TRUE(contains(missing, "no such file")) << missing;
  EXPECT_TRUE(contains(error_message<Error>([&] { io::read_idx_labels(dir.path()); }), "is a directory"));
}

TEST(IdxTest, DatasetRequiresAsManyLabelsAsImages) {
  TempDir dir;
  io::write_idx_images(dir / "images.gz", byte_exact_pixels(3, 4), 2, 2);
  Labels two(2);
  two << 0, 1;
  io::write_idx_labels(dir / "labels.gz", two);
  const std::string message = error_message<Error>([&] { io::read_idx_dataset(dir / "images.gz", dir / "labels.gz"); });
  EXPECT_TRUE(contains(message, "3 images but 2 labels")) << message;
  EXPECT_TRUE(contains(message, (dir / "labels.gz").string())) << message;

  Labels three(3);
  three << 2, 1, 0;
  io::write_idx_labels(dir / "labels.gz", three);
  const io::LabeledImages data = io::read_idx_dataset(dir / "images.gz", dir / "labels.gz");
  EXPECT_EQ(data.images, byte_exact_pixels(3, 4));
  EXPECT_EQ(data.labels, three);
  EXPECT_EQ(data.rows, 2);
  EXPECT_EQ(data.cols, 2);
}

void write_fashion_set(const TempDir& dir, const std::string& prefix, Index count, const std::string& suffix,
                       Index side = 28) {
  Labels labels(count);
  for (Index i = 0; i < count; ++i) labels(i) = static_cast<std::int32_t>(i % 10);
  io::write_idx_images(dir / (prefix + "-images-idx3-ubyte" + suffix), byte_exact_pixels(count, side * side), side,
                       side);
  io::write_idx_labels(dir / (prefix + "-labels-idx1-ubyte" + suffix), labels);
}

TEST(IdxTest, LoadsAFashionMnistFolderGzipOrPlain) {
  TempDir dir;
  write_fashion_set(dir, "train", 12, ".gz");
  write_fashion_set(dir, "t10k", 5, "");
  const io::FashionMnist data = io::load_fashion_mnist(dir.path());
  EXPECT_EQ(data.train.images.rows(), 12);
  EXPECT_EQ(data.train.images.cols(), 784);
  EXPECT_EQ(data.train.labels.size(), 12);
  EXPECT_EQ(data.test.images.rows(), 5);
  EXPECT_EQ(data.test.labels(4), 4);
  EXPECT_EQ(io::load_fashion_mnist(io::FashionMnistSet::test, dir.path()).images, data.test.images);
}

TEST(IdxTest, FashionMnistFolderFaults) {
  TempDir dir;
  const std::string no_folder = error_message<Error>([&] { io::load_fashion_mnist(dir / "absent"); });
  EXPECT_TRUE(contains(no_folder, "Fashion-MNIST folder")) << no_folder;
  EXPECT_TRUE(contains(no_folder, "does not exist")) << no_folder;

  write_fashion_set(dir, "t10k", 5, ".gz");
  const std::string no_train = error_message<Error>([&] { io::load_fashion_mnist(dir.path()); });
  EXPECT_TRUE(contains(no_train, "train-images-idx3-ubyte.gz: no such file")) << no_train;

  write_fashion_set(dir, "train", 4, ".gz", 27);
  const std::string wrong_size =
      error_message<Error>([&] { io::load_fashion_mnist(io::FashionMnistSet::train, dir.path()); });
  EXPECT_TRUE(contains(wrong_size, "27x27")) << wrong_size;

  Labels eleven(5);
  eleven << 0, 1, 10, 3, 4;
  io::write_idx_labels(dir / "t10k-labels-idx1-ubyte.gz", eleven);
  const std::string bad_label =
      error_message<Error>([&] { io::load_fashion_mnist(io::FashionMnistSet::test, dir.path()); });
  EXPECT_TRUE(contains(bad_label, "label 10 at index 2")) << bad_label;
}

TEST(IdxTest, ClassNames) {
  ASSERT_EQ(io::kFashionMnistClassNames.size(), 10u);
  EXPECT_EQ(io::kFashionMnistClassNames[0], "T-shirt/top");
  EXPECT_EQ(io::kFashionMnistClassNames[9], "Ankle boot");
}

TEST(IdxTest, InstalledFashionMnistTestSet) {
  if (!std::filesystem::exists(io::kFashionMnistDefaultDir)) GTEST_SKIP() << "Fashion-MNIST is not installed";
  const io::LabeledImages test = io::load_fashion_mnist(io::FashionMnistSet::test);
  EXPECT_EQ(test.images.rows(), 10000);
  EXPECT_EQ(test.images.cols(), 784);
  EXPECT_GE(test.images.minCoeff(), 0.0f);
  EXPECT_EQ(test.images.maxCoeff(), 1.0f);
  for (int c = 0; c < 10; ++c) EXPECT_EQ((test.labels.array() == c).count(), 1000) << "class " << c;
}

}  // namespace
}  // namespace aisle
