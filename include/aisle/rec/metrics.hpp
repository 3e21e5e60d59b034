#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aisle/core/tensor.hpp"

namespace aisle::rec {

// Ranking metrics over one query: ranked is the model's list (best first),
// targets the held-out items. They are the formulas of docs/evaluation.md:
//   hit rate@k  = 1 if any target ranks <= k
//   recall@k    = hits in the top k / min(k, |targets|)
//   ndcg@k      = sum over hits at rank r <= k of 1/log2(1+r), divided by
//                 sum for i = 1..min(k, |targets|) of 1/log2(1+i)
// With one target, recall@k is the hit rate and ndcg@k is 1/log2(1+rank).
double hit_rate_at_k(std::span<const Index> ranked, std::span<const Index> targets, Index k);
double recall_at_k(std::span<const Index> ranked, std::span<const Index> targets, Index k);
double ndcg_at_k(std::span<const Index> ranked, std::span<const Index> targets, Index k);

// A metric by name: "HR@10", "Recall@20", "NDCG@100".
struct MetricSpec {
  enum class Kind { hit_rate, recall, ndcg };
  Kind kind = Kind::ndcg;
  Index k = 10;

  static MetricSpec parse(std::string_view name);  // throws aisle::Error
  std::string name() const;
  double operator()(std::span<const Index> ranked, std::span<const Index> targets) const;
};

}  // namespace aisle::rec
