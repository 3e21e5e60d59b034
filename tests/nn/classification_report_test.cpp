#include "aisle/nn/classification_report.hpp"

#include <gtest/gtest.h>

#include "aisle/core/error.hpp"

namespace aisle {
namespace {

Labels labels(std::initializer_list<std::int32_t> values) {
  Labels out(static_cast<Index>(values.size()));
  Index i = 0;
  for (std::int32_t v : values) out(i++) = v;
  return out;
}

// Worked by hand:
//   truth     0 0 0 1 1 2 2 2 2 0
//   predicted 0 1 0 1 2 2 2 0 0 0
//   confusion [[3 1 0] [0 1 1] [2 0 2]], column sums 5 2 3, row sums 4 2 4
//   class 0: precision 3/5, recall 3/4, F1 2(.6)(.75)/1.35 = 2/3
//   class 1: precision 1/2, recall 1/2, F1 1/2
//   class 2: precision 2/3, recall 2/4, F1 (2/3)/(7/6) = 4/7
//   accuracy 6/10
//   macro:    precision (.6 + .5 + 2/3)/3, recall (.75 + .5 + .5)/3, F1 (2/3 + 1/2 + 4/7)/3
//   weighted: precision (4(.6) + 2(.5) + 4(2/3))/10, recall 6/10, F1 (4(2/3) + 2(1/2) + 4(4/7))/10
TEST(ClassificationReportTest, HandComputedExample) {
  const Labels truth = labels({0, 0, 0, 1, 1, 2, 2, 2, 2, 0});
  const Labels predicted = labels({0, 1, 0, 1, 2, 2, 2, 0, 0, 0});
  const ClassificationReport report = classification_report(truth, predicted, 3);

  ConfusionMatrix expected(3, 3);
  expected << 3, 1, 0, 0, 1, 1, 2, 0, 2;
  EXPECT_EQ(report.confusion, expected);
  EXPECT_EQ(report.classes(), 3);
  EXPECT_EQ(report.samples(), 10);
  ASSERT_EQ(report.per_class.size(), 3u);

  EXPECT_FLOAT_EQ(report.per_class[0].precision, 0.6f);
  EXPECT_FLOAT_EQ(report.per_class[0].recall, 0.75f);
  EXPECT_FLOAT_EQ(report.per_class[0].f1, 2.0f / 3.0f);
  EXPECT_EQ(report.per_class[0].support, 4);
  EXPECT_FLOAT_EQ(report.per_class[1].precision, 0.5f);
  EXPECT_FLOAT_EQ(report.per_class[1].recall, 0.5f);
  EXPECT_FLOAT_EQ(report.per_class[1].f1, 0.5f);
  EXPECT_EQ(report.per_class[1].support, 2);
  EXPECT_FLOAT_EQ(report.per_class[2].precision, 2.0f / 3.0f);
  EXPECT_FLOAT_EQ(report.per_class[2].recall, 0.5f);
  EXPECT_FLOAT_EQ(report.per_class[2].f1, 4.0f / 7.0f);
  EXPECT_EQ(report.per_class[2].support, 4);

  EXPECT_FLOAT_EQ(report.accuracy, 0.6f);
  EXPECT_NEAR(report.macro_average.precision, (0.6f + 0.5f + 2.0f / 3.0f) / 3.0f, 1e-6);
  EXPECT_NEAR(report.macro_average.recall, (0.75f + 0.5f + 0.5f) / 3.0f, 1e-6);
  EXPECT_NEAR(report.macro_average.f1, (2.0f / 3.0f + 0.5f + 4.0f / 7.0f) / 3.0f, 1e-6);
  EXPECT_EQ(report.macro_average.support, 10);
  EXPECT_NEAR(report.weighted_average.precision, (4 * 0.6f + 2 * 0.5f + 4 * 2.0f / 3.0f) / 10.0f, 1e-6);
  EXPECT_NEAR(report.weighted_average.recall, 0.6f, 1e-6);
  EXPECT_NEAR(report.weighted_average.f1, (4 * 2.0f / 3.0f + 2 * 0.5f + 4 * 4.0f / 7.0f) / 10.0f, 1e-6);
}

TEST(ClassificationReportTest, RatiosWithNothingToDivideByAreZero) {
  // Class 1 is predicted once but never true; class 2 appears nowhere.
  const ClassificationReport report = classification_report(labels({0, 0}), labels({0, 1}), 3);
  EXPECT_FLOAT_EQ(report.per_class[0].precision, 1.0f);
  EXPECT_FLOAT_EQ(report.per_class[0].recall, 0.5f);
  EXPECT_EQ(report.per_class[1].precision, 0.0f);
  EXPECT_EQ(report.per_class[1].recall, 0.0f);
  EXPECT_EQ(report.per_class[1].f1, 0.0f);
  EXPECT_EQ(report.per_class[2].support, 0);
  EXPECT_EQ(report.per_class[2].f1, 0.0f);
  EXPECT_FLOAT_EQ(report.accuracy, 0.5f);
}

TEST(ClassificationReportTest, EmptyInputGivesZeros) {
  const ClassificationReport report = classification_report(Labels(), Labels(), 2);
  EXPECT_EQ(report.samples(), 0);
  EXPECT_EQ(report.accuracy, 0.0f);
  EXPECT_EQ(report.macro_average.f1, 0.0f);
}

TEST(ClassificationReportTest, RefusesMismatchedOrOutOfRangeLabels) {
  EXPECT_THROW(confusion_matrix(labels({0, 1}), labels({0}), 2), Error);
  EXPECT_THROW(confusion_matrix(labels({0, 2}), labels({0, 1}), 2), Error);
  EXPECT_THROW(confusion_matrix(labels({0, 1}), labels({0, -1}), 2), Error);
  EXPECT_THROW(confusion_matrix(labels({0}), labels({0}), 0), Error);
  EXPECT_THROW(classification_report(ConfusionMatrix::Zero(2, 3)), Error);
}

}  // namespace
}  // namespace aisle
