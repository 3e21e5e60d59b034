#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "aisle/core/tensor.hpp"
#include "aisle/nn/adam.hpp"

namespace aisle {

// Adam for tables of which one step touches a few rows: embeddings and output
// layers over a catalogue of up to millions of items. A plain Adam step walks
// the whole table and both its moments, which on a large catalogue costs more
// than the batch. Here a step visits only the rows it is given; a row first
// catches up on the steps it missed, in which its gradient was zero (its
// moments decay and it keeps moving along them, as under Adam), in closed
// form, then takes this step. So the table follows Adam on gradients that
// are zero outside the given rows, to rounding, at the cost of those rows.
// (TensorFlow's LazyAdam skips the missed steps instead: on the neural
// recommender's input table that lost 7% of its NDCG@10 on amazon-beauty.)
// Bias corrections use the step count of begin_step(), shared by all tables.
// A row that every step touches follows Adam bit for bit.
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
  // Brings the given rows (distinct) up to the step before this one, as
  // catch_up does for the whole table: before a forward pass reads them, so
  // that it sees the weights dense Adam would have. Their update_rows in
  // this step then has nothing to catch up.
  void catch_up_rows(std::size_t slot, Matrix& table, std::span<const Index> rows);
  // Brings every row of the table in `slot` up to the current step, as if
  // the rows it did not update had taken it with zero gradients: before the
  // table is read (saved, evaluated). Costs a pass over the table.
  void catch_up(std::size_t slot, Matrix& table);

  const AdamOptions& options() const { return options_; }

 private:
  struct Slot {
    Matrix m, v;
    std::vector<std::int64_t> last_step;  // of each row: the last step it took (0: none)
  };
  Slot& slot_for(std::size_t slot, const Matrix& table);
  void check_rows(const Matrix& table, std::span<const Index> rows) const;
  static void prefetch_row(const Slot& state, const Matrix& table, Index row);
  // visit(i, rows[i]) for every i, on the calling thread's team when large.
  template <class Visit>
  static void for_each_row(const Slot& state, const Matrix& table, std::span<const Index> rows, Visit&& visit);
  // Applies the steps after row's last one through `through`, with zero
  // gradients.
  void catch_up_row(Slot& state, Matrix& table, Index row, std::int64_t through) const;
  // The sum over the `missed` steps after step `last` of each step's move
  // (in units of lr m / sqrt(v) at `last`).
  double missed_move_sum(std::int64_t last, std::int64_t missed) const;
  void tabulate_tails();
  double geometric_tail(std::int64_t s) const;

  AdamOptions options_;
  double log_b1_ = 0, log_b2_ = 0, log_keep_ = 0;  // logs of beta1, beta2, 1 - lr * weight_decay
  double ratio_ = 0, log_ratio_ = 0;  // r = b1 / sqrt(b2) / keep: how a missed step's move shrinks with its distance
  std::vector<double> tails_;   // T(s) for the early steps (empty when ratio_ >= 1)
  std::int64_t step_ = 0;
  std::vector<Slot> slots_;
};

}  // namespace aisle
