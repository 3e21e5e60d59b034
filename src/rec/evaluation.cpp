#include "aisle/rec/evaluation.hpp"

#include <algorithm>
#include <chrono>

#include "aisle/core/error.hpp"
#include "aisle/rec/topk.hpp"
#include "core/parallel_for.hpp"

namespace aisle::rec {
namespace {

Index longest_cutoff(const std::vector<MetricSpec>& metrics) {
  Index k = 0;
  for (const auto& m : metrics) k = std::max(k, m.k);
  return k;
}

// Scores one batch of queries and adds each metric's value per query to sums.
void evaluate_batch(const Model& model, const EvalSplit& split, Index begin, Index end,
                    const std::vector<MetricSpec>& metrics, std::vector<double>& sums) {
  std::vector<Index> rows(static_cast<std::size_t>(end - begin));
  for (Index r = begin; r < end; ++r) rows[static_cast<std::size_t>(r - begin)] = r;
  const auto batch = select_rows(split.queries, rows);
  Matrix scores;
  model.score_batch(batch, scores);
  const Index cutoff = longest_cutoff(metrics);
  const auto metric_count = static_cast<Index>(metrics.size());
  std::vector<double> values(static_cast<std::size_t>((end - begin) * metric_count));
  const auto make_history_mask = [&] { return std::vector<std::uint8_t>(static_cast<std::size_t>(split.item_count), 0); };
  const auto evaluate_query = [&](std::vector<std::uint8_t>& in_history, Index q) {
    const auto history = batch[q];
    for (const Index item : history) in_history[static_cast<std::size_t>(item)] = 1;
    const auto* row = scores.row(q).data();
    const auto ranked = top_k(std::span<const float>(row, static_cast<std::size_t>(scores.cols())), cutoff,
                              [&](Index item) {
                                return split.candidate_items[static_cast<std::size_t>(item)] &&
                                       !in_history[static_cast<std::size_t>(item)];
                              });
    for (const Index item : history) in_history[static_cast<std::size_t>(item)] = 0;
    const auto targets = split.targets[begin + q];
    for (Index m = 0; m < metric_count; ++m)
      values[static_cast<std::size_t>(q * metric_count + m)] = metrics[static_cast<std::size_t>(m)](ranked, targets);
  };
  aisle::detail::parallel_for_with_state(end - begin, {.uneven = true, .chunk = 4}, make_history_mask, evaluate_query);
  for (Index q = 0; q < end - begin; ++q) {
    for (Index m = 0; m < metric_count; ++m)
      sums[static_cast<std::size_t>(m)] += values[static_cast<std::size_t>(q * metric_count + m)];
  }
}

}  // namespace

double EvalResult::metric(const std::string& name) const {
  for (const auto& [key, value] : metrics) {
    if (key == name) return value;
  }
  throw Error("no metric " + name + " in the evaluation");
}

std::vector<MetricSpec> protocol_metrics(Protocol protocol) {
  if (protocol == Protocol::loo) return {MetricSpec::parse("HR@10"), MetricSpec::parse("NDCG@10")};
  if (protocol == Protocol::cold) return {MetricSpec::parse("Recall@20"), MetricSpec::parse("NDCG@20")};
  return {MetricSpec::parse("Recall@20"), MetricSpec::parse("NDCG@100")};
}

EvalResult evaluate(const Model& model, const EvalSplit& split, const EvalOptions& options) {
  if (model.item_count() != split.item_count)
    throw Error("evaluate: the model has " + std::to_string(model.item_count()) + " items, the split " +
                std::to_string(split.item_count));
  const auto metrics = options.metrics.empty() ? protocol_metrics(split.protocol) : options.metrics;
  const Index batch_size = std::max<Index>(1, options.batch_size);
  std::vector<double> sums(metrics.size(), 0.0);
  const auto start = std::chrono::steady_clock::now();
  for (Index begin = 0; begin < split.queries.size(); begin += batch_size)
    evaluate_batch(model, split, begin, std::min(split.queries.size(), begin + batch_size), metrics, sums);
  EvalResult result;
  result.query_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.users = split.queries.size();
  for (std::size_t m = 0; m < metrics.size(); ++m)
    result.metrics.emplace_back(metrics[m].name(),
                                result.users > 0 ? sums[m] / static_cast<double>(result.users) : 0.0);
  return result;
}

}  // namespace aisle::rec
