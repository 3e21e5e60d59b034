#include "aisle/nn/metrics.hpp"

#include "aisle/core/error.hpp"

namespace aisle {
namespace {

Index argmax(const Eigen::Ref<const RowVector>& row) {
  Index best = 0;
  row.maxCoeff(&best);
  return best;
}

}  // namespace

std::string_view to_string(Metric) { return "accuracy"; }

Metric metric_from_string(std::string_view name) {
  if (name == "accuracy") return Metric::accuracy;
  throw Error("unknown metric '" + std::string(name) + "'");
}

Index count_correct(ConstMatrixRef predictions, const Targets& targets) {
  if (targets.rows() != predictions.rows())
    throw Error("accuracy: " + std::to_string(targets.rows()) + " targets for predictions of shape " +
                shape_string(predictions));
  Index correct = 0;
  if (targets.has_labels()) {
    const Labels& labels = targets.labels();
    for (Index r = 0; r < predictions.rows(); ++r) correct += argmax(predictions.row(r)) == labels(r);
  } else {
    const Matrix& dense = targets.dense();
    for (Index r = 0; r < predictions.rows(); ++r) correct += argmax(predictions.row(r)) == argmax(dense.row(r));
  }
  return correct;
}

float accuracy(ConstMatrixRef predictions, const Targets& targets) {
  if (predictions.rows() == 0) return 0.0f;
  return static_cast<float>(count_correct(predictions, targets)) / static_cast<float>(predictions.rows());
}

}  // namespace aisle
