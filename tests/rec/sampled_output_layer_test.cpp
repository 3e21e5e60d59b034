#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/core/random.hpp"
#include "rec/sampled_output_layer.hpp"

namespace aisle::rec::detail {
namespace {

constexpr Index kHidden = 4, kItems = 30, kDraws = 6;

Matrix random_matrix(Index rows, Index cols, std::uint64_t seed) {
  Rng rng(seed);
  Matrix m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = rng.uniform(-1.0f, 1.0f);
  return m;
}

CandidateSampler popularity() {
  std::vector<double> weights(kItems);
  for (Index i = 0; i < kItems; ++i) weights[static_cast<std::size_t>(i)] = 1.0 + static_cast<double>(i % 7);
  return CandidateSampler(weights);
}

const std::vector<TargetEntry> kTargets{{0, 3, 1.0f}, {0, 9, 0.5f}, {1, 17, 1.0f}, {2, 3, 2.0f}};
const std::vector<float> kTotals{1.5f, 1.0f, 2.0f};

// One step of a fresh layer from the same weights and the same draws.
float fresh_step(const Matrix& h, Matrix& grad_h, SampledOutputLayer* kept = nullptr) {
  SampledOutputLayer layer(random_matrix(kHidden, kItems, 1), random_matrix(1, kItems, 2), popularity(), kDraws);
  Rng rng(9);
  LazyAdam optimizer;
  optimizer.begin_step();
  const float loss = layer.train_step(h, kTargets, kTotals, rng, optimizer, grad_h);
  if (kept) *kept = std::move(layer);
  return loss;
}

// The gradient at the input is the derivative of the sampled loss, by
// central differences on every input.
TEST(SampledOutputLayer, InputGradientMatchesFiniteDifferences) {
  const Matrix h = random_matrix(3, kHidden, 4);
  Matrix grad_h, unused;
  fresh_step(h, grad_h);
  ASSERT_EQ(grad_h.rows(), 3);
  ASSERT_EQ(grad_h.cols(), kHidden);
  const float eps = 1e-2f;
  for (Index i = 0; i < h.size(); ++i) {
    Matrix up = h, down = h;
    up.data()[i] += eps;
    down.data()[i] -= eps;
    const double numeric = (static_cast<double>(fresh_step(up, unused)) - fresh_step(down, unused)) / (2.0 * eps);
    EXPECT_NEAR(grad_h.data()[i], numeric, 2e-3) << i;
  }
}

// The candidates are the targets first, then distinct draws; a step moves
// the candidates' weights and no other item's.
TEST(SampledOutputLayer, MovesOnlyTheCandidatesWeights) {
  const Matrix h = random_matrix(3, kHidden, 4);
  const Matrix weight = random_matrix(kHidden, kItems, 1), bias = random_matrix(1, kItems, 2);
  SampledOutputLayer layer(weight, bias, popularity(), kDraws);
  Matrix grad_h;
  fresh_step(h, grad_h, &layer);
  const auto candidates = layer.candidates();
  ASSERT_GE(candidates.size(), 3u);
  EXPECT_EQ(candidates[0], 3);
  EXPECT_EQ(candidates[1], 9);
  EXPECT_EQ(candidates[2], 17);
  const std::set<Index> distinct(candidates.begin(), candidates.end());
  EXPECT_EQ(distinct.size(), candidates.size());
  EXPECT_LE(candidates.size(), 3u + kDraws);
  Matrix trained_weight, trained_bias;
  layer.write_back(trained_weight, trained_bias);
  ASSERT_EQ(trained_weight.rows(), kHidden);
  ASSERT_EQ(trained_weight.cols(), kItems);
  for (Index item = 0; item < kItems; ++item) {
    const bool candidate = distinct.count(item) > 0;
    EXPECT_EQ(trained_weight.col(item) != weight.col(item), candidate) << item;
    EXPECT_EQ(trained_bias(0, item) != bias(0, item), candidate) << item;
  }
}

TEST(SampledOutputLayer, RefusesTargetsOutsideTheCatalogueOrBatch) {
  SampledOutputLayer layer(random_matrix(kHidden, kItems, 1), random_matrix(1, kItems, 2), popularity(), kDraws);
  Rng rng(1);
  LazyAdam optimizer;
  optimizer.begin_step();
  Matrix grad_h;
  const Matrix h = random_matrix(1, kHidden, 3);
  const std::vector<float> totals{1.0f};
  EXPECT_THROW(layer.train_step(h, std::vector<TargetEntry>{{0, kItems, 1.0f}}, totals, rng, optimizer, grad_h), Error);
  EXPECT_THROW(layer.train_step(h, std::vector<TargetEntry>{{1, 0, 1.0f}}, totals, rng, optimizer, grad_h), Error);
  EXPECT_THROW(layer.train_step(random_matrix(1, kHidden + 1, 3), std::vector<TargetEntry>{{0, 0, 1.0f}}, totals, rng,
                                optimizer, grad_h),
               Error);
}

}  // namespace
}  // namespace aisle::rec::detail
