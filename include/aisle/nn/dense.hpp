#pragma once

#include "aisle/nn/layer.hpp"

namespace aisle {

enum class Init { glorot_uniform, he_uniform, he_normal };

// Draws w [fan_in x fan_out] from rng: glorot_uniform, U(+-sqrt(6 / (in + out)));
// he_uniform, U(+-sqrt(6 / in)); he_normal, N(0, 2 / in).
void initialise_weights(Matrix& w, Init init, Rng& rng);

struct DenseOptions {
  Index units = 0;
  Activation activation = Activation::none;
  Index input_size = 0;  // 0: taken from the previous layer
  Init init = Init::glorot_uniform;
};

// y = activation(x W + b), W [inputs x units] initialised from the model's
// seed, b zero. With relu the activation is fused into the kernel.
class Dense final : public Layer {
 public:
  explicit Dense(DenseOptions options);
  Dense(Index units, Activation activation = Activation::none, Index input_size = 0);

  std::string kind() const override { return "dense"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Dense>(*this); }
  Index declared_input_size() const override { return options_.input_size; }
  LayerFusion fusion() const override;
  std::vector<std::string> parameter_names() const override { return {"weight", "bias"}; }
  nlohmann::json config() const override;
  static Dense from_config(const nlohmann::json& config);

  const DenseOptions& options() const { return options_; }
  const Matrix& weight() const { return params_[0]; }
  const Matrix& bias() const { return params_[1]; }

 private:
  Index output_size_for(Index input_size) const override;
  void init_parameters(Rng& rng) override;
  void forward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state) const override;
  void backward_impl(const Backend& backend, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                     const BackwardPlan& plan) const override;

  DenseOptions options_;
};

}  // namespace aisle
