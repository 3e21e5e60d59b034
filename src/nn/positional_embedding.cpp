#include "aisle/nn/positional_embedding.hpp"

#include <string>

#include "aisle/core/error.hpp"

namespace aisle {

PositionalEmbedding::PositionalEmbedding(PositionalEmbeddingOptions options, Rng& rng) {
  if (options.max_length <= 0 || options.dim <= 0)
    throw Error("PositionalEmbedding: max_length and dim must be positive, got " +
                shape_string(options.max_length, options.dim));
  table_.resize(options.max_length, options.dim);
  initialise_weights(table_, options.init, rng);
}

PositionalEmbedding::PositionalEmbedding(Matrix table) : table_(std::move(table)) {}

void PositionalEmbedding::check(const SequenceBatch& batch, Index rows, Index cols) const {
  if (batch.length <= 0 || batch.length > max_length())
    throw Error("PositionalEmbedding: sequences of " + std::to_string(batch.length) + " rows, at most " +
                std::to_string(max_length()) + " positions");
  if (rows != static_cast<Index>(batch.valid.size()) || cols != dim() || rows % batch.length != 0)
    throw Error("PositionalEmbedding: rows of shape " + shape_string(rows, cols) + " for a batch of " +
                std::to_string(batch.valid.size()) + " rows in sequences of " + std::to_string(batch.length) +
                ", width " + std::to_string(dim()));
}

void PositionalEmbedding::forward(const SequenceBatch& batch, MatrixRef x) const {
  check(batch, x.rows(), x.cols());
  for (Index r = 0; r < x.rows(); ++r)
    if (batch.valid[static_cast<std::size_t>(r)] != 0) x.row(r) += table_.row(position(batch, r));
}

void PositionalEmbedding::backward(const SequenceBatch& batch, ConstMatrixRef grad_output, Matrix& grad_table) const {
  check(batch, grad_output.rows(), grad_output.cols());
  grad_table.setZero(max_length(), dim());
  for (Index r = 0; r < grad_output.rows(); ++r)
    if (batch.valid[static_cast<std::size_t>(r)] != 0) grad_table.row(position(batch, r)) += grad_output.row(r);
}

}  // namespace aisle
