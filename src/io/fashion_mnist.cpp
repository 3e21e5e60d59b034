#include "aisle/io/fashion_mnist.hpp"

#include <string>

#include "aisle/core/error.hpp"

namespace aisle::io {
namespace {

std::string_view prefix(FashionMnistSet set) { return set == FashionMnistSet::train ? "train" : "t10k"; }

void expect_folder(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec))
    throw Error("Fashion-MNIST folder " + dir.string() + " does not exist");
  if (!std::filesystem::is_directory(dir, ec))
    throw Error("Fashion-MNIST folder " + dir.string() + " is not a folder");
}

void check_fashion_shape(const LabeledImages& set, const std::filesystem::path& images_path) {
  if (set.rows != kFashionMnistSide || set.cols != kFashionMnistSide)
    throw Error("IDX file " + images_path.string() + ": images of " + std::to_string(set.rows) + "x" +
                std::to_string(set.cols) + " pixels, Fashion-MNIST images are 28x28");
}

void check_fashion_labels(const LabeledImages& set, const std::filesystem::path& labels_path) {
  const auto classes = static_cast<std::int32_t>(kFashionMnistClassNames.size());
  for (Index i = 0; i < set.labels.size(); ++i) {
    if (set.labels(i) >= classes)
      throw Error("IDX file " + labels_path.string() + ": label " + std::to_string(set.labels(i)) + " at index " +
                  std::to_string(i) + " is not a Fashion-MNIST class (0 to 9)");
  }
}

}  // namespace

std::filesystem::path fashion_mnist_file(const std::filesystem::path& dir, FashionMnistSet set,
                                         std::string_view kind) {
  const std::string dims = kind == "images" ? "idx3" : "idx1";
  const std::string plain = std::string(prefix(set)) + "-" + std::string(kind) + "-" + dims + "-ubyte";
  const std::filesystem::path gzip = dir / (plain + ".gz");
  std::error_code ec;
  if (std::filesystem::exists(gzip, ec) || !std::filesystem::exists(dir / plain, ec)) return gzip;
  return dir / plain;
}

LabeledImages load_fashion_mnist(FashionMnistSet set, const std::filesystem::path& dir) {
  expect_folder(dir);
  const auto images_path = fashion_mnist_file(dir, set, "images");
  const auto labels_path = fashion_mnist_file(dir, set, "labels");
  LabeledImages data = read_idx_dataset(images_path, labels_path);
  check_fashion_shape(data, images_path);
  check_fashion_labels(data, labels_path);
  return data;
}

FashionMnist load_fashion_mnist(const std::filesystem::path& dir) {
  return {load_fashion_mnist(FashionMnistSet::train, dir), load_fashion_mnist(FashionMnistSet::test, dir)};
}

}  // namespace aisle::io
