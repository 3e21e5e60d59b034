#include <iostream>
#include <string>

#include "aisle/io/fashion_mnist.hpp"
#include "aisle/io/pgm.hpp"
#include "cli_arguments.hpp"
#include "classifier.hpp"
#include "commands.hpp"
#include "report.hpp"

namespace classify {
namespace {

constexpr std::size_t kTopClasses = 3;

// Image N of the test set, with its label.
aisle::Matrix test_image(const PredictOptions& options, PredictSummary& summary) {
  const aisle::io::LabeledImages test = aisle::io::load_fashion_mnist(aisle::io::FashionMnistSet::test, options.data);
  const aisle::Index index = *options.index;
  if (index >= test.images.rows())
    throw aisle_cli::UsageError{"predict: --index " + std::to_string(index) + " is beyond the test set, which has " +
                                std::to_string(test.images.rows()) + " images (0 to " +
                                std::to_string(test.images.rows() - 1) + ")"};
  summary.source = "test image " + std::to_string(index);
  summary.label = test.labels(index);
  return test.images.row(index);
}

aisle::Matrix pgm_image(const std::filesystem::path& path, PredictSummary& summary) {
  summary.source = path.string();
  return aisle::io::read_pgm_row(path, aisle::io::kFashionMnistSide, aisle::io::kFashionMnistSide);
}

}  // namespace

int run_predict(const PredictOptions& options, std::ostream& out) {
  const aisle::Sequential model = load_classifier(options.model);
  PredictSummary summary;
  const aisle::Matrix image = options.image ? pgm_image(*options.image, summary) : test_image(options, summary);
  summary.top = top_classes(class_probabilities(model, image).row(0), kTopClasses);

  if (options.json) {
    out << predict_json(summary).dump() << std::endl;
  } else {
    print_predict_text(out, summary);
  }
  return 0;
}

}  // namespace classify
