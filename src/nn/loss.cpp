#include "aisle/nn/loss.hpp"

#include "aisle/core/error.hpp"
#include "aisle/nn/cross_entropy.hpp"
#include "aisle/nn/functional.hpp"
#include "aisle/nn/mean_squared_error.hpp"

namespace aisle {

void Loss::check_targets(ConstMatrixRef predictions, const Targets& targets) const {
  if (targets.rows() != predictions.rows())
    throw Error(name() + ": " + std::to_string(targets.rows()) + " targets for predictions of shape " +
                shape_string(predictions));
  if (wants_labels()) {
    const Labels& labels = targets.labels();
    for (Index i = 0; i < labels.size(); ++i)
      if (labels(i) < 0 || labels(i) >= predictions.cols())
        throw Error(name() + ": label " + std::to_string(labels(i)) + " at row " + std::to_string(i) +
                    " is outside [0, " + std::to_string(predictions.cols()) + ")");
  } else if (targets.dense().cols() != predictions.cols()) {
    throw Error(name() + ": targets of shape " + shape_string(targets.dense()) + " for predictions of shape " +
                shape_string(predictions));
  }
}

float Loss::value(ConstMatrixRef predictions, const Targets& targets) const {
  check_targets(predictions, targets);
  return value_impl(predictions, targets);
}

void Loss::gradient(ConstMatrixRef predictions, const Targets& targets, Matrix& grad) const {
  check_targets(predictions, targets);
  gradient_impl(predictions, targets, grad);
}

float Loss::value_from_logits(ConstMatrixRef logits, const Targets& targets) const {
  check_targets(logits, targets);
  return value_from_logits_impl(logits, targets);
}

void Loss::gradient_from_logits(ConstMatrixRef logits, const Targets& targets, Matrix& grad) const {
  check_targets(logits, targets);
  gradient_from_logits_impl(logits, targets, grad);
}

float Loss::value_from_logits_impl(ConstMatrixRef, const Targets&) const {
  throw Error(name() + " cannot be computed from logits");
}

void Loss::gradient_from_logits_impl(ConstMatrixRef, const Targets&, Matrix&) const {
  throw Error(name() + " cannot be computed from logits");
}

std::unique_ptr<Loss> Loss::from_config(const nlohmann::json& config) {
  const std::string type = config.at("type").get<std::string>();
  const CrossEntropyOptions ce{.from_logits = config.value("from_logits", false)};
  if (type == "sparse_categorical_crossentropy") return std::make_unique<SparseCategoricalCrossentropy>(ce);
  if (type == "categorical_crossentropy") return std::make_unique<CategoricalCrossentropy>(ce);
  if (type == "mean_squared_error") return std::make_unique<MeanSquaredError>();
  throw Error("unknown loss '" + type + "'");
}

}  // namespace aisle
