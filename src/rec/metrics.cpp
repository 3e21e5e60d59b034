#include "aisle/rec/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "aisle/core/error.hpp"

namespace aisle::rec {
namespace {

bool is_target(Index item, std::span<const Index> targets) {
  return std::find(targets.begin(), targets.end(), item) != targets.end();
}

Index cutoff(std::span<const Index> ranked, Index k) { return std::min<Index>(k, static_cast<Index>(ranked.size())); }

double discount(Index rank) { return 1.0 / std::log2(1.0 + static_cast<double>(rank)); }

}  // namespace

double hit_rate_at_k(std::span<const Index> ranked, std::span<const Index> targets, Index k) {
  for (Index r = 0; r < cutoff(ranked, k); ++r) {
    if (is_target(ranked[static_cast<std::size_t>(r)], targets)) return 1.0;
  }
  return 0.0;
}

double recall_at_k(std::span<const Index> ranked, std::span<const Index> targets, Index k) {
  if (targets.empty() || k <= 0) return 0.0;
  Index hits = 0;
  for (Index r = 0; r < cutoff(ranked, k); ++r) hits += is_target(ranked[static_cast<std::size_t>(r)], targets);
  return static_cast<double>(hits) / static_cast<double>(std::min<Index>(k, static_cast<Index>(targets.size())));
}

double ndcg_at_k(std::span<const Index> ranked, std::span<const Index> targets, Index k) {
  if (targets.empty() || k <= 0) return 0.0;
  double dcg = 0.0;
  for (Index r = 0; r < cutoff(ranked, k); ++r) {
    if (is_target(ranked[static_cast<std::size_t>(r)], targets)) dcg += discount(r + 1);
  }
  double idcg = 0.0;
  for (Index i = 1; i <= std::min<Index>(k, static_cast<Index>(targets.size())); ++i) idcg += discount(i);
  return dcg / idcg;
}

MetricSpec MetricSpec::parse(std::string_view name) {
  const auto at = name.find('@');
  const auto fail = [&]() -> MetricSpec {
    throw Error("unknown metric '" + std::string(name) + "' (expected HR@k, Recall@k or NDCG@k)");
  };
  if (at == std::string_view::npos) return fail();
  MetricSpec spec;
  const auto kind = name.substr(0, at);
  if (kind == "HR") spec.kind = Kind::hit_rate;
  else if (kind == "Recall") spec.kind = Kind::recall;
  else if (kind == "NDCG") spec.kind = Kind::ndcg;
  else return fail();
  const auto digits = name.substr(at + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), spec.k);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || spec.k <= 0) return fail();
  return spec;
}

std::string MetricSpec::name() const {
  const char* prefix = kind == Kind::hit_rate ? "HR" : kind == Kind::recall ? "Recall" : "NDCG";
  return std::string(prefix) + "@" + std::to_string(k);
}

double MetricSpec::operator()(std::span<const Index> ranked, std::span<const Index> targets) const {
  switch (kind) {
    case Kind::hit_rate: return hit_rate_at_k(ranked, targets, k);
    case Kind::recall: return recall_at_k(ranked, targets, k);
    case Kind::ndcg: return ndcg_at_k(ranked, targets, k);
  }
  return 0.0;
}

}  // namespace aisle::rec
