#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "aisle/core/tensor.hpp"
#include "aisle/rec/inner_product_search.hpp"

namespace faiss {
struct IndexHNSWFlat;
}

namespace aisle::rec {

// Settings of the approximate index (faiss's HNSW graph): more links and a
// wider search find more of the true top k, at more memory and time.
// Build and search time go mostly to inner products, computed by aisle's
// own storage under faiss's graph (src/rec/hnsw_storage.hpp), since Debian's
// faiss is built for baseline x86-64, without AVX2.
struct HnswOptions {
  // Inner-product graphs need more links and a wider linking search than
  // L2 ones: at 16 / 40, recall@10 on 1,000,000 embedding-shaped items
  // stopped near 0.7 however wide the search; at 32 / 128 it reaches 0.98
  // at ef_search 48, and the build stays under three minutes on 2 cores
  // (docs/results.md).
  int links = 32;             // M: neighbours a node keeps a layer (layer 0 keeps twice as many)
  int ef_construction = 128;  // candidates weighed when linking a new item
  int ef_search = 48;         // candidates a search keeps (at least k)
};

// An approximate top-k index by inner product over item vectors: faiss's
// IndexHNSWFlat (Debian's libfaiss-dev) with the inner-product metric; the
// scores it returns are the inner products of the items it found, computed
// as exact_top_k computes them.
// Restrictions (an allow mask, each query's exclusions) are applied inside
// the graph search, through a faiss IDSelector, never by fetching more and
// dropping: a query with an allow-list of 10% of the catalogue still gets k
// allowed items when k exist. Searches are const and safe from many threads.
class HnswIndex {
 public:
  HnswIndex();
  ~HnswIndex();
  HnswIndex(HnswIndex&&) noexcept;
  HnswIndex& operator=(HnswIndex&&) noexcept;

  // Builds over the rows of items (one vector an item, index = row); on
  // all threads. progress(done, total) after each slice of rows, if set.
  static HnswIndex build(ConstMatrixRef items, const HnswOptions& options = {},
                         const std::function<void(Index, Index)>& progress = {});

  bool empty() const { return index_ == nullptr; }
  Index size() const;
  Index dim() const;
  const HnswOptions& options() const { return options_; }

  // For each row of queries, up to k items best first (ties by lower
  // index), as exact_top_k answers but approximately, weighing
  // max(ef_search, k) candidates.
  std::vector<std::vector<ScoredIndex>> search(ConstMatrixRef queries, Index k,
                                               const SearchRestriction& restriction = {}) const;
  // Not safe while another thread searches: set it before serving.
  void set_ef_search(int ef_search);

  // faiss's own serialisation, for a model file or a file beside it.
  std::vector<std::uint8_t> to_bytes() const;
  // Throws aisle::Error naming `what` when the bytes are not an HNSW index.
  static HnswIndex from_bytes(std::span<const std::uint8_t> bytes, const HnswOptions& options,
                              const std::string& what);

 private:
  std::unique_ptr<faiss::IndexHNSWFlat> index_;
  HnswOptions options_;
};

}  // namespace aisle::rec
