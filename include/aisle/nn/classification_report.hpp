#pragma once

#include <vector>

#include "aisle/core/tensor.hpp"

namespace aisle {

// confusion(t, p): the number of samples of true class t predicted as class p.
using ConfusionMatrix = Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct ClassScores {
  float precision = 0;  // of the samples predicted as the class, the share that belong to it
  float recall = 0;     // of the samples of the class, the share predicted as it
  float f1 = 0;         // harmonic mean of precision and recall
  Index support = 0;    // samples of the class
};

// Per-class scores as scikit-learn's classification_report computes them;
// a ratio with nothing to divide by counts as 0.
struct ClassificationReport {
  ConfusionMatrix confusion;
  std::vector<ClassScores> per_class;
  float accuracy = 0;
  ClassScores macro_average;     // unweighted mean over the classes; support = all samples
  ClassScores weighted_average;  // mean weighted by support

  Index classes() const { return confusion.rows(); }
  Index samples() const { return confusion.sum(); }
};

// Throws aisle::Error when the sizes differ or a label lies outside [0, classes).
ConfusionMatrix confusion_matrix(ConstLabelsRef truth, ConstLabelsRef predicted, Index classes);

ClassificationReport classification_report(const ConfusionMatrix& confusion);
ClassificationReport classification_report(ConstLabelsRef truth, ConstLabelsRef predicted, Index classes);

}  // namespace aisle
