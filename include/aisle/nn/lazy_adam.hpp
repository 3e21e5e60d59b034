#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "aisle/core/tensor.hpp"
#include "aisle/nn/adam.hpp"

namespace aisle {

// Adam for tables of which one step touches a few rows: embeddings and output
// layers over a catalogue of up to millions of items. A step updates the rows
// it is given, their moments included, and leaves every other row as it was
// (TensorFlow's LazyAdam): a plain Adam step would walk the whole table and
// both its moments, which on a large catalogue costs more than the batch.
// Bias corrections use the step count of begin_step(), shared by all tables,
// so a row that every step touches follows Adam exactly.
class LazyAdam {
 public:
  explicit LazyAdam(AdamOptions options = {});

  // Starts the next step: the updates until the next call use its count.
  void begin_step() { ++step_; }
  std::int64_t steps() const { return step_; }

  // Where row i of the gradient lies.
  enum class GradientRows {
    compact,     // grad.row(i) is the gradient of table.row(rows[i])
    like_table,  // grad has the table's shape: grad.row(rows[i])
  };
  // Updates the given rows (distinct ids of table) of the table in `slot`
  // (one slot per table, its moments sized on first use).
  void update_rows(std::size_t slot, Matrix& table, std::span<const Index> rows, const Matrix& grad,
                   GradientRows layout);

  const AdamOptions& options() const { return options_; }

 private:
  AdamOptions options_;
  std::int64_t step_ = 0;
  std::vector<Matrix> m_, v_;
};

}  // namespace aisle
