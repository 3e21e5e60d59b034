#include "aisle/nn/embedding_bag.hpp"

#include <algorithm>

#include "aisle/core/error.hpp"
#include "core/parallel_for.hpp"

namespace aisle {
namespace {

// visit(id, weight) for each entry of bag r.
template <class Visit>
void for_each_entry(const WeightedBags& bags, Index r, const Visit& visit) {
  const auto begin = static_cast<std::size_t>(bags.offsets[static_cast<std::size_t>(r)]);
  const auto end = static_cast<std::size_t>(bags.offsets[static_cast<std::size_t>(r) + 1]);
  for (auto i = begin; i < end; ++i) visit(bags.ids[i], bags.weights[i]);
}

void check_activation(Activation activation) {
  if (activation == Activation::softmax) throw Error("EmbeddingBag: activation must be none or relu, not softmax");
}

}  // namespace

EmbeddingBag::EmbeddingBag(EmbeddingBagOptions options, Rng& rng) : activation_(options.activation) {
  if (options.rows <= 0 || options.dim <= 0)
    throw Error("EmbeddingBag: rows and dim must be positive, got " + std::to_string(options.rows) + " and " +
                std::to_string(options.dim));
  check_activation(activation_);
  params_[0].resize(options.rows, options.dim);
  initialise_weights(params_[0], options.init, rng);
  params_[1] = Matrix::Zero(1, options.dim);
}

EmbeddingBag::EmbeddingBag(Matrix weight, Matrix bias, Activation activation) : activation_(activation) {
  check_activation(activation_);
  if (weight.size() == 0 || bias.rows() != 1 || bias.cols() != weight.cols())
    throw Error("EmbeddingBag: weight of shape " + shape_string(weight) + " and bias of shape " + shape_string(bias) +
                " do not make a layer (bias must be [1 x " + std::to_string(weight.cols()) + "])");
  params_[0] = std::move(weight);
  params_[1] = std::move(bias);
}

void EmbeddingBag::check(const WeightedBags& bags) const {
  if (bags.ids.size() != bags.weights.size())
    throw Error("EmbeddingBag: " + std::to_string(bags.ids.size()) + " ids but " +
                std::to_string(bags.weights.size()) + " weights");
  if (!bags.offsets.empty() &&
      (bags.offsets.front() != 0 || bags.offsets.back() != static_cast<Index>(bags.ids.size()) ||
       !std::is_sorted(bags.offsets.begin(), bags.offsets.end())))
    throw Error("EmbeddingBag: bag offsets must rise from 0 to the number of ids");
  const auto bad = std::find_if(bags.ids.begin(), bags.ids.end(), [&](Index id) { return id < 0 || id >= rows(); });
  if (bad != bags.ids.end())
    throw Error("EmbeddingBag: id " + std::to_string(*bad) + " outside 0.." + std::to_string(rows() - 1));
}

void EmbeddingBag::forward(const Backend& backend, const WeightedBags& bags, LayerState& state) const {
  check(bags);
  Matrix& sums = activation_ == Activation::relu ? state.pre_activation : state.output;
  sums.resize(bags.size(), dim());
  const Matrix& weight = params_[0];
  detail::parallel_for(bags.size(), {.uneven = true, .chunk = 8}, [&](Index r) {
    auto row = sums.row(r);
    row = params_[1];
    for_each_entry(bags, r, [&](Index id, float w) { row += w * weight.row(id); });
  });
  if (activation_ == Activation::relu) backend.relu_forward(state.pre_activation, state.output, state.kernels);
}

void EmbeddingBag::backward(const Backend& backend, const WeightedBags& bags, LayerState& state,
                            std::span<Matrix> grads) const {
  if (grads.size() != 2) throw Error("EmbeddingBag: backward needs 2 gradient tensors, got " + std::to_string(grads.size()));
  if (state.grad_output.rows() != bags.size() || state.grad_output.cols() != dim())
    throw Error("EmbeddingBag: output gradient of shape " + shape_string(state.grad_output) + ", expected " +
                shape_string(bags.size(), dim()));
  if (grads[0].rows() != rows() || grads[0].cols() != dim()) grads[0] = Matrix::Zero(rows(), dim());
  // The gradient before the activation, in place.
  if (activation_ == Activation::relu)
    backend.relu_backward(state.output, state.grad_output, state.grad_output, state.kernels);
  const Matrix& dz = state.grad_output;
  grads[1] = dz.colwise().sum();
  // Serial: two bags may hold the same id, and its row must sum in one order.
  for (Index r = 0; r < bags.size(); ++r)
    for_each_entry(bags, r, [&](Index id, float w) { grads[0].row(id) += w * dz.row(r); });
}

void EmbeddingBag::clear_gradient(const WeightedBags& bags, Matrix& weight_grad) {
  for (const Index id : bags.ids) weight_grad.row(id).setZero();
}

}  // namespace aisle
