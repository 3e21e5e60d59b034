#include "rec/hnsw_storage.hpp"

#include <faiss/impl/DistanceComputer.h>

#include "aisle/core/tensor.hpp"

namespace aisle::rec::detail {
namespace {

using Vector = Eigen::Map<const Eigen::Matrix<float, 1, Eigen::Dynamic>>;

// faiss's HNSW wraps this in its negation for an inner-product index, so
// these are the inner products themselves, larger is nearer.
class NativeInnerProduct final : public faiss::FlatCodesDistanceComputer {
 public:
  NativeInnerProduct(const float* vectors, Index dim)
      : faiss::FlatCodesDistanceComputer(reinterpret_cast<const std::uint8_t*>(vectors), sizeof(float) * dim),
        dim_(dim) {}

  void set_query(const float* x) override { query_ = x; }

  float distance_to_code(const std::uint8_t* code) override {
    return Vector(reinterpret_cast<const float*>(code), dim_).dot(Vector(query_, dim_));
  }

  float symmetric_dis(idx_t i, idx_t j) override { return Vector(row(i), dim_).dot(Vector(row(j), dim_)); }

 private:
  const float* row(idx_t i) const { return reinterpret_cast<const float*>(codes + i * code_size); }

  Index dim_;
  const float* query_ = nullptr;
};

}  // namespace

faiss::FlatCodesDistanceComputer* NativeFlatInnerProduct::get_FlatCodesDistanceComputer() const {
  return new NativeInnerProduct(get_xb(), static_cast<aisle::Index>(d));
}

std::unique_ptr<NativeFlatInnerProduct> native_storage_from(faiss::IndexFlat& flat) {
  auto native = std::make_unique<NativeFlatInnerProduct>(flat.d);
  native->codes.swap(flat.codes);
  native->ntotal = flat.ntotal;
  flat.ntotal = 0;
  return native;
}

}  // namespace aisle::rec::detail
