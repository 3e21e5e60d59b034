#pragma once

#include <span>
#include <vector>

#include "aisle/backend/backend.hpp"
#include "aisle/core/random.hpp"
#include "aisle/core/tensor.hpp"
#include "aisle/nn/dense.hpp"
#include "aisle/nn/workspace.hpp"

namespace aisle {

// Bags of weighted ids in compressed rows: bag r holds ids[offsets[r] ..
// offsets[r + 1]), each with the weight of the same index. A view: the
// caller owns the arrays.
struct WeightedBags {
  std::span<const Index> offsets;  // bags + 1 entries, from 0
  std::span<const Index> ids;
  std::span<const float> weights;  // one per id

  Index size() const { return offsets.empty() ? 0 : static_cast<Index>(offsets.size()) - 1; }
};

struct EmbeddingBagOptions {
  Index rows = 0;  // ids are 0 .. rows - 1
  Index dim = 0;   // output width
  Activation activation = Activation::none;  // none or relu
  Init init = Init::glorot_uniform;
};

// y = activation(b + sum_i w_i E[id_i]) for each bag: a Dense layer whose
// input is a sparse weighted multi-hot vector over `rows` ids, computed from
// the rows of E the bag holds only, never a product over all of them. The
// first layer of models over large catalogues (the neural recommender's
// histories). Like a Layer it holds parameters only; forward is const and
// safe from many threads, each with its own LayerState.
class EmbeddingBag {
 public:
  EmbeddingBag() = default;
  // E drawn with options.init from rng, b zero.
  EmbeddingBag(EmbeddingBagOptions options, Rng& rng);
  // From trained tensors: E [rows x dim], b [1 x dim].
  EmbeddingBag(Matrix weight, Matrix bias, Activation activation);

  Index rows() const { return params_[0].rows(); }
  Index dim() const { return params_[0].cols(); }
  Activation activation() const { return activation_; }
  const Matrix& weight() const { return params_[0]; }
  const Matrix& bias() const { return params_[1]; }
  // E and b, in that order, for an Optimizer.
  std::span<Matrix> parameters() { return params_; }

  // state.output [bags x dim] (and state.pre_activation with relu).
  // aisle::Error for an id outside 0 .. rows - 1 or weights that do not
  // match the ids.
  void forward(const Backend& backend, const WeightedBags& bags, LayerState& state) const;

  // From state.grad_output (the gradient at this forward's output, which it
  // overwrites): adds the gradient of E into grads[0] on the rows the bags
  // hold (grads[0] must be zero on them, as clear_gradient leaves it) and
  // writes the gradient of b into grads[1].
  void backward(const Backend& backend, const WeightedBags& bags, LayerState& state, std::span<Matrix> grads) const;

  // Zeroes the rows of weight_grad that backward wrote for these bags: after
  // a step, at the cost of the bags' ids instead of the whole matrix.
  static void clear_gradient(const WeightedBags& bags, Matrix& weight_grad);

 private:
  void check(const WeightedBags& bags) const;

  std::vector<Matrix> params_{Matrix(), Matrix()};
  Activation activation_ = Activation::none;
};

}  // namespace aisle
