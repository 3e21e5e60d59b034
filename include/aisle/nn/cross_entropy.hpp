#pragma once

#include "aisle/nn/loss.hpp"

namespace aisle {

struct CrossEntropyOptions {
  // true: the model outputs raw scores (no softmax layer at the end).
  bool from_logits = false;
};

// -log p[label], p = the model's probabilities (or softmax of its logits).
// Probabilities are clamped to [1e-7, 1] as Keras does; with from_logits, or
// when fused with a final softmax, the value uses log-sum-exp instead.
class SparseCategoricalCrossentropy final : public Loss {
 public:
  explicit SparseCategoricalCrossentropy(CrossEntropyOptions options = {}) : options_(options) {}
  std::string name() const override { return "sparse_categorical_crossentropy"; }
  std::unique_ptr<Loss> clone() const override { return std::make_unique<SparseCategoricalCrossentropy>(*this); }
  nlohmann::json config() const override;
  bool fuses_with_softmax() const override { return !options_.from_logits; }

 private:
  bool wants_labels() const override { return true; }
  float value_impl(ConstMatrixRef predictions, const Targets& targets) const override;
  void gradient_impl(ConstMatrixRef predictions, const Targets& targets, Matrix& grad) const override;
  float value_from_logits_impl(ConstMatrixRef logits, const Targets& targets) const override;
  void gradient_from_logits_impl(ConstMatrixRef logits, const Targets& targets, Matrix& grad) const override;

  CrossEntropyOptions options_;
};

// -sum_j t_j log p_j with one-hot (or probability) target rows.
class CategoricalCrossentropy final : public Loss {
 public:
  explicit CategoricalCrossentropy(CrossEntropyOptions options = {}) : options_(options) {}
  std::string name() const override { return "categorical_crossentropy"; }
  std::unique_ptr<Loss> clone() const override { return std::make_unique<CategoricalCrossentropy>(*this); }
  nlohmann::json config() const override;
  bool fuses_with_softmax() const override { return !options_.from_logits; }

 private:
  float value_impl(ConstMatrixRef predictions, const Targets& targets) const override;
  void gradient_impl(ConstMatrixRef predictions, const Targets& targets, Matrix& grad) const override;
  float value_from_logits_impl(ConstMatrixRef logits, const Targets& targets) const override;
  void gradient_from_logits_impl(ConstMatrixRef logits, const Targets& targets, Matrix& grad) const override;

  CrossEntropyOptions options_;
};

}  // namespace aisle
