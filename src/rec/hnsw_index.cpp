#include "aisle/rec/hnsw_index.hpp"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/HNSW.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <omp.h>

#include <algorithm>

#include "aisle/core/error.hpp"
#include "aisle/rec/topk.hpp"
#include "core/parallel_for.hpp"
#include "core/thread_binding.hpp"
#include "rec/hnsw_storage.hpp"

namespace aisle::rec {
namespace {

using FaissId = faiss::Index::idx_t;

// One query's restriction, asked by faiss of every item its search meets.
class RestrictionSelector final : public faiss::IDSelector {
 public:
  RestrictionSelector(std::span<const std::uint8_t> allowed, std::span<const Index> excluded)
      : allowed_(allowed), excluded_(excluded) {}
  bool is_member(FaissId id) const override {
    if (!allowed_.empty() && allowed_[static_cast<std::size_t>(id)] == 0) return false;
    return !std::binary_search(excluded_.begin(), excluded_.end(), static_cast<Index>(id));
  }

 private:
  std::span<const std::uint8_t> allowed_;
  std::span<const Index> excluded_;
};

// faiss opens an OpenMP team for every search call, even of one query: a
// team of all threads where one has work, which costs more than a small
// search itself. Outside a parallel region the calling thread's team size
// is set to one for the call (OpenMP keeps it per thread), and restored.
class SingleThreadedFaiss {
 public:
  SingleThreadedFaiss() : before_(omp_in_parallel() ? 0 : omp_get_max_threads()) {
    if (before_ > 1) omp_set_num_threads(1);
  }
  ~SingleThreadedFaiss() {
    if (before_ > 1) omp_set_num_threads(before_);
  }
  SingleThreadedFaiss(const SingleThreadedFaiss&) = delete;
  SingleThreadedFaiss& operator=(const SingleThreadedFaiss&) = delete;

 private:
  int before_;
};

void check_options(const HnswOptions& options) {
  if (options.links < 2 || options.links > 512 || options.ef_construction < 1 || options.ef_search < 1)
    throw Error("hnsw index: need 2 <= links <= 512, ef_construction >= 1 and ef_search >= 1 (links " +
                std::to_string(options.links) + ", ef_construction " + std::to_string(options.ef_construction) +
                ", ef_search " + std::to_string(options.ef_search) + ")");
}

// faiss reports errors as faiss::FaissException; aisle's callers expect aisle::Error.
template <class Call>
auto calling_faiss(const std::string& what, Call&& call) {
  try {
    return call();
  } catch (const faiss::FaissException& e) {
    throw Error(what + ": " + e.what());
  }
}

// Puts the native storage (hnsw_storage.hpp) under index in place of
// faiss's own flat storage, with the vectors it holds.
void use_native_storage(faiss::IndexHNSWFlat& index) {
  auto native = detail::native_storage_from(*static_cast<faiss::IndexFlat*>(index.storage));
  if (index.own_fields) delete index.storage;
  index.storage = native.release();
  index.own_fields = true;
}

}  // namespace

HnswIndex::HnswIndex() = default;
HnswIndex::~HnswIndex() = default;
HnswIndex::HnswIndex(HnswIndex&&) noexcept = default;
HnswIndex& HnswIndex::operator=(HnswIndex&&) noexcept = default;

Index HnswIndex::size() const { return index_ ? static_cast<Index>(index_->ntotal) : 0; }
Index HnswIndex::dim() const { return index_ ? static_cast<Index>(index_->d) : 0; }


HnswIndex HnswIndex::build(ConstMatrixRef items, const HnswOptions& options,
                           const std::function<void(Index, Index)>& progress) {
  check_options(options);
  if (items.rows() == 0 || items.cols() == 0) throw Error("hnsw index: no items to index " + shape_string(items));
  if (!items.allFinite()) throw Error("hnsw index: an item vector holds NaN or infinity");
  HnswIndex out;
  out.options_ = options;
  // The inner product itself, not an L2 problem made of it by one more
  // coordinate (Bachrach et al.): on embedding-shaped vectors that lost
  // recall (0.77 against 0.92 at ef_search 64, 300,000 items; docs/results.md).
  out.index_ = std::make_unique<faiss::IndexHNSWFlat>(static_cast<int>(items.cols()), options.links,
                                                      faiss::METRIC_INNER_PRODUCT);
  use_native_storage(*out.index_);
  out.index_->hnsw.efConstruction = options.ef_construction;
  out.set_ef_search(options.ef_search);
  const Matrix contiguous = items;  // faiss reads rows packed one after another
  aisle::detail::bind_thread_count();
  // Slices, so that a build of minutes reports progress; faiss links each
  // slice on all threads.
  constexpr Index kSlice = 65536;
  for (Index first = 0; first < contiguous.rows(); first += kSlice) {
    const auto rows = std::min(kSlice, contiguous.rows() - first);
    calling_faiss("hnsw index", [&] { out.index_->add(rows, contiguous.row(first).data()); });
    if (progress) progress(first + rows, contiguous.rows());
  }
  return out;
}

std::vector<std::vector<ScoredIndex>> HnswIndex::search(ConstMatrixRef queries, Index k,
                                                        const SearchRestriction& restriction) const {
  if (!index_) throw Error("hnsw index: search before build or load");
  if (queries.cols() != dim())
    throw Error("hnsw index: queries " + shape_string(queries) + " for vectors of dimension " + std::to_string(dim()));
  if (!restriction.allowed.empty() && static_cast<Index>(restriction.allowed.size()) != size())
    throw Error("hnsw index: an allow mask of " + std::to_string(restriction.allowed.size()) + " for " +
                std::to_string(size()) + " items");
  if (!restriction.exclude.empty() && static_cast<Index>(restriction.exclude.size()) != queries.rows())
    throw Error("hnsw index: " + std::to_string(restriction.exclude.size()) + " exclusion lists for " +
                std::to_string(queries.rows()) + " queries");
  std::vector<std::vector<ScoredIndex>> out(static_cast<std::size_t>(queries.rows()));
  if (k <= 0) return out;
  const Matrix contiguous = queries;
  // The stored vectors give the exact inner products of the items found.
  const float* stored = static_cast<const faiss::IndexFlat*>(index_->storage)->get_xb();
  const auto width = static_cast<std::size_t>(index_->d);
  const int ef = std::max(options_.ef_search, static_cast<int>(k));
  aisle::detail::IterationErrors errors(queries.rows());
  // One faiss search a query, each with its own selector (its exclusions);
  // faiss's own parallel loop over queries then runs on one thread.
  aisle::detail::parallel_for_with_state(
      queries.rows(), {.uneven = true, .parallel = queries.rows() > 1},
      [&] { return std::pair<std::vector<float>, std::vector<FaissId>>(k, k); },
      [&](auto& buffers, Index q) {
        // Not a structured binding: clang 14 cannot capture one in the lambda below.
        auto& scores = buffers.first;
        auto& ids = buffers.second;
        const auto excluded = restriction.exclude.empty()
                                  ? std::span<const Index>()
                                  : std::span<const Index>(restriction.exclude[static_cast<std::size_t>(q)]);
        RestrictionSelector selector(restriction.allowed, excluded);
        faiss::SearchParametersHNSW params;
        params.efSearch = ef;
        params.sel = (restriction.allowed.empty() && excluded.empty()) ? nullptr : &selector;
        bool searched = false;
        errors.run(q, [&] {
          SingleThreadedFaiss alone;
          index_->search(1, contiguous.row(q).data(), k, scores.data(), ids.data(), &params);
          searched = true;
        });
        if (!searched) return;
        auto& found = out[static_cast<std::size_t>(q)];
        for (const auto id : ids) {
          if (id < 0) continue;  // fewer than k items allowed
          const auto item = ConstMatrixMap(stored + static_cast<std::size_t>(id) * width, 1, queries.cols());
          found.push_back({static_cast<Index>(id), item.row(0).dot(queries.row(q))});
        }
        std::sort(found.begin(), found.end(), [](const ScoredIndex& a, const ScoredIndex& b) {
          return ranks_before(a.score, a.index, b.score, b.index);
        });
      });
  calling_faiss("hnsw index", [&] { errors.rethrow_first(); });
  return out;
}

void HnswIndex::set_ef_search(int ef_search) {
  if (ef_search < 1) throw Error("hnsw index: ef_search must be at least 1, not " + std::to_string(ef_search));
  options_.ef_search = ef_search;
  // faiss 1.7.3 sizes a search's candidate heap from the index's own
  // efSearch and stops it by the search parameters' one: both must agree,
  // or the search stops early (recall 0.66 instead of 1.0 in a test of 6,000
  // items). So the setting lives on the index, and searches pass the same.
  if (index_) index_->hnsw.efSearch = ef_search;
}

std::vector<std::uint8_t> HnswIndex::to_bytes() const {
  if (!index_) throw Error("hnsw index: nothing to save before build or load");
  faiss::VectorIOWriter writer;
  calling_faiss("hnsw index", [&] { faiss::write_index(index_.get(), &writer); });
  return std::move(writer.data);
}

HnswIndex HnswIndex::from_bytes(std::span<const std::uint8_t> bytes, const HnswOptions& options,
                                const std::string& what) {
  check_options(options);
  faiss::VectorIOReader reader;
  reader.data.assign(bytes.begin(), bytes.end());
  std::unique_ptr<faiss::Index> index(calling_faiss(what, [&] { return faiss::read_index(&reader); }));
  auto* hnsw = dynamic_cast<faiss::IndexHNSWFlat*>(index.get());
  if (hnsw == nullptr || hnsw->metric_type != faiss::METRIC_INNER_PRODUCT ||
      dynamic_cast<const faiss::IndexFlat*>(hnsw->storage) == nullptr)
    throw Error(what + ": not an HNSW index of aisle's (inner product over flat storage)");
  index.release();
  HnswIndex out;
  out.index_.reset(hnsw);
  use_native_storage(*hnsw);
  out.options_ = options;
  out.set_ef_search(options.ef_search);
  return out;
}

}  // namespace aisle::rec
