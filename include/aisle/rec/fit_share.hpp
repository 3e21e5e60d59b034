#pragma once

// What several fits on the same rows compute once. A caller that fits many
// models on one set of rows (auto's candidates, a blend's parts) puts one
// FitShare in their FitContext; a model asks it for what it needs and gets
// what an earlier fit on the same rows already built.

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "aisle/core/tensor.hpp"
#include "aisle/rec/histories.hpp"

namespace aisle::rec {

class FitShare {
 public:
  // For every item, the rows holding it (item-item neighbours, Gram matrices).
  std::shared_ptr<const Histories> item_rows(const Histories& rows, Index item_count);
  // X^T X of the binary rows x items matrix (EASE). Kept for later fits only
  // while the memory left after it is at least three more such matrices, so
  // that sharing never makes a later fit run out.
  std::shared_ptr<const Matrix> gram(const Histories& rows, Index item_count);

  // How many of each were built (not found): what tests and logs check.
  struct Built {
    int item_rows = 0;
    int grams = 0;
  };
  Built built() const;

 private:
  struct Entry {
    std::uint64_t fingerprint = 0;
    Index item_count = 0;
    std::shared_ptr<const Histories> item_rows;
    std::shared_ptr<const Matrix> gram;
  };
  Entry& entry(const Histories& rows, Index item_count);
  // The entry's item index, built on first use (the mutex held).
  const std::shared_ptr<const Histories>& item_rows_of(Entry& e, const Histories& rows, Index item_count);

  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
  Built built_;
};

}  // namespace aisle::rec
