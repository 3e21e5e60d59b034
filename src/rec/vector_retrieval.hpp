#pragma once

// How a Recommender ranks through its model's item vectors (models whose
// scores are inner products, Model::vector_dim() > 0): exactly, streaming
// the item matrix once a batch (exact_top_k), or through an approximate
// HnswIndex built over the same vectors.

#include <optional>

#include "aisle/core/tensor.hpp"
#include "aisle/rec/hnsw_index.hpp"

namespace aisle::rec::detail {

struct VectorRetrieval {
  Matrix items;  // the model's item_vectors()
  std::optional<HnswIndex> index;
};

}  // namespace aisle::rec::detail
