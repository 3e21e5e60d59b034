#include "aisle/rec/inner_product_search.hpp"

#include <algorithm>

#include "aisle/core/error.hpp"
#include "aisle/rec/topk.hpp"
#include "core/parallel_for.hpp"
#include "rec/few_query_scores.hpp"

namespace aisle::rec {
namespace {

// Items a block: 256 rows of 128 floats are 128 KB, which stays in L2 while
// every query block passes over it.
constexpr Index kItemBlock = 256;
constexpr Index kQueryBlock = 64;

// The k best (score, index) pairs seen so far, the worst at the front.
class TopKHeap {
 public:
  explicit TopKHeap(Index k) : k_(static_cast<std::size_t>(k)) { heap_.reserve(k_); }
  bool full() const { return heap_.size() == k_; }
  // The worst kept score: a candidate below it cannot enter (when full).
  float threshold() const { return heap_.front().score; }
  bool enters(float score, Index index) const {
    return !full() || ranks_before(score, index, heap_.front().score, heap_.front().index);
  }
  void push(float score, Index index) {
    if (full()) {
      std::pop_heap(heap_.begin(), heap_.end(), worse);
      heap_.back() = {index, score};
    } else {
      heap_.push_back({index, score});
    }
    std::push_heap(heap_.begin(), heap_.end(), worse);
  }
  const std::vector<ScoredIndex>& items() const { return heap_; }

 private:
  static bool worse(const ScoredIndex& a, const ScoredIndex& b) { return ranks_before(a.score, a.index, b.score, b.index); }
  std::size_t k_;
  std::vector<ScoredIndex> heap_;
};

bool excluded(const SearchRestriction& restriction, Index query, Index item) {
  if (restriction.exclude.empty()) return false;
  const auto& list = restriction.exclude[static_cast<std::size_t>(query)];
  return std::binary_search(list.begin(), list.end(), item);
}

// Offers one query's scores of a block of items, from item `first` on.
void offer(std::span<const float> scores, Index first, Index query, const SearchRestriction& restriction,
           TopKHeap& heap) {
  const auto n = static_cast<Index>(scores.size());
  constexpr Index kChunk = 32;
  for (Index j = 0; j < n; j += kChunk) {
    const auto end = std::min(n, j + kChunk);
    if (heap.full()) {
      // Most chunks hold no score that reaches the worst kept one: one
      // branch-free test a chunk. NaN at the front ranks last: anything but NaN beats it.
      const float threshold = heap.threshold();
      bool any = threshold != threshold;
      for (Index i = j; i < end; ++i) any |= scores[static_cast<std::size_t>(i)] >= threshold;
      if (!any) continue;
    }
    for (Index i = j; i < end; ++i) {
      const auto item = first + i;
      const float score = scores[static_cast<std::size_t>(i)];
      if (!heap.enters(score, item)) continue;
      if (!restriction.allowed.empty() && restriction.allowed[static_cast<std::size_t>(item)] == 0) continue;
      if (excluded(restriction, query, item)) continue;
      heap.push(score, item);
    }
  }
}

// scores = queries x items^T: a few queries item row by item row (see
// few_query_scores.hpp), more as one matrix product.
template <class Queries, class Items, class Scores>
void score_block(const Queries& queries, const Items& items, Scores& scores) {
  if (queries.rows() < detail::kFewQueries) {
    detail::score_by_item_rows(queries, items, scores);
  } else {
    scores.noalias() = queries * items.transpose();
  }
}

void check_shapes(ConstMatrixRef items, ConstMatrixRef queries, const SearchRestriction& restriction) {
  if (items.cols() != queries.cols())
    throw Error("exact_top_k: items " + shape_string(items) + " and queries " + shape_string(queries) +
                " differ in dimension");
  if (!restriction.allowed.empty() && static_cast<Index>(restriction.allowed.size()) != items.rows())
    throw Error("exact_top_k: an allow mask of " + std::to_string(restriction.allowed.size()) + " for " +
                std::to_string(items.rows()) + " items");
  if (!restriction.exclude.empty() && static_cast<Index>(restriction.exclude.size()) != queries.rows())
    throw Error("exact_top_k: " + std::to_string(restriction.exclude.size()) + " exclusion lists for " +
                std::to_string(queries.rows()) + " queries");
}

}  // namespace

std::vector<std::vector<ScoredIndex>> exact_top_k(ConstMatrixRef items, ConstMatrixRef queries, Index k,
                                                  const SearchRestriction& restriction) {
  check_shapes(items, queries, restriction);
  const auto query_count = queries.rows();
  std::vector<std::vector<ScoredIndex>> out(static_cast<std::size_t>(query_count));
  if (k <= 0 || items.rows() == 0) return out;
  // Each thread scans its share of the items into heaps of its own.
  std::vector<std::vector<TopKHeap>> heaps;
  const bool parallel = items.size() >= detail::kParallelItemFloats;
  aisle::detail::parallel_team(parallel, [&] {
#pragma omp single
    heaps.assign(static_cast<std::size_t>(omp_get_num_threads()), std::vector<TopKHeap>(static_cast<std::size_t>(query_count), TopKHeap(k)));
    auto& mine = heaps[static_cast<std::size_t>(omp_get_thread_num())];
    const auto share = aisle::detail::this_threads_share(items.rows());
    Matrix tile(std::min(kQueryBlock, query_count), kItemBlock);
    for (Index first = share.begin; first < share.end; first += kItemBlock) {
      const auto block = std::min(kItemBlock, share.end - first);
      const auto item_rows = items.middleRows(first, block);
      for (Index q0 = 0; q0 < query_count; q0 += kQueryBlock) {
        const auto rows = std::min(kQueryBlock, query_count - q0);
        auto scores = tile.topLeftCorner(rows, block);
        score_block(queries.middleRows(q0, rows), item_rows, scores);
        for (Index q = 0; q < rows; ++q) {
          offer(std::span<const float>(scores.row(q).data(), static_cast<std::size_t>(block)), first, q0 + q,
                restriction, mine[static_cast<std::size_t>(q0 + q)]);
        }
      }
    }
  });
  // The threads' heaps merged: at most threads x k candidates a query.
  for (Index q = 0; q < query_count; ++q) {
    auto& best = out[static_cast<std::size_t>(q)];
    for (const auto& thread_heaps : heaps) {
      const auto& kept = thread_heaps[static_cast<std::size_t>(q)].items();
      best.insert(best.end(), kept.begin(), kept.end());
    }
    std::sort(best.begin(), best.end(),
              [](const ScoredIndex& a, const ScoredIndex& b) { return ranks_before(a.score, a.index, b.score, b.index); });
    if (static_cast<Index>(best.size()) > k) best.resize(static_cast<std::size_t>(k));
  }
  return out;
}

}  // namespace aisle::rec
