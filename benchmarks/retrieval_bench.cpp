// Retrieval by inner product at catalogue scale: one item matrix
// (items x dim, shaped like trained embeddings), then
//   - a plain read of the matrix on every thread (the memory-bandwidth limit),
//   - single queries through exact_top_k (median latency, and the bytes of
//     the matrix a second that makes),
//   - the same queries with an allow-list of 10% of the catalogue,
//   - all queries as one batch,
//   - an HnswIndex (faiss) built over the matrix, and the same queries
//     through it, plain and with the allow-list, at each --ef value, with
//     their recall@k against the exact lists (--ann 0 skips this).
// Prints one JSON object. Used by benchmarks/scale.sh.
//
// usage: aisle-retrieval-bench [--items 1000000] [--dim 128] [--queries 2000] [--k 10]
//                              [--ann 1] [--links 32] [--ef-construction 128] [--ef 16,32,64,128 and the default]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aisle/core/random.hpp"
#include "aisle/core/threads.hpp"
#include "aisle/rec/hnsw_index.hpp"
#include "aisle/rec/inner_product_search.hpp"
#include "support/synthetic.hpp"

namespace {

using aisle::Index;
using aisle::Matrix;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Passes reading every float of m on all threads; returns the median pass's
// GB/s. Taken before and after the queries (see main): one pass is 10-20 ms,
// where a neighbour's burst on a shared machine moves a few passes.
double stream_gbps(const Matrix& m) {
  std::vector<double> times;
  volatile float sink = 0;
  for (int pass = 0; pass < 21; ++pass) {
    const auto start = Clock::now();
    float total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (Index r = 0; r < m.rows(); ++r) total += m.row(r).sum();
    times.push_back(seconds_since(start));
    sink = sink + total;
  }
  return static_cast<double>(m.size()) * sizeof(float) / median(times) / 1e9;
}

std::string text_option(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == "--" + name) return argv[i + 1];
  return fallback;
}

long long option(int argc, char** argv, const std::string& name, long long fallback) {
  return std::atoll(text_option(argc, argv, name, std::to_string(fallback)).c_str());
}

std::vector<int> list_option(int argc, char** argv, const std::string& name, const std::string& fallback) {
  std::vector<int> values;
  std::string text = text_option(argc, argv, name, fallback);
  for (std::size_t at = 0; at < text.size();) {
    const auto comma = std::min(text.find(',', at), text.size());
    values.push_back(std::atoi(text.substr(at, comma - at).c_str()));
    at = comma + 1;
  }
  return values;
}

using Lists = std::vector<std::vector<aisle::rec::ScoredIndex>>;

double recall(const Lists& approximate, const Lists& exact) {
  double found = 0, total = 0;
  for (std::size_t q = 0; q < exact.size(); ++q) {
    for (const auto& hit : exact[q]) {
      found += std::any_of(approximate[q].begin(), approximate[q].end(),
                           [&](const aisle::rec::ScoredIndex& a) { return a.index == hit.index; });
    }
    total += static_cast<double>(exact[q].size());
  }
  return found / total;
}

// Each query alone, as a server answers them: the median milliseconds, and the lists.
template <class Search>
std::pair<double, Lists> one_at_a_time(const Matrix& queries, Search&& search) {
  std::vector<double> ms;
  Lists lists;
  for (Index q = 0; q < queries.rows(); ++q) {
    const auto start = Clock::now();
    auto top = search(queries.row(q));
    ms.push_back(seconds_since(start) * 1e3);
    lists.push_back(std::move(top[0]));
  }
  return {median(ms), std::move(lists)};
}

}  // namespace

int main(int argc, char** argv) {
  const Index items = option(argc, argv, "items", 1000000);
  const Index dim = option(argc, argv, "dim", 128);
  const Index query_count = option(argc, argv, "queries", 2000);
  const Index k = option(argc, argv, "k", 10);
  aisle::set_num_threads(0);
  const auto matrix = aisle::test_support::embedding_like(items, dim, 1);
  const auto queries = aisle::test_support::embedding_like(query_count, dim, 2);
  std::vector<std::uint8_t> tenth(static_cast<std::size_t>(items));
  aisle::Rng rng(3);
  for (auto& a : tenth) a = rng.below(10) == 0;

  const auto stream_before = stream_gbps(matrix);
  const aisle::rec::SearchRestriction filtered{tenth, {}};
  const auto [exact_ms, exact_lists] = one_at_a_time(queries, [&](const auto& q) {
    return aisle::rec::exact_top_k(matrix, q, k);
  });
  const auto [filtered_ms, filtered_lists] = one_at_a_time(queries, [&](const auto& q) {
    return aisle::rec::exact_top_k(matrix, q, k, filtered);
  });
  const auto start = Clock::now();
  const auto batch = aisle::rec::exact_top_k(matrix, queries, k);
  const auto batch_s = seconds_since(start);
  const auto stream = std::max(stream_before, stream_gbps(matrix));

  nlohmann::ordered_json ann = nullptr;
  if (option(argc, argv, "ann", 1) != 0) {
    aisle::rec::HnswOptions options;
    options.links = static_cast<int>(option(argc, argv, "links", options.links));
    options.ef_construction = static_cast<int>(option(argc, argv, "ef-construction", options.ef_construction));
    const auto build_start = Clock::now();
    auto index = aisle::rec::HnswIndex::build(matrix, options, [&](Index done, Index total) {
      std::cerr << "\rhnsw build " << done << "/" << total << std::flush;
    });
    std::cerr << "\n";
    ann = {{"links", options.links}, {"ef_construction", options.ef_construction},
           {"default_ef_search", options.ef_search}, {"build_s", seconds_since(build_start)},
           {"by_ef", nlohmann::ordered_json::array()}};
    // The default sweep holds the library's default ef_search, which
    // scale.sh reports.
    const auto sweep = list_option(argc, argv, "ef", "16,32,64,128," + std::to_string(options.ef_search));
    for (const int ef : std::set<int>(sweep.begin(), sweep.end())) {
      index.set_ef_search(ef);
      const auto [ann_ms, ann_lists] = one_at_a_time(queries, [&](const auto& q) { return index.search(q, k); });
      const auto [ann_filtered_ms, ann_filtered_lists] =
          one_at_a_time(queries, [&](const auto& q) { return index.search(q, k, filtered); });
      ann["by_ef"].push_back({{"ef_search", ef},
                              {"top10_ms_p50", ann_ms},
                              {"recall_at_10", recall(ann_lists, exact_lists)},
                              {"filtered_top10_ms_p50", ann_filtered_ms},
                              {"filtered_recall_at_10", recall(ann_filtered_lists, filtered_lists)}});
    }
  }
  const double bytes = static_cast<double>(matrix.size()) * sizeof(float);
  const nlohmann::ordered_json report{
      {"items", items},
      {"dim", dim},
      {"queries", query_count},
      {"threads", aisle::num_threads()},
      {"stream_gbps", stream},
      {"exact_top10_ms_p50", exact_ms},
      {"exact_scan_gbps", bytes / (exact_ms / 1e3) / 1e9},
      {"exact_scan_of_stream", bytes / (exact_ms / 1e3) / 1e9 / stream},
      {"exact_filtered_top10_ms_p50", filtered_ms},
      {"exact_batch_s", batch_s},
      {"exact_batch_ms_per_query", batch_s * 1e3 / static_cast<double>(query_count)},
      {"batch_results", batch.size()},
      {"ann", ann}};
  std::cout << report.dump() << "\n";
  return 0;
}
