#include "aisle/nn/classification_report.hpp"

#include <string>

#include "aisle/core/error.hpp"

namespace aisle {
namespace {

float ratio(Index numerator, Index denominator) {
  return denominator == 0 ? 0.0f : static_cast<float>(numerator) / static_cast<float>(denominator);
}

float harmonic_mean(float a, float b) { return a + b == 0.0f ? 0.0f : 2.0f * a * b / (a + b); }

void check_label(ConstLabelsRef labels, Index i, Index classes, const char* which) {
  if (labels(i) < 0 || labels(i) >= classes)
    throw Error(std::string("classification report: ") + which + " label " + std::to_string(labels(i)) +
                " at index " + std::to_string(i) + " is outside [0, " + std::to_string(classes) + ")");
}

ClassScores scores_of_class(const ConfusionMatrix& confusion, Index c) {
  ClassScores scores;
  const Index hits = confusion(c, c);
  scores.support = confusion.row(c).sum();
  scores.precision = ratio(hits, confusion.col(c).sum());
  scores.recall = ratio(hits, scores.support);
  scores.f1 = harmonic_mean(scores.precision, scores.recall);
  return scores;
}

ClassScores average(const std::vector<ClassScores>& per_class, bool weighted) {
  ClassScores mean;
  double precision = 0, recall = 0, f1 = 0, total_weight = 0;
  for (const ClassScores& s : per_class) {
    const double weight = weighted ? static_cast<double>(s.support) : 1.0;
    precision += weight * s.precision;
    recall += weight * s.recall;
    f1 += weight * s.f1;
    total_weight += weight;
    mean.support += s.support;
  }
  if (total_weight > 0) {
    mean.precision = static_cast<float>(precision / total_weight);
    mean.recall = static_cast<float>(recall / total_weight);
    mean.f1 = static_cast<float>(f1 / total_weight);
  }
  return mean;
}

}  // namespace

ConfusionMatrix confusion_matrix(ConstLabelsRef truth, ConstLabelsRef predicted, Index classes) {
  if (classes <= 0) throw Error("classification report: the class count must be positive");
  if (truth.size() != predicted.size())
    throw Error("classification report: " + std::to_string(truth.size()) + " true labels but " +
                std::to_string(predicted.size()) + " predicted ones");
  ConfusionMatrix confusion = ConfusionMatrix::Zero(classes, classes);
  for (Index i = 0; i < truth.size(); ++i) {
    check_label(truth, i, classes, "true");
    check_label(predicted, i, classes, "predicted");
    ++confusion(truth(i), predicted(i));
  }
  return confusion;
}

ClassificationReport classification_report(const ConfusionMatrix& confusion) {
  if (confusion.rows() != confusion.cols() || confusion.rows() == 0)
    throw Error("classification report: the confusion matrix must be square and not empty, not " +
                shape_string(confusion));
  ClassificationReport report;
  report.confusion = confusion;
  for (Index c = 0; c < confusion.rows(); ++c) report.per_class.push_back(scores_of_class(confusion, c));
  report.accuracy = ratio(confusion.trace(), confusion.sum());
  report.macro_average = average(report.per_class, false);
  report.weighted_average = average(report.per_class, true);
  return report;
}

ClassificationReport classification_report(ConstLabelsRef truth, ConstLabelsRef predicted, Index classes) {
  return classification_report(confusion_matrix(truth, predicted, classes));
}

}  // namespace aisle
