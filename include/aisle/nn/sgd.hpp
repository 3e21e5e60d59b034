#pragma once

#include <vector>

#include "aisle/nn/optimizer.hpp"

namespace aisle {

struct SgdOptions {
  float learning_rate = 0.01f;
  float momentum = 0.0f;
  bool nesterov = false;
};

// velocity = momentum * velocity - lr * g
// param += velocity                               (classic)
// param += momentum * velocity - lr * g           (nesterov)
class SGD final : public Optimizer {
 public:
  explicit SGD(SgdOptions options = {});
  std::string name() const override { return "sgd"; }
  std::unique_ptr<Optimizer> clone() const override { return std::make_unique<SGD>(*this); }
  nlohmann::json config() const override;
  float learning_rate() const override { return options_.learning_rate; }
  void set_learning_rate(float lr) override { options_.learning_rate = lr; }

 private:
  void update(std::size_t slot, Matrix& param, const Matrix& grad) override;
  void reset_state() override { velocity_.clear(); }

  SgdOptions options_;
  std::vector<Matrix> velocity_;
};

}  // namespace aisle
