#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "aisle/core/registry.hpp"
#include "aisle/core/tensor.hpp"

namespace aisle {

// Updates parameters from their gradients. One step() call is one training
// step for all parameters together; state (moments) is kept per parameter
// position and sized on first use.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;
  virtual std::unique_ptr<Optimizer> clone() const = 0;
  virtual nlohmann::json config() const = 0;
  static std::unique_ptr<Optimizer> from_config(const nlohmann::json& config);

  // params[i] -= update(grads[i]). Throws aisle::Error on a shape mismatch.
  void step(std::span<Matrix* const> params, std::span<const Matrix* const> grads);
  // Steps taken so far.
  long long iterations() const { return iterations_; }
  // Drops moments and the step count.
  void reset();

  virtual float learning_rate() const = 0;
  virtual void set_learning_rate(float lr) = 0;

 protected:
  // One step for every parameter; by default update() slot by slot.
  virtual void update_all(std::span<Matrix* const> params, std::span<const Matrix* const> grads);
  virtual void update(std::size_t slot, Matrix& param, const Matrix& grad) = 0;
  virtual void reset_state() = 0;

 private:
  long long iterations_ = 0;
};

using OptimizerRegistry = Registry<Optimizer, const nlohmann::json&>;

// Optimizers by the "type" of their config: adam, sgd, and any registered since.
OptimizerRegistry& optimizer_registry();

}  // namespace aisle
