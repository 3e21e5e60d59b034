#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/core/random.hpp"
#include "aisle/nn/sampled_softmax.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

Matrix random_matrix(Index rows, Index cols, Rng& rng) {
  return test_support::random_matrix(rows, cols, rng.next_u64(), 2.0f);
}

Matrix soft_targets(Index rows, Index cols, Rng& rng) {
  Matrix t = Matrix::Zero(rows, cols);
  for (Index r = 0; r < rows; ++r) {
    t(r, static_cast<Index>(rng.below(static_cast<std::uint64_t>(cols)))) += 0.7f;
    t(r, static_cast<Index>(rng.below(static_cast<std::uint64_t>(cols)))) += 0.3f;
  }
  return t;
}

// The loss by its definition, in double.
double loss_by_definition(const Matrix& logits, const std::vector<float>& log_q, const Matrix& targets) {
  double total = 0;
  for (Index r = 0; r < logits.rows(); ++r) {
    double sum = 0;
    for (Index c = 0; c < logits.cols(); ++c) sum += std::exp(static_cast<double>(logits(r, c)) - log_q[c]);
    for (Index c = 0; c < logits.cols(); ++c)
      total -= targets(r, c) * (static_cast<double>(logits(r, c)) - log_q[c] - std::log(sum));
  }
  return total / static_cast<double>(logits.rows());
}

TEST(SampledSoftmax, LossAndGradientMatchTheDefinition) {
  Rng rng(11);
  const Matrix logits = random_matrix(4, 7, rng);
  const Matrix targets = soft_targets(4, 7, rng);
  std::vector<float> log_q(7);
  for (auto& q : log_q) q = std::log(rng.uniform(0.01f, 1.0f));
  Matrix grad;
  const float loss = sampled_softmax_cross_entropy(logits, log_q, targets, grad);
  EXPECT_NEAR(loss, loss_by_definition(logits, log_q, targets), 1e-5);
  // Central differences of the definition.
  const double h = 1e-3;
  for (Index r = 0; r < logits.rows(); ++r)
    for (Index c = 0; c < logits.cols(); ++c) {
      Matrix up = logits, down = logits;
      up(r, c) += static_cast<float>(h);
      down(r, c) -= static_cast<float>(h);
      const double numeric =
          (loss_by_definition(up, log_q, targets) - loss_by_definition(down, log_q, targets)) / (2 * h);
      EXPECT_NEAR(grad(r, c), numeric, 2e-4) << r << "," << c;
    }
}

// With every class a candidate and equal chances, the sampled loss is the
// full softmax's cross-entropy; a constant correction changes nothing.
TEST(SampledSoftmax, EqualsTheFullSoftmaxWhenEveryClassIsACandidate) {
  Rng rng(5);
  const Matrix logits = random_matrix(3, 5, rng);
  const Matrix targets = soft_targets(3, 5, rng);
  Matrix grad, shifted_grad;
  const float full = sampled_softmax_cross_entropy(logits, std::vector<float>(5, 0.0f), targets, grad);
  const float shifted = sampled_softmax_cross_entropy(logits, std::vector<float>(5, -3.0f), targets, shifted_grad);
  double expected = 0;
  for (Index r = 0; r < 3; ++r) {
    const double log_sum = std::log(logits.row(r).array().exp().cast<double>().sum());
    for (Index c = 0; c < 5; ++c) expected -= targets(r, c) * (logits(r, c) - log_sum);
  }
  EXPECT_NEAR(full, expected / 3, 1e-5);
  EXPECT_NEAR(shifted, full, 1e-5);
  EXPECT_LT((grad - shifted_grad).cwiseAbs().maxCoeff(), 1e-6f);
}

TEST(SampledSoftmax, RefusesMismatchedShapes) {
  Matrix grad;
  EXPECT_THROW(sampled_softmax_cross_entropy(Matrix::Zero(2, 3), std::vector<float>(2), Matrix::Zero(2, 3), grad),
               Error);
  EXPECT_THROW(sampled_softmax_cross_entropy(Matrix::Zero(2, 3), std::vector<float>(3), Matrix::Zero(3, 3), grad),
               Error);
}

TEST(CandidateSampler, DrawsInProportionToTheWeights) {
  const std::vector<double> weights{1, 0, 3, 6};
  const CandidateSampler sampler(weights);
  EXPECT_DOUBLE_EQ(sampler.probability(0), 0.1);
  EXPECT_DOUBLE_EQ(sampler.probability(1), 0.0);
  EXPECT_NEAR(sampler.probability(3), 0.6, 1e-12);
  Rng rng(7);
  std::vector<Index> ids;
  const Index draws = 100'000;
  sampler.draw(draws, rng, ids);
  ASSERT_EQ(static_cast<Index>(ids.size()), draws);
  std::vector<double> counts(4, 0);
  for (const auto id : ids) counts[static_cast<std::size_t>(id)] += 1;
  // Binomial standard deviations are below 0.0016 of the draws: 5 of them.
  for (Index i = 0; i < 4; ++i) EXPECT_NEAR(counts[i] / draws, sampler.probability(i), 0.008) << i;
  EXPECT_EQ(counts[1], 0);
}

TEST(CandidateSampler, LogInclusionIsTheChanceOfBeingDrawnAtLeastOnce) {
  const std::vector<double> weights{1, 1, 2};
  const CandidateSampler sampler(weights);
  EXPECT_NEAR(sampler.log_inclusion(2, 1), std::log(0.5), 1e-6);
  EXPECT_NEAR(sampler.log_inclusion(0, 3), std::log(1 - std::pow(0.75, 3)), 1e-6);
  // Rare ids: about log(draws q), without cancellation.
  std::vector<double> skewed(1'000'001, 1.0);
  skewed[0] = 1e12;
  const CandidateSampler rare(skewed);
  const double q = rare.probability(5);
  EXPECT_NEAR(rare.log_inclusion(5, 100), std::log(100 * q), 1e-4);
}

TEST(CandidateSampler, RefusesBadWeights) {
  EXPECT_THROW(CandidateSampler(std::vector<double>{1, -1}), Error);
  EXPECT_THROW(CandidateSampler(std::vector<double>{0, 0}), Error);
  EXPECT_THROW(CandidateSampler(std::vector<double>{1, NAN}), Error);
  EXPECT_THROW(CandidateSampler(std::vector<double>{}), Error);
  const CandidateSampler sampler(std::vector<double>{1});
  EXPECT_THROW((void)sampler.probability(1), Error);
}

}  // namespace
}  // namespace aisle
