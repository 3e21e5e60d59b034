#pragma once

// The flat storage under aisle's HNSW index: faiss's IndexFlatIP (the same
// vectors, saved and read as one), whose distance computer is compiled with
// aisle's own flags. Debian's libfaiss is built for baseline x86-64 (SSE,
// no FMA), and the HNSW graph's build and search spend their time in that
// distance loop; compiled here it runs at the width of the build machine's
// vectors (AVX-512 with AISLE_NATIVE). faiss asks the storage for its
// distance computer (Index::get_distance_computer), so the graph search
// itself stays faiss's.

#include <faiss/IndexFlat.h>

#include <memory>

namespace aisle::rec::detail {

class NativeFlatInnerProduct final : public faiss::IndexFlatIP {
 public:
  explicit NativeFlatInnerProduct(faiss::Index::idx_t dim) : faiss::IndexFlatIP(dim) {}
  faiss::FlatCodesDistanceComputer* get_FlatCodesDistanceComputer() const override;
};

// A NativeFlatInnerProduct holding flat's vectors, which it takes.
std::unique_ptr<NativeFlatInnerProduct> native_storage_from(faiss::IndexFlat& flat);

}  // namespace aisle::rec::detail
