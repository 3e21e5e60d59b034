#include "aisle/nn/optimizer.hpp"


#include <cmath>

#include "aisle/core/error.hpp"
#include "aisle/nn/adam.hpp"
#include "aisle/nn/sgd.hpp"
#include "backend/adam_kernel.hpp"
#include "nn/adam_step.hpp"
#include "core/parallel_for.hpp"

namespace aisle {
namespace {
constexpr Index kParallelThreshold = 1 << 14;
}  // namespace

void Optimizer::step(std::span<Matrix* const> params, std::span<const Matrix* const> grads) {
  if (params.size() != grads.size())
    throw Error(name() + ": " + std::to_string(params.size()) + " parameters but " + std::to_string(grads.size()) +
                " gradients");
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i]->rows() != grads[i]->rows() || params[i]->cols() != grads[i]->cols())
      throw Error(name() + ": parameter " + std::to_string(i) + " has shape " + shape_string(*params[i]) +
                  " but its gradient " + shape_string(*grads[i]));
  ++iterations_;
  update_all(params, grads);
}

void Optimizer::update_all(std::span<Matrix* const> params, std::span<const Matrix* const> grads) {
  for (std::size_t i = 0; i < params.size(); ++i) update(i, *params[i], *grads[i]);
}

void Optimizer::reset() {
  iterations_ = 0;
  reset_state();
}

std::unique_ptr<Optimizer> Optimizer::from_config(const nlohmann::json& config) {
  return optimizer_registry().make(config.at("type").get<std::string>(), config);
}

OptimizerRegistry& optimizer_registry() {
  static OptimizerRegistry registry = [] {
    OptimizerRegistry optimizers("optimizer");
    optimizers.add("adam", [](const nlohmann::json& config) {
      return std::make_unique<Adam>(AdamOptions{.learning_rate = config.at("learning_rate").get<float>(),
                                                .beta1 = config.at("beta1").get<float>(),
                                                .beta2 = config.at("beta2").get<float>(),
                                                .epsilon = config.at("epsilon").get<float>(),
                                                .weight_decay = config.value("weight_decay", 0.0f)});
    });
    optimizers.add("sgd", [](const nlohmann::json& config) {
      return std::make_unique<SGD>(SgdOptions{.learning_rate = config.at("learning_rate").get<float>(),
                                              .momentum = config.value("momentum", 0.0f),
                                              .nesterov = config.value("nesterov", false)});
    });
    return optimizers;
  }();
  return registry;
}

Adam::Adam(AdamOptions options) : options_(options) {
  if (!(options_.learning_rate > 0)) throw Error("Adam: learning_rate must be positive");
  if (!(options_.beta1 >= 0 && options_.beta1 < 1) || !(options_.beta2 >= 0 && options_.beta2 < 1))
    throw Error("Adam: beta1 and beta2 must lie in [0, 1)");
  if (!(options_.epsilon > 0)) throw Error("Adam: epsilon must be positive");
  if (!(options_.weight_decay >= 0)) throw Error("Adam: weight_decay must not be negative");
}

nlohmann::json Adam::config() const {
  return {{"type", name()},           {"learning_rate", options_.learning_rate}, {"beta1", options_.beta1},
          {"beta2", options_.beta2}, {"epsilon", options_.epsilon},             {"weight_decay", options_.weight_decay}};
}

void Adam::size_state(std::size_t slot, const Matrix& param) {
  if (m_.size() <= slot) {
    m_.resize(slot + 1);
    v_.resize(slot + 1);
  }
  if (m_[slot].size() != param.size()) {
    m_[slot] = Matrix::Zero(param.rows(), param.cols());
    v_[slot] = Matrix::Zero(param.rows(), param.cols());
  }
}

void Adam::update_all(std::span<Matrix* const> params, std::span<const Matrix* const> grads) {
  Index total = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    size_state(i, *params[i]);
    total += params[i]->size();
  }
  detail::parallel_team(total >= kParallelThreshold, [&] {
    for (std::size_t i = 0; i < params.size(); ++i) update(i, *params[i], *grads[i]);
  });
}

// Called by every thread of update_all's team (or alone), after update_all
// sized the state: each takes its share of the elements, and nobody waits at
// the end. adam_update computes every element the same way wherever a share
// starts, so the results do not depend on the thread count.
void Adam::update(std::size_t slot, Matrix& param, const Matrix& grad) {
  const detail::AdamStep step = detail::adam_step(options_, iterations());
  const detail::Range own = detail::this_threads_share(param.size());
  detail::adam_update(param.data(), m_[slot].data(), v_[slot].data(), grad.data(), own.begin, own.end, step);
}

void Adam::reset_state() {
  m_.clear();
  v_.clear();
}

SGD::SGD(SgdOptions options) : options_(options) {
  if (!(options_.learning_rate > 0)) throw Error("SGD: learning_rate must be positive");
  if (!(options_.momentum >= 0 && options_.momentum < 1)) throw Error("SGD: momentum must lie in [0, 1)");
}

nlohmann::json SGD::config() const {
  return {{"type", name()},
          {"learning_rate", options_.learning_rate},
          {"momentum", options_.momentum},
          {"nesterov", options_.nesterov}};
}

void SGD::update(std::size_t slot, Matrix& param, const Matrix& grad) {
  const float lr = options_.learning_rate, mu = options_.momentum;
  if (mu == 0.0f) {
    param.noalias() -= lr * grad;
    return;
  }
  if (velocity_.size() <= slot) velocity_.resize(slot + 1);
  if (velocity_[slot].size() != param.size()) velocity_[slot] = Matrix::Zero(param.rows(), param.cols());
  Matrix& velocity = velocity_[slot];
  velocity = mu * velocity - lr * grad;
  if (options_.nesterov) {
    param += mu * velocity - lr * grad;
  } else {
    param += velocity;
  }
}

}  // namespace aisle
