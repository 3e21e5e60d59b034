#pragma once

#include "aisle/nn/loss.hpp"

namespace aisle {

// mean over all elements of (prediction - target)^2.
class MeanSquaredError final : public Loss {
 public:
  std::string name() const override { return "mean_squared_error"; }
  std::unique_ptr<Loss> clone() const override { return std::make_unique<MeanSquaredError>(*this); }
  nlohmann::json config() const override { return {{"type", name()}}; }

 private:
  float value_impl(ConstMatrixRef predictions, const Targets& targets) const override;
  void gradient_impl(ConstMatrixRef predictions, const Targets& targets, Matrix& grad) const override;
};

}  // namespace aisle
