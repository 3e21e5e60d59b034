#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "aisle/core/registry.hpp"
#include "aisle/core/tensor.hpp"
#include "aisle/nn/targets.hpp"

namespace aisle {

// A loss averaged over the batch. value and gradient take the model output;
// the gradient is d(mean loss)/d(output).
class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string name() const = 0;
  virtual std::unique_ptr<Loss> clone() const = 0;
  virtual nlohmann::json config() const = 0;
  static std::unique_ptr<Loss> from_config(const nlohmann::json& config);

  float value(ConstMatrixRef predictions, const Targets& targets) const;
  void gradient(ConstMatrixRef predictions, const Targets& targets, Matrix& grad) const;

  // Cross-entropy on softmax output can be computed from the logits instead:
  // log-sum-exp for the value and softmax - target for the gradient, finite
  // for any logits. Sequential uses this when the model ends in softmax.
  virtual bool fuses_with_softmax() const { return false; }
  float value_from_logits(ConstMatrixRef logits, const Targets& targets) const;
  void gradient_from_logits(ConstMatrixRef logits, const Targets& targets, Matrix& grad) const;

 protected:
  virtual float value_impl(ConstMatrixRef predictions, const Targets& targets) const = 0;
  virtual void gradient_impl(ConstMatrixRef predictions, const Targets& targets, Matrix& grad) const = 0;
  virtual float value_from_logits_impl(ConstMatrixRef logits, const Targets& targets) const;
  virtual void gradient_from_logits_impl(ConstMatrixRef logits, const Targets& targets, Matrix& grad) const;

  void check_targets(ConstMatrixRef predictions, const Targets& targets) const;
  virtual bool wants_labels() const { return false; }
};

using LossRegistry = Registry<Loss, const nlohmann::json&>;

// Losses by the "type" of their config: sparse_categorical_crossentropy,
// categorical_crossentropy, mean_squared_error, and any registered since.
LossRegistry& loss_registry();

}  // namespace aisle
