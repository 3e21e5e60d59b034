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
  return loss_registry().make(config.at("type").get<std::string>(), config);
}

namespace {

CrossEntropyOptions cross_entropy_options(const nlohmann::json& config) {
  return {.from_logits = config.value("from_logits", false)};
}

}  // namespace

LossRegistry& loss_registry() {
  static LossRegistry registry = [] {
    LossRegistry losses("loss");
    losses.add("sparse_categorical_crossentropy", [](const nlohmann::json& config) {
      return std::make_unique<SparseCategoricalCrossentropy>(cross_entropy_options(config));
    });
    losses.add("categorical_crossentropy", [](const nlohmann::json& config) {
      return std::make_unique<CategoricalCrossentropy>(cross_entropy_options(config));
    });
    losses.add("mean_squared_error", [](const nlohmann::json&) { return std::make_unique<MeanSquaredError>(); });
    return losses;
  }();
  return registry;
}

}  // namespace aisle
