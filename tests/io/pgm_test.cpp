#include "aisle/io/pgm.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "aisle/core/error.hpp"
#include "support/test_files.hpp"

namespace aisle {
namespace {

using test_support::contains;
using test_support::error_message;
using test_support::TempDir;

std::vector<std::uint8_t> binary_pgm(const std::string& header, const std::vector<std::uint8_t>& raster) {
  std::vector<std::uint8_t> bytes(header.begin(), header.end());
  bytes.insert(bytes.end(), raster.begin(), raster.end());
  return bytes;
}

// The message read_pgm throws for a file holding text.
std::string pgm_error(const TempDir& dir, const std::string& text) {
  test_support::write_text(dir / "image.pgm", text);
  return error_message<Error>([&] { io::read_pgm(dir / "image.pgm"); });
}

TEST(PgmTest, ReadsPlainP2WithComments) {
  TempDir dir;
  test_support::write_text(dir / "image.pgm", "P2\n# made by hand\n3 2 # width height\n10\n0 5 10\n# a comment\n 1 2\n3\n");
  const io::PgmImage image = io::read_pgm(dir / "image.pgm");
  EXPECT_EQ(image.width(), 3);
  EXPECT_EQ(image.height(), 2);
  EXPECT_EQ(image.maxval, 10);
  EXPECT_EQ(image.pixels(0, 0), 0.0f);
  EXPECT_EQ(image.pixels(0, 1), 0.5f);
  EXPECT_EQ(image.pixels(0, 2), 1.0f);
  EXPECT_FLOAT_EQ(image.pixels(1, 2), 0.3f);
}

TEST(PgmTest, ReadsBinaryP5) {
  TempDir dir;
  test_support::write_bytes(dir / "image.pgm", binary_pgm("P5 #comment\n2 2\n255\n", {0, 255, 51, 10}));
  const io::PgmImage image = io::read_pgm(dir / "image.pgm");
  EXPECT_EQ(image.width(), 2);
  EXPECT_EQ(image.pixels(0, 1), 1.0f);
  EXPECT_FLOAT_EQ(image.pixels(1, 0), 0.2f);
}

TEST(PgmTest, BinaryRasterMayStartWithAWhitespaceByte) {
  TempDir dir;
  // The raster's first byte is 10, a newline: only one whitespace byte ends the header.
  test_support::write_bytes(dir / "image.pgm", binary_pgm("P5\n2 1\n20\n", {10, 20}));
  const io::PgmImage image = io::read_pgm(dir / "image.pgm");
  EXPECT_EQ(image.pixels(0, 0), 0.5f);
  EXPECT_EQ(image.pixels(0, 1), 1.0f);
}

TEST(PgmTest, SixteenBitSamplesAreBigEndian) {
  TempDir dir;
  test_support::write_bytes(dir / "image.pgm", binary_pgm("P5\n2 1\n65535\n", {0xff, 0xff, 0x80, 0x00}));
  const io::PgmImage image = io::read_pgm(dir / "image.pgm");
  EXPECT_EQ(image.maxval, 65535);
  EXPECT_EQ(image.pixels(0, 0), 1.0f);
  EXPECT_FLOAT_EQ(image.pixels(0, 1), 32768.0f / 65535.0f);

  test_support::write_text(dir / "plain.pgm", "P2 1 1 1000 500");
  EXPECT_EQ(io::read_pgm(dir / "plain.pgm").pixels(0, 0), 0.5f);
}

TEST(PgmTest, BadHeaders) {
  TempDir dir;
  const std::string not_pgm = pgm_error(dir, "P6\n1 1\n255\nabc");
  EXPECT_TRUE(contains(not_pgm, (dir / "image.pgm").string())) << not_pgm;
  EXPECT_TRUE(contains(not_pgm, "not a PGM file")) << not_pgm;
  EXPECT_TRUE(contains(pgm_error(dir, ""), "not a PGM file"));
  EXPECT_TRUE(contains(pgm_error(dir, "P2\n3 x\n255\n"), "expected a number for the height, found 'x'"));
  EXPECT_TRUE(contains(pgm_error(dir, "P2\n3 3\n"), "the file ends before the maxval"));
  EXPECT_TRUE(contains(pgm_error(dir, "P2\n3 3\n0\n"), "maxval 0 is outside 1 to 65535"));
  EXPECT_TRUE(contains(pgm_error(dir, "P2\n3 3\n65536\n"), "maxval 65536"));
  EXPECT_TRUE(contains(pgm_error(dir, "P2\n0 3\n255\n"), "0x3 pixels has no pixels"));
  EXPECT_TRUE(contains(pgm_error(dir, "P2\n100000 100000\n255\n"), "too large"));
  EXPECT_TRUE(contains(pgm_error(dir, "P5\n1 1\n255"), "one whitespace character"));
}

TEST(PgmTest, BadRasters) {
  TempDir dir;
  EXPECT_TRUE(contains(pgm_error(dir, "P2\n2 2\n255\n1 2 3\n"), "ends before the next pixel"));
  EXPECT_TRUE(contains(pgm_error(dir, "P2\n2 1\n9\n1 10\n"), "pixel 1 has value 10, above maxval 9"));
  EXPECT_TRUE(contains(pgm_error(dir, "P2\n2 1\n9\n1 -1\n"), "found '-'"));
  const std::string short_raster = pgm_error(dir, "P5\n2 2\n255\nabc");
  EXPECT_TRUE(contains(short_raster, "truncated: the raster of 2x2 pixels needs 4 bytes, the file has 3")) << short_raster;
  EXPECT_TRUE(contains(pgm_error(dir, "P5\n1 1\n1000\nx"), "needs 2 bytes"));
  test_support::write_bytes(dir / "image.pgm", binary_pgm("P5\n1 1\n100\n", {200}));
  EXPECT_TRUE(contains(error_message<Error>([&] { io::read_pgm(dir / "image.pgm"); }), "above maxval 100"));
}

TEST(PgmTest, MissingFile) {
  TempDir dir;
  const std::string message = error_message<Error>([&] { io::read_pgm(dir / "absent.pgm"); });
  EXPECT_TRUE(contains(message, "absent.pgm: no such file")) << message;
}

TEST(PgmTest, RowOfTheExpectedSize) {
  TempDir dir;
  std::vector<std::uint8_t> raster(28 * 28);
  for (std::size_t i = 0; i < raster.size(); ++i) raster[i] = static_cast<std::uint8_t>(i % 256);
  test_support::write_bytes(dir / "image.pgm", binary_pgm("P5\n28 28\n255\n", raster));
  const Matrix row = io::read_pgm_row(dir / "image.pgm", 28, 28);
  ASSERT_EQ(row.rows(), 1);
  ASSERT_EQ(row.cols(), 784);
  EXPECT_EQ(row(0, 255), 1.0f);
  EXPECT_FLOAT_EQ(row(0, 28 + 2), 30.0f / 255.0f);  // row-major: pixel (1, 2)
}

TEST(PgmTest, OtherSizesAreAClearError) {
  TempDir dir;
  test_support::write_bytes(dir / "image.pgm", binary_pgm("P5\n32 28\n255\n", std::vector<std::uint8_t>(32 * 28)));
  const std::string message = error_message<Error>([&] { io::read_pgm_row(dir / "image.pgm", 28, 28); });
  EXPECT_TRUE(contains(message, "the image is 32x28 pixels, expected 28x28")) << message;
}

}  // namespace
}  // namespace aisle
