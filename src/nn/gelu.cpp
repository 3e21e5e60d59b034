#include "aisle/nn/gelu.hpp"

#include <unsupported/Eigen/SpecialFunctions>

#include "aisle/core/error.hpp"
#include "core/parallel_for.hpp"

namespace aisle {
namespace {

constexpr Index kParallelElements = 1 << 15;
constexpr float kInverseSqrt2 = 0.70710678118654752f;
constexpr float kInverseSqrt2Pi = 0.39894228040143268f;  // the standard normal density at 0
constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kCubic = 0.044715f;

detail::LoopShape rows_shape(ConstMatrixRef x) { return {.chunk = 16, .parallel = x.size() >= kParallelElements}; }

std::string_view to_string(GeluApproximation approximation) {
  return approximation == GeluApproximation::tanh ? "tanh" : "none";
}

GeluApproximation approximation_from_string(const std::string& name) {
  if (name == "none") return GeluApproximation::none;
  if (name == "tanh") return GeluApproximation::tanh;
  throw Error("gelu layer: unknown approximation '" + name + "' (none or tanh)");
}

}  // namespace

nlohmann::json GELU::config() const {
  return {{"type", kind()}, {"approximation", std::string(to_string(approximation_))}};
}

GELU GELU::from_config(const nlohmann::json& config) {
  return GELU(approximation_from_string(config.value("approximation", std::string("none"))));
}

void GELU::forward_impl(const Backend&, ConstMatrixRef x, LayerState& state) const {
  state.output.resize(x.rows(), x.cols());
  detail::parallel_for(x.rows(), rows_shape(x), [&](Index r) {
    const auto v = x.row(r).array();
    auto y = state.output.row(r).array();
    if (approximation_ == GeluApproximation::tanh) {
      y = 0.5f * v * (1.0f + (kSqrt2OverPi * (v + kCubic * v.cube())).tanh());
    } else {
      y = 0.5f * v * (1.0f + (v * kInverseSqrt2).erf());
    }
  });
}

// dy/dx = Phi(x) + x phi(x) (exact), or, for the tanh form with
// t = tanh(u), u = sqrt(2 / pi) (x + 0.044715 x^3):
//   (1 + t) / 2 + x (1 - t^2) sqrt(2 / pi) (1 + 3 * 0.044715 x^2) / 2.
void GELU::backward_impl(const Backend&, ConstMatrixRef x, LayerState& state, std::span<Matrix>,
                         const BackwardPlan& plan) const {
  if (!plan.need_input_gradient) return;
  state.grad_input.resize(x.rows(), x.cols());
  detail::parallel_for(x.rows(), rows_shape(x), [&](Index r) {
    const auto v = x.row(r).array();
    const auto dy = state.grad_output.row(r).array();
    auto dx = state.grad_input.row(r).array();
    if (approximation_ == GeluApproximation::tanh) {
      dx = (kSqrt2OverPi * (v + kCubic * v.cube())).tanh();  // t, in place: element-wise, no scratch
      dx = dy * (0.5f * (1.0f + dx) + 0.5f * v * (1.0f - dx.square()) * kSqrt2OverPi * (1.0f + 3.0f * kCubic * v.square()));
    } else {
      dx = dy * (0.5f * (1.0f + (v * kInverseSqrt2).erf()) + v * kInverseSqrt2Pi * (-0.5f * v.square()).exp());
    }
  });
}

}  // namespace aisle
