#pragma once

#include <array>
#include <filesystem>
#include <string_view>

#include "aisle/io/idx.hpp"

namespace aisle::io {

// Fashion-MNIST: 70,000 Zalando product images of 28x28 grey pixels in 10
// classes, as IDX files. Debian's dataset-fashion-mnist package installs it here.
inline constexpr const char* kFashionMnistDefaultDir = "/usr/share/datasets/fashion-mnist";
inline constexpr Index kFashionMnistSide = 28;
inline constexpr Index kFashionMnistPixels = kFashionMnistSide * kFashionMnistSide;
inline constexpr std::array<std::string_view, 10> kFashionMnistClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

// train: 60,000 images ("train-*" files); test: 10,000 ("t10k-*" files).
enum class FashionMnistSet { train, test };

struct FashionMnist {
  LabeledImages train;
  LabeledImages test;
};

// Reads one set from dir, where its files are named as upstream names them
// (e.g. t10k-images-idx3-ubyte.gz), gzip-compressed or not (without ".gz").
// Beyond the IDX checks, it requires 28x28 images and labels in [0, 10).
// Throws aisle::Error naming the folder or file at fault.
LabeledImages load_fashion_mnist(FashionMnistSet set, const std::filesystem::path& dir = kFashionMnistDefaultDir);
FashionMnist load_fashion_mnist(const std::filesystem::path& dir = kFashionMnistDefaultDir);

// The IDX file of a set that load_fashion_mnist reads: "<dir>/<prefix>-<kind>-idx<N>-ubyte.gz",
// or the same without ".gz" when only that exists. kind: "images" or "labels".
std::filesystem::path fashion_mnist_file(const std::filesystem::path& dir, FashionMnistSet set, std::string_view kind);

}  // namespace aisle::io
