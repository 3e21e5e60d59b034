#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "aisle/core/random.hpp"
#include "aisle/core/tensor.hpp"
#include "aisle/nn/lazy_adam.hpp"
#include "aisle/nn/sampled_softmax.hpp"
#include "backend/packed_gemm.hpp"

namespace aisle::rec::detail {

// One target of a training example: weight on item, before the example's
// targets are scaled to sum to 1 (by dividing by their total).
struct TargetEntry {
  Index example = 0;
  Index item = 0;
  float weight = 0;
};

// The neural model's output layer, logits = h W + b over the catalogue,
// trained with a sampled softmax: a batch's logits are computed for its
// target items and `draws` negatives shared by the batch (drawn from the
// sampler, distinct), corrected by each candidate's log inclusion chance,
// and only the candidates' columns of W and b move (LazyAdam). The cost of a
// step grows with the candidates, not with the catalogue.
// Training state only: the weights live item-major here (a candidate's
// column of W is one contiguous row) and go back into W and b at the end.
class SampledOutputLayer {
 public:
  // weight W [hidden x items], bias b [1 x items].
  SampledOutputLayer(const Matrix& weight, const Matrix& bias, CandidateSampler sampler, Index draws);

  // From h [batch x hidden] and the batch's targets: the mean loss, and
  // grad_h, the gradient at h. Updates the candidates' weights with
  // optimizer (slot 1; the caller has begun the step).
  float train_step(const Matrix& h, std::span<const TargetEntry> targets, std::span<const float> target_totals,
                   Rng& rng, LazyAdam& optimizer, Matrix& grad_h);

  // Brings every item's weights up to the optimizer's step (LazyAdam::catch_up).
  void catch_up(LazyAdam& optimizer);
  // Writes the trained weights back as W [hidden x items], b [1 x items].
  void write_back(Matrix& weight, Matrix& bias) const;

  Index draws() const { return draws_; }
  // The candidates of the last step, targets first.
  std::span<const Index> candidates() const { return candidates_; }

 private:
  void choose_candidates(std::span<const TargetEntry> targets, Rng& rng);
  void gather_candidates();

  // W transposed with b beside it: [items x (hidden + 1)]. An item's weights
  // and bias are one row, caught up and updated as one by LazyAdam.
  Matrix table_;
  Index hidden_ = 0;
  CandidateSampler sampler_;
  Index draws_ = 0;
  std::vector<float> log_inclusion_;  // of each item, for draws_ draws
  // Step scratch, kept between steps to allocate once.
  std::vector<std::int32_t> position_;  // an item's candidate column, or -1
  std::vector<Index> candidates_, drawn_;
  std::vector<float> log_q_, bias_;
  Matrix weights_, logits_, targets_, grad_logits_, grad_weights_;
  aisle::detail::GemmBuffers logits_buffers_, input_gradient_buffers_, weight_gradient_buffers_;
};

}  // namespace aisle::rec::detail
