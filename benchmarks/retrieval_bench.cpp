// Exact retrieval by inner product at catalogue scale: one item matrix
// (random, items x dim), then
//   - a plain read of the matrix on every thread (the memory-bandwidth limit),
//   - single queries through exact_top_k (median latency, and the bytes of
//     the matrix a second that makes),
//   - the same queries with an allow-list of 10% of the catalogue,
//   - all queries as one batch.
// Prints one JSON object. Used by benchmarks/scale.sh.
//
// usage: aisle-retrieval-bench [--items 1000000] [--dim 128] [--queries 2000] [--k 10]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aisle/core/random.hpp"
#include "aisle/core/threads.hpp"
#include "aisle/rec/inner_product_search.hpp"

namespace {

using aisle::Index;
using aisle::Matrix;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

Matrix random_matrix(Index rows, Index cols, std::uint64_t seed) {
  Matrix m(rows, cols);
#pragma omp parallel for schedule(static)
  for (Index r = 0; r < rows; ++r) {
    aisle::Rng rng(seed * 1000003 + static_cast<std::uint64_t>(r));
    for (Index c = 0; c < cols; ++c) m(r, c) = rng.uniform(-1.0f, 1.0f);
  }
  return m;
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

long long option(int argc, char** argv, const std::string& name, long long fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == "--" + name) return std::atoll(argv[i + 1]);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const Index items = option(argc, argv, "items", 1000000);
  const Index dim = option(argc, argv, "dim", 128);
  const Index query_count = option(argc, argv, "queries", 2000);
  const Index k = option(argc, argv, "k", 10);
  aisle::set_num_threads(0);
  const auto matrix = random_matrix(items, dim, 1);
  const auto queries = random_matrix(query_count, dim, 2);
  std::vector<std::uint8_t> tenth(static_cast<std::size_t>(items));
  aisle::Rng rng(3);
  for (auto& a : tenth) a = rng.below(10) == 0;

  const auto stream_before = stream_gbps(matrix);
  const auto single = [&](const aisle::rec::SearchRestriction& restriction) {
    std::vector<double> ms;
    for (Index q = 0; q < query_count; ++q) {
      const auto start = Clock::now();
      const auto top = aisle::rec::exact_top_k(matrix, queries.row(q), k, restriction);
      ms.push_back(seconds_since(start) * 1e3);
      if (top[0].empty()) std::abort();
    }
    return median(ms);
  };
  const auto exact_ms = single({});
  const auto filtered_ms = single({tenth, {}});
  const auto start = Clock::now();
  const auto batch = aisle::rec::exact_top_k(matrix, queries, k);
  const auto batch_s = seconds_since(start);
  const auto stream = std::max(stream_before, stream_gbps(matrix));
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
      {"batch_results", batch.size()}};
  std::cout << report.dump() << "\n";
  return 0;
}
