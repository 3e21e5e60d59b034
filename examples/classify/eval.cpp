#include <iostream>

#include "aisle/io/fashion_mnist.hpp"
#include "classifier.hpp"
#include "commands.hpp"
#include "report.hpp"

namespace classify {

int run_eval(const EvalOptions& options, std::ostream& out) {
  const aisle::Sequential model = load_classifier(options.model);
  const aisle::io::LabeledImages test = aisle::io::load_fashion_mnist(aisle::io::FashionMnistSet::test, options.data);

  EvalSummary summary;
  summary.model = options.model;
  summary.loss = model.evaluate(test.images, test.labels).loss;
  const auto classes = static_cast<aisle::Index>(aisle::io::kFashionMnistClassNames.size());
  summary.report = aisle::classification_report(test.labels, model.predict_classes(test.images), classes);

  if (options.json) {
    out << eval_json(summary).dump() << std::endl;
  } else {
    print_eval_text(out, summary);
  }
  return 0;
}

}  // namespace classify
