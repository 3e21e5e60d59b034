#pragma once

#include <vector>

#include "aisle/nn/optimizer.hpp"

namespace aisle {

struct AdamOptions {
  float learning_rate = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-7f;
  // Decoupled weight decay (AdamW): param -= lr * weight_decay * param.
  float weight_decay = 0.0f;
};

// Adam with bias correction by the step count t (counted once per step, for
// all parameters together):
//   m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
//   param -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
class Adam final : public Optimizer {
 public:
  explicit Adam(AdamOptions options = {});
  std::string name() const override { return "adam"; }
  std::unique_ptr<Optimizer> clone() const override { return std::make_unique<Adam>(*this); }
  nlohmann::json config() const override;
  float learning_rate() const override { return options_.learning_rate; }
  void set_learning_rate(float lr) override { options_.learning_rate = lr; }
  const AdamOptions& options() const { return options_; }

 private:
  // All parameters in one parallel region: the threads split every tensor and
  // go on to the next without waiting.
  void update_all(std::span<Matrix* const> params, std::span<const Matrix* const> grads) override;
  void update(std::size_t slot, Matrix& param, const Matrix& grad) override;
  void size_state(std::size_t slot, const Matrix& param);
  void reset_state() override;

  AdamOptions options_;
  std::vector<Matrix> m_, v_;
};

}  // namespace aisle
