#include "report.hpp"

#include <cmath>
#include <iomanip>
#include <ostream>

#include "aisle/io/fashion_mnist.hpp"

namespace classify {
namespace {

std::string class_name(int index) { return std::string(aisle::io::kFashionMnistClassNames.at(static_cast<std::size_t>(index))); }

// Floats rounded to 6 decimals, so that JSON shows 0.8861 rather than the
// double nearest the float, 0.88609999418258667.
double rounded(double value) { return std::round(value * 1e6) / 1e6; }

std::optional<float> last_value(const aisle::History& history, const std::string& name) {
  const auto it = history.values.find(name);
  if (it == history.values.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

nlohmann::json optional_number(std::optional<float> value) {
  return value ? nlohmann::json(rounded(*value)) : nlohmann::json(nullptr);
}

nlohmann::json scores_json(const aisle::ClassScores& scores) {
  return {{"precision", rounded(scores.precision)},
          {"recall", rounded(scores.recall)},
          {"f1", rounded(scores.f1)},
          {"support", scores.support}};
}

void print_scores_row(std::ostream& out, const std::string& name, const aisle::ClassScores& scores) {
  out << "  " << std::left << std::setw(14) << name << std::right << std::fixed << std::setprecision(4)
      << std::setw(10) << scores.precision << std::setw(9) << scores.recall << std::setw(9) << scores.f1
      << std::setw(9) << scores.support << "\n";
}

void print_per_class(std::ostream& out, const aisle::ClassificationReport& report) {
  out << "  " << std::left << std::setw(14) << "class" << std::right << std::setw(10) << "precision" << std::setw(9)
      << "recall" << std::setw(9) << "f1" << std::setw(9) << "support" << "\n";
  for (std::size_t c = 0; c < report.per_class.size(); ++c)
    print_scores_row(out, class_name(static_cast<int>(c)), report.per_class[c]);
  print_scores_row(out, "macro avg", report.macro_average);
  print_scores_row(out, "weighted avg", report.weighted_average);
}

void print_confusion(std::ostream& out, const aisle::ConfusionMatrix& confusion) {
  out << "confusion matrix (rows: true class, columns: predicted class)\n";
  out << std::string(16, ' ');
  for (aisle::Index c = 0; c < confusion.cols(); ++c) out << std::setw(6) << c;
  out << "\n";
  for (aisle::Index r = 0; r < confusion.rows(); ++r) {
    out << "  " << r << " " << std::left << std::setw(12) << class_name(static_cast<int>(r)) << std::right;
    for (aisle::Index c = 0; c < confusion.cols(); ++c) out << std::setw(6) << confusion(r, c);
    out << "\n";
  }
}

}  // namespace

void print_train_text(std::ostream& out, const TrainSummary& summary) {
  out << std::fixed << std::setprecision(4) << "test accuracy " << summary.test.metrics.at("accuracy") << "  loss "
      << summary.test.loss << " on " << summary.test_samples << " images; " << summary.history.epochs_run()
      << " epochs in " << std::setprecision(1) << summary.train_seconds << " s\n"
      << "model saved to " << summary.model.string() << "\n";
}

nlohmann::json train_json(const TrainSummary& summary) {
  return {{"final", true},
          {"epochs", summary.history.epochs_run()},
          {"train_seconds", rounded(summary.train_seconds)},
          {"loss", optional_number(last_value(summary.history, "loss"))},
          {"accuracy", optional_number(last_value(summary.history, "accuracy"))},
          {"val_loss", optional_number(last_value(summary.history, "val_loss"))},
          {"val_accuracy", optional_number(last_value(summary.history, "val_accuracy"))},
          {"test_loss", rounded(summary.test.loss)},
          {"test_accuracy", rounded(summary.test.metrics.at("accuracy"))},
          {"test_samples", summary.test_samples},
          {"model", summary.model.string()}};
}

void print_eval_text(std::ostream& out, const EvalSummary& summary) {
  out << "model " << summary.model.string() << " on " << summary.report.samples() << " test images\n"
      << std::fixed << std::setprecision(4) << "accuracy " << summary.report.accuracy << "  loss " << summary.loss
      << "\n\n";
  print_per_class(out, summary.report);
  out << "\n";
  print_confusion(out, summary.report.confusion);
}

nlohmann::json eval_json(const EvalSummary& summary) {
  const aisle::ClassificationReport& report = summary.report;
  nlohmann::json per_class = nlohmann::json::array();
  for (std::size_t c = 0; c < report.per_class.size(); ++c) {
    nlohmann::json entry = {{"class", c}, {"name", class_name(static_cast<int>(c))}};
    entry.update(scores_json(report.per_class[c]));
    per_class.push_back(std::move(entry));
  }
  nlohmann::json confusion = nlohmann::json::array();
  for (aisle::Index r = 0; r < report.confusion.rows(); ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (aisle::Index c = 0; c < report.confusion.cols(); ++c) row.push_back(report.confusion(r, c));
    confusion.push_back(std::move(row));
  }
  return {{"model", summary.model.string()},
          {"samples", report.samples()},
          {"accuracy", rounded(report.accuracy)},
          {"loss", rounded(summary.loss)},
          {"per_class", std::move(per_class)},
          {"macro_avg", scores_json(report.macro_average)},
          {"weighted_avg", scores_json(report.weighted_average)},
          {"confusion", std::move(confusion)}};
}

void print_predict_text(std::ostream& out, const PredictSummary& summary) {
  out << summary.source;
  if (summary.label) out << " (true class: " << class_name(*summary.label) << ")";
  out << "\n";
  for (std::size_t i = 0; i < summary.top.size(); ++i)
    out << "  " << i + 1 << ". " << std::left << std::setw(12) << class_name(summary.top[i].index) << std::right
        << std::fixed << std::setprecision(2) << std::setw(7) << summary.top[i].probability * 100.0f << "%\n";
}

nlohmann::json predict_json(const PredictSummary& summary) {
  nlohmann::json top = nlohmann::json::array();
  for (const RankedClass& ranked : summary.top)
    top.push_back({{"class", ranked.index}, {"name", class_name(ranked.index)}, {"probability", rounded(ranked.probability)}});
  nlohmann::json result = {{"source", summary.source}, {"top", std::move(top)}};
  if (summary.label) {
    result["label"] = *summary.label;
    result["label_name"] = class_name(*summary.label);
  }
  return result;
}

}  // namespace classify
