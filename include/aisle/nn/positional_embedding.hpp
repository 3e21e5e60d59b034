#pragma once

#include <nlohmann/json.hpp>
#include <span>

#include "aisle/core/random.hpp"
#include "aisle/core/tensor.hpp"
#include "aisle/nn/dense.hpp"
#include "aisle/nn/self_attention.hpp"

namespace aisle {

struct PositionalEmbeddingOptions {
  Index max_length = 0;  // the longest sequence it places
  Index dim = 0;
  Init init = Init::glorot_uniform;
};

// Learned positions, added to the rows of a batch of left-padded sequences
// (SequenceBatch: `length` rows a sequence, the newest last). Positions count
// from each sequence's end: the last row of every sequence takes
// P[max_length - 1], the one before P[max_length - 2], and so on, so the
// newest item meets the same vector whatever the batch's length. Padded rows
// get nothing. Forward is const and safe from many threads.
class PositionalEmbedding {
 public:
  PositionalEmbedding() = default;
  // P [max_length x dim] drawn with options.init from rng.
  PositionalEmbedding(PositionalEmbeddingOptions options, Rng& rng);
  // From a trained table [max_length x dim].
  explicit PositionalEmbedding(Matrix table);

  Index max_length() const { return table_.rows(); }
  Index dim() const { return table_.cols(); }
  const Matrix& table() const { return table_; }
  Matrix& table() { return table_; }
  std::span<Matrix> parameters() { return {&table_, 1}; }

  // x.row(r) += P[position of r] on every valid row. aisle::Error when x is
  // not batch.valid.size() x dim, or batch.length exceeds max_length.
  void forward(const SequenceBatch& batch, MatrixRef x) const;
  // grad_table = the gradient of P (resized, overwritten) from the gradient
  // at the output (which is also the input's: the positions only add).
  void backward(const SequenceBatch& batch, ConstMatrixRef grad_output, Matrix& grad_table) const;

  nlohmann::json config() const { return {{"type", "positional_embedding"}, {"max_length", max_length()}, {"dim", dim()}}; }

 private:
  void check(const SequenceBatch& batch, Index rows, Index cols) const;
  Index position(const SequenceBatch& batch, Index row) const {
    return max_length() - batch.length + row % batch.length;
  }

  Matrix table_;
};

}  // namespace aisle
