#pragma once

#include <string>
#include <utility>
#include <vector>

#include "aisle/rec/metrics.hpp"
#include "aisle/rec/model.hpp"
#include "aisle/rec/protocols.hpp"

namespace aisle::rec {

struct EvalOptions {
  std::vector<MetricSpec> metrics;  // empty: the protocol's (loo: HR@10, NDCG@10; users: Recall@20, NDCG@100; cold: Recall@20, NDCG@20)
  Index batch_size = 256;           // queries scored by one matrix product
};

struct EvalResult {
  Index users = 0;
  std::vector<std::pair<std::string, double>> metrics;  // means over the evaluated users
  double query_seconds = 0;                              // scoring and ranking, all queries
  double query_ms() const { return users > 0 ? 1000.0 * query_seconds / static_cast<double>(users) : 0.0; }
  double metric(const std::string& name) const;          // throws if absent
};

std::vector<MetricSpec> protocol_metrics(Protocol protocol);

// Ranks the whole candidate pool (split.candidate_items minus the query's own
// items) for every query of split and averages the metrics.
EvalResult evaluate(const Model& model, const EvalSplit& split, const EvalOptions& options = {});

}  // namespace aisle::rec
