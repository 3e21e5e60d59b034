#pragma once

#include <Eigen/SparseCore>
#include <span>
#include <vector>

#include "aisle/core/tensor.hpp"

namespace aisle::rec {

// A binary user-by-item (or query-by-item) matrix, compressed by rows.
using SparseMatrix = Eigen::SparseMatrix<float, Eigen::RowMajor>;

// Ordered item lists, one per row (a user, a session, a cart, a query), kept
// as one flat array with row offsets: a CSR structure without values.
class Histories {
 public:
  Histories() : offsets_{0} {}

  Index size() const { return static_cast<Index>(offsets_.size()) - 1; }
  bool empty() const { return size() == 0; }
  // The number of items over all rows.
  Index total() const { return static_cast<Index>(items_.size()); }
  std::span<const Index> operator[](Index row) const {
    const auto begin = static_cast<std::size_t>(offsets_[static_cast<std::size_t>(row)]);
    const auto end = static_cast<std::size_t>(offsets_[static_cast<std::size_t>(row) + 1]);
    return {items_.data() + begin, end - begin};
  }

  void reserve(Index rows, Index total) {
    offsets_.reserve(static_cast<std::size_t>(rows) + 1);
    items_.reserve(static_cast<std::size_t>(total));
  }
  void add(std::span<const Index> items) {
    items_.insert(items_.end(), items.begin(), items.end());
    offsets_.push_back(static_cast<Index>(items_.size()));
  }

  const std::vector<Index>& offsets() const { return offsets_; }
  const std::vector<Index>& items() const { return items_; }

  // From raw CSR arrays; throws aisle::Error if they are inconsistent or an
  // item is outside [0, item_count).
  static Histories from_arrays(std::vector<Index> offsets, std::vector<Index> items, Index item_count);

 private:
  std::vector<Index> offsets_;
  std::vector<Index> items_;
};

// The binary rows x item_count matrix of the histories (repeats count once).
SparseMatrix to_sparse(const Histories& histories, Index item_count);

// For each item, how many rows hold it (repeats within a row count once).
std::vector<Index> item_counts(const Histories& histories, Index item_count);

// The rows of histories in rows, in that order.
Histories select_rows(const Histories& histories, std::span<const Index> rows);

}  // namespace aisle::rec
