#pragma once

#include <span>
#include <vector>

#include "aisle/core/random.hpp"
#include "aisle/core/tensor.hpp"

namespace aisle {

// Draws the negatives of a sampled softmax: ids 0 .. size() - 1 with
// probability q_i proportional to a weight (an item's popularity, say).
class CandidateSampler {
 public:
  CandidateSampler() = default;
  // aisle::Error for a negative or non-finite weight, or none positive.
  explicit CandidateSampler(std::span<const double> weights);

  Index size() const { return static_cast<Index>(probability_.size()); }
  double probability(Index id) const;
  // Appends `draws` ids drawn from q with replacement.
  void draw(Index draws, Rng& rng, std::vector<Index>& ids) const;
  // log of the probability that `draws` draws hold id at least once,
  // log(1 - (1 - q_id)^draws): the correction of a candidate set made of
  // distinct drawn ids (about log(draws q_id) for rare ids).
  float log_inclusion(Index id, Index draws) const;
  // log of the probability that `draws` draws never hold id:
  // draws log(1 - q_id).
  double log_miss(Index id, Index draws) const;

 private:
  std::vector<double> probability_;  // q
  std::vector<double> accept_;       // the alias table: slot i draws i with this chance,
  std::vector<Index> alias_;         // else alias_[i]
};

// Cross-entropy of a softmax over a sample of the classes (Jean et al. 2015,
// with the logQ correction of Yi et al. 2019): each row's logits over the
// candidates C, less log_q of each candidate (the log of its chance of being
// in C), go through a softmax and are scored against targets that put all
// their mass on candidates:
//   loss = mean over rows r of  - sum_c t_rc log softmax_c(logits_r - log_q)
//   grad_logits = (softmax(logits_r - log_q) - t_r) / rows
// Correcting by log_q makes the sampled loss's gradient an estimate of the
// full softmax's: without it popular (often drawn) items are pushed down too
// hard. logits and targets are [rows x candidates], log_q one per candidate.
float sampled_softmax_cross_entropy(const Matrix& logits, std::span<const float> log_q, const Matrix& targets,
                                    Matrix& grad_logits);

}  // namespace aisle
