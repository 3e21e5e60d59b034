#pragma once

#include <span>
#include <variant>

#include "aisle/core/tensor.hpp"

namespace aisle {

// What a loss compares predictions with: integer class labels (sparse
// losses) or a dense matrix (one-hot or probability rows, or regression).
class Targets {
 public:
  Targets() = default;
  Targets(Labels labels) : values_(std::move(labels)) {}  // NOLINT: implicit on purpose
  Targets(Matrix dense) : values_(std::move(dense)) {}    // NOLINT
  static Targets from_labels(ConstLabelsRef labels) { return Targets(Labels(labels)); }
  static Targets from_dense(ConstMatrixRef dense) { return Targets(Matrix(dense)); }

  bool has_labels() const { return std::holds_alternative<Labels>(values_); }
  const Labels& labels() const;
  const Matrix& dense() const;
  Index rows() const;

  // out = the given rows, in order. Reuses out's storage.
  void gather(std::span<const Index> rows, Targets& out) const;
  // out = rows [begin, begin + count).
  void slice(Index begin, Index count, Targets& out) const;

 private:
  std::variant<Labels, Matrix> values_;
};

}  // namespace aisle
