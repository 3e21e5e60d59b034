#pragma once

#include <filesystem>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aisle/nn/classification_report.hpp"
#include "aisle/nn/sequential.hpp"
#include "classifier.hpp"

// How the subcommands' results look: plain text for people, JSON for programs.
namespace classify {

struct TrainSummary {
  std::filesystem::path model;
  aisle::History history;
  double train_seconds = 0;  // fit's wall time, validation included
  aisle::Evaluation test;
  aisle::Index test_samples = 0;
};

struct EvalSummary {
  std::filesystem::path model;
  float loss = 0;
  aisle::ClassificationReport report;
};

struct PredictSummary {
  std::string source;            // "test image 42" or the PGM's path
  std::optional<int> label;      // the true class, when known
  std::vector<RankedClass> top;  // most probable first
};

void print_train_text(std::ostream& out, const TrainSummary& summary);
nlohmann::json train_json(const TrainSummary& summary);

void print_eval_text(std::ostream& out, const EvalSummary& summary);
nlohmann::json eval_json(const EvalSummary& summary);

void print_predict_text(std::ostream& out, const PredictSummary& summary);
nlohmann::json predict_json(const PredictSummary& summary);

}  // namespace classify
