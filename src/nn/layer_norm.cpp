#include "aisle/nn/layer_norm.hpp"

#include <cmath>

#include "aisle/core/error.hpp"
#include "core/parallel_for.hpp"

namespace aisle {
namespace {

// Below this many elements a pass runs on the calling thread.
constexpr Index kParallelElements = 1 << 15;

detail::LoopShape rows_shape(ConstMatrixRef x) { return {.chunk = 16, .parallel = x.size() >= kParallelElements}; }

// A row's mean and 1 / sqrt(variance + epsilon), the variance the biased one.
struct RowMoments {
  float mean = 0;
  float inverse_std = 0;
};

template <class Row>
RowMoments moments(const Row& row, float epsilon) {
  const float mean = row.mean();
  const float variance = (row.array() - mean).square().mean();
  return {mean, 1.0f / std::sqrt(variance + epsilon)};
}

}  // namespace

LayerNorm::LayerNorm(LayerNormOptions options) : options_(options) {
  if (!(options_.epsilon > 0)) throw Error("LayerNorm: epsilon must be positive, got " + std::to_string(options_.epsilon));
}

nlohmann::json LayerNorm::config() const {
  return {{"type", kind()}, {"epsilon", options_.epsilon}};
}

LayerNorm LayerNorm::from_config(const nlohmann::json& config) {
  return LayerNorm({.epsilon = config.value("epsilon", LayerNormOptions{}.epsilon)});
}

void LayerNorm::init_parameters(Rng&) {
  params_.resize(2);
  params_[0] = Matrix::Ones(1, input_size());
  params_[1] = Matrix::Zero(1, input_size());
}

void LayerNorm::forward_impl(const Backend&, ConstMatrixRef x, LayerState& state) const {
  const auto gamma = params_[0].row(0).array();
  const auto beta = params_[1].row(0).array();
  state.output.resize(x.rows(), x.cols());
  detail::parallel_for(x.rows(), rows_shape(x), [&](Index r) {
    const RowMoments m = moments(x.row(r), options_.epsilon);
    state.output.row(r).array() = (x.row(r).array() - m.mean) * m.inverse_std * gamma + beta;
  });
}

// With x_hat the normalised row and g = dy * gamma:
//   dx = (g - mean(g) - x_hat mean(g x_hat)) / sqrt(var + epsilon),
//   dgamma = sum over rows of dy x_hat, dbeta = sum over rows of dy.
// The moments are recomputed from x: nothing is kept between the passes.
void LayerNorm::backward_impl(const Backend&, ConstMatrixRef x, LayerState& state, std::span<Matrix> grads,
                              const BackwardPlan& plan) const {
  const auto gamma = params_[0].row(0).array();
  const Matrix& dy = state.grad_output;
  if (plan.need_input_gradient) {
    state.grad_input.resize(x.rows(), x.cols());
    detail::parallel_for(x.rows(), rows_shape(x), [&](Index r) {
      const RowMoments m = moments(x.row(r), options_.epsilon);
      const auto x_hat = (x.row(r).array() - m.mean) * m.inverse_std;
      const auto g = dy.row(r).array() * gamma;
      const float mean_g = g.mean();
      const float mean_g_x_hat = (g * x_hat).mean();
      state.grad_input.row(r).array() = (g - mean_g - x_hat * mean_g_x_hat) * m.inverse_std;
    });
  }
  // Sums over the rows in order, on one thread: the same bits for any team.
  grads[0].setZero(1, x.cols());
  grads[1].setZero(1, x.cols());
  for (Index r = 0; r < x.rows(); ++r) {
    const RowMoments m = moments(x.row(r), options_.epsilon);
    grads[0].row(0).array() += dy.row(r).array() * (x.row(r).array() - m.mean) * m.inverse_std;
    grads[1].row(0) += dy.row(r);
  }
}

}  // namespace aisle
