#include "rec/cut_training.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "aisle/core/error.hpp"

namespace aisle::rec::detail {
namespace {

// Appends the input values of items of the given ages (0: the newest):
// decay^age, scaled so that the row has unit length.
void append_input_weights(std::span<const std::size_t> ages, float decay, std::vector<float>& weights) {
  const auto first = weights.size();
  double squares = 0;
  for (const auto age : ages) {
    const auto w = std::pow(decay, static_cast<float>(age));
    weights.push_back(w);
    squares += static_cast<double>(w) * w;
  }
  const auto scale = static_cast<float>(1.0 / std::sqrt(squares));
  for (auto i = first; i < weights.size(); ++i) weights[i] *= scale;
}

// Cuts row at a random point; the prefix, less dropped items, is the input
// and the suffix, weighted by decay^distance, the target.
void add_example(std::span<const Index> row, const CutOptions& options, Rng& rng, CutBatch& batch,
                 std::vector<Index>& kept, std::vector<std::size_t>& ages) {
  const auto cut = 1 + static_cast<std::size_t>(rng.below(row.size() - 1));
  kept.clear();
  ages.clear();
  for (std::size_t i = 0; i < cut; ++i) {
    if (rng.uniform() >= options.dropout) {
      kept.push_back(row[i]);
      ages.push_back(cut - 1 - i);
    }
  }
  if (kept.empty()) {  // never an empty input: keep the latest item
    kept.push_back(row[cut - 1]);
    ages.push_back(0);
  }
  batch.inputs.add(kept);
  append_input_weights(ages, options.input_decay, batch.weights);
  const Index example = batch.inputs.size() - 1;
  float weight = 1.0f, total = 0.0f;
  for (std::size_t i = cut; i < row.size() && weight > 1e-4f; ++i) {
    batch.targets.push_back({.example = example, .item = row[i], .weight = weight});
    total += weight;
    weight *= options.target_decay;
  }
  batch.target_totals.push_back(total);
}

double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

Matrix CutBatch::dense_targets(Index item_count) const {
  Matrix dense = Matrix::Zero(size(), item_count);
  for (const auto& t : targets) dense(t.example, t.item) += t.weight;
  for (Index r = 0; r < size(); ++r) dense.row(r) /= target_totals[static_cast<std::size_t>(r)];
  return dense;
}

std::vector<float> input_weights(const Histories& histories, float decay) {
  std::vector<float> weights;
  weights.reserve(static_cast<std::size_t>(histories.total()));
  std::vector<std::size_t> ages;
  for (Index r = 0; r < histories.size(); ++r) {
    const auto n = histories[r].size();
    ages.resize(n);
    for (std::size_t i = 0; i < n; ++i) ages[i] = n - 1 - i;
    if (n > 0) append_input_weights(ages, decay, weights);
  }
  return weights;
}

std::vector<Index> trainable_rows(const Histories& rows, const CutOptions& cuts, const std::string& kind) {
  // An epoch cuts each row of n >= 2 items n - 1 times (at random points):
  // one example per interaction after the first.
  std::vector<Index> trainable;
  for (Index r = 0; r < rows.size(); ++r) {
    const auto count = rows[r].size() < 2 ? 0 : rows[r].size() - 1;
    const auto limit = cuts.cuts_per_row > 0 ? static_cast<std::size_t>(cuts.cuts_per_row) : count;
    for (std::size_t i = 0; i < std::min(count, limit); ++i) trainable.push_back(r);
  }
  if (trainable.empty()) throw Error(kind + ": no fitted row has 2 items to learn from");
  return trainable;
}

std::vector<float> run_epochs(const Histories& rows, const EpochLoop& loop, Rng& rng, const FitContext& context) {
  auto trainable = trainable_rows(rows, loop.cuts, loop.kind);
  const auto batch_size = static_cast<std::size_t>(loop.cuts.batch_size);
  const auto batch_count = static_cast<Index>((trainable.size() + batch_size - 1) / batch_size);
  std::vector<Index> kept;
  std::vector<std::size_t> ages;
  std::vector<float> losses;
  for (int epoch = 1; epoch <= loop.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    shuffle(std::span<Index>(trainable), rng);
    double loss_sum = 0;
    Index batches = 0;
    auto last_report = start;
    for (std::size_t begin = 0; begin < trainable.size(); begin += batch_size) {
      const auto end = std::min(trainable.size(), begin + batch_size);
      CutBatch batch;
      for (std::size_t i = begin; i < end; ++i) add_example(rows[trainable[i]], loop.cuts, rng, batch, kept, ages);
      const float batch_loss = loop.step(batch);
      ++batches;
      if (!std::isfinite(batch_loss))
        throw Error(loop.kind + ": the loss became " + value_string(batch_loss) + " at epoch " + std::to_string(epoch) +
                    ", batch " + std::to_string(batches) + " (a learning_rate too high?)");
      loss_sum += batch_loss;
      // On large stores an epoch takes minutes: a line every half minute.
      const auto now = std::chrono::steady_clock::now();
      if (now - last_report >= std::chrono::seconds(30)) {
        last_report = now;
        const double left =
            seconds_between(start, now) * static_cast<double>(batch_count - batches) / static_cast<double>(batches);
        context.report(loop.kind + ": epoch " + std::to_string(epoch) + "/" + std::to_string(loop.epochs) + ", batch " +
                       std::to_string(batches) + " of " + std::to_string(batch_count) + ", loss " +
                       std::to_string(loss_sum / static_cast<double>(batches)) + ", about " +
                       std::to_string(static_cast<long long>(left)) + " s left in the epoch");
      }
    }
    losses.push_back(static_cast<float>(loss_sum / static_cast<double>(std::max<Index>(batches, 1))));
    context.report(loop.kind + ": epoch " + std::to_string(epoch) + "/" + std::to_string(loop.epochs) + " loss " +
                   std::to_string(losses.back()) + " (" +
                   std::to_string(seconds_between(start, std::chrono::steady_clock::now())) + " s)");
    if (loop.after_epoch && !loop.after_epoch(epoch)) break;
  }
  return losses;
}

}  // namespace aisle::rec::detail
