#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "aisle/core/error.hpp"
#include "aisle/io/atomic_file.hpp"
#include "aisle/io/fashion_mnist.hpp"
#include "aisle/io/idx.hpp"
#include "classifier.hpp"
#include "commands.hpp"

namespace classify {
namespace {

// A float that reads back to the same bits.
std::string exact(float value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", static_cast<double>(value));
  return buffer;
}

void write_vectors_csv(const std::filesystem::path& path, const aisle::Matrix& vectors) {
  aisle::io::write_file_atomically(path, [&](std::ostream& out) {
    out << "image";
    for (aisle::Index c = 0; c < vectors.cols(); ++c) out << ",e" << c;
    out << "\n";
    for (aisle::Index r = 0; r < vectors.rows(); ++r) {
      out << r;
      for (aisle::Index c = 0; c < vectors.cols(); ++c) out << ',' << exact(vectors(r, c));
      out << "\n";
    }
  });
}

}  // namespace

int run_embed(const EmbedOptions& options, std::ostream& out) {
  const aisle::Sequential model = load_classifier(options.model);
  const auto images = aisle::io::read_idx_images(options.images);
  if (images.rows != aisle::io::kFashionMnistSide || images.cols != aisle::io::kFashionMnistSide)
    throw aisle::Error(options.images.string() + ": images of " + std::to_string(images.rows) + "x" +
                       std::to_string(images.cols) + " pixels; the classifier reads 28x28");
  const aisle::Matrix vectors = penultimate_vectors(model, images.pixels);
  write_vectors_csv(options.out, vectors);
  if (options.json) {
    out << nlohmann::json{{"images", vectors.rows()}, {"dimensions", vectors.cols()}, {"out", options.out.string()}}.dump()
        << std::endl;
  } else {
    out << "wrote " << vectors.rows() << " vectors of " << vectors.cols() << " values to " << options.out.string()
        << std::endl;
  }
  return 0;
}

}  // namespace classify
