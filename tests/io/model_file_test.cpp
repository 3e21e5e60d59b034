#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "aisle/aisle.hpp"

namespace aisle {
namespace {

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("aisle-test-" + std::to_string(::getpid()) + "-" + name);
}

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_.add(Dense(4, Activation::relu, 3));
    model_.add(Dense(2, Activation::softmax));
    model_.compile(Adam(), SparseCategoricalCrossentropy(), {Metric::accuracy});
    model_.save(path_);
    bytes_ = read_bytes(path_);
  }
  void TearDown() override { std::filesystem::remove(path_); }

  // Loading must fail with an aisle::Error whose message contains `expected`.
  void expect_rejected(const std::string& bytes, const std::string& expected) {
    write_bytes(path_, bytes);
    try {
      (void)Sequential::load(path_);
      FAIL() << "loaded a bad file; expected: " << expected;
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(expected), std::string::npos) << message;
      EXPECT_NE(message.find(path_.string()), std::string::npos) << "message should name the file: " << message;
    }
  }

  Sequential model_{{.seed = 3}};
  std::filesystem::path path_ = temp_path("file.model");
  std::string bytes_;
};

TEST_F(ModelFileTest, RoundTripKeepsEveryBit) {
  const io::ModelFile file = io::read_model_file(path_, Sequential::kModelKind);
  EXPECT_EQ(file.kind, "sequential");
  ASSERT_EQ(file.tensors.size(), 4u);
  EXPECT_EQ(file.tensor("layers.0.weight"), *model_.parameters()[0]);
  EXPECT_EQ(file.header.at("dtype"), "float32");
  EXPECT_EQ(file.header.at("optimizer").at("type"), "adam");
}

TEST_F(ModelFileTest, RejectsWrongMagic) {
  std::string bad = bytes_;
  bad[0] = 'X';
  expect_rejected(bad, "wrong magic");
}

TEST_F(ModelFileTest, RejectsUnknownVersion) {
  std::string bad = bytes_;
  bad[8] = 99;  // the little-endian container version follows the magic
  expect_rejected(bad, "unsupported format version 99");
}

TEST_F(ModelFileTest, RejectsTruncation) {
  expect_rejected(bytes_.substr(0, bytes_.size() - 20), "truncated");
  expect_rejected(bytes_.substr(0, 10), "truncated");
}

TEST_F(ModelFileTest, RejectsAFlippedBitInTheWeights) {
  std::string bad = bytes_;
  bad[bad.size() - 10] ^= 0x10;
  expect_rejected(bad, "checksum mismatch");
}

TEST_F(ModelFileTest, RejectsAFlippedBitInTheHeader) {
  std::string bad = bytes_;
  bad[30] ^= 0x01;
  expect_rejected(bad, "checksum mismatch");
}

TEST_F(ModelFileTest, RejectsShapeMismatchWithTheArchitecture) {
  io::ModelFile file = io::read_model_file(path_);
  file.tensors[0].value = Matrix::Zero(3, 5);  // layer 0 has 4 units
  io::write_model_file(path_, file);
  expect_rejected(read_bytes(path_), "expected [3 x 4]");
}

TEST_F(ModelFileTest, RejectsAModelOfAnotherKind) {
  io::ModelFile file = io::read_model_file(path_);
  file.kind = "rec.ease";
  io::write_model_file(path_, file);
  expect_rejected(read_bytes(path_), "kind 'rec.ease'");
}

TEST_F(ModelFileTest, MissingFileIsAClearError) {
  EXPECT_THROW((void)Sequential::load(temp_path("does-not-exist.model")), Error);
}

TEST_F(ModelFileTest, WritesAtomicallyWithoutLeavingTemporaries) {
  model_.save(path_);
  for (const auto& entry : std::filesystem::directory_iterator(path_.parent_path()))
    EXPECT_EQ(entry.path().string().find(path_.filename().string() + ".tmp"), std::string::npos);
  EXPECT_THROW(model_.save("/nonexistent-dir/x.model"), Error);
}

}  // namespace
}  // namespace aisle
