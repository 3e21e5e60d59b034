#include "aisle/nn/embedding.hpp"

#include <algorithm>
#include <string>

#include "aisle/core/error.hpp"

namespace aisle {
namespace {

void check_ids(Index rows, std::span<const Index> ids) {
  for (std::size_t r = 0; r < ids.size(); ++r)
    if (ids[r] < -1 || ids[r] >= rows)
      throw Error("Embedding: id " + std::to_string(ids[r]) + " at position " + std::to_string(r) +
                  " is outside [0, " + std::to_string(rows) + ") (-1 marks padding)");
}

}  // namespace

Embedding::Embedding(EmbeddingOptions options, Rng& rng) : scale_(options.scale) {
  if (options.rows <= 0 || options.dim <= 0)
    throw Error("Embedding: rows and dim must be positive, got " + shape_string(options.rows, options.dim));
  table_.resize(options.rows, options.dim);
  initialise_weights(table_, options.init, rng);
}

Embedding::Embedding(Matrix table, float scale) : table_(std::move(table)), scale_(scale) {}

void Embedding::lookup(ConstMatrixRef table, float scale, std::span<const Index> ids, Matrix& output) {
  check_ids(table.rows(), ids);
  output.resize(static_cast<Index>(ids.size()), table.cols());
  for (std::size_t r = 0; r < ids.size(); ++r) {
    const auto row = static_cast<Index>(r);
    if (ids[r] < 0)
      output.row(row).setZero();
    else
      output.row(row) = table.row(ids[r]) * scale;
  }
}

void Embedding::accumulate_gradient(float scale, std::span<const Index> ids, ConstMatrixRef grad_output,
                                    Matrix& grad_table) {
  if (grad_output.rows() != static_cast<Index>(ids.size()) || grad_output.cols() != grad_table.cols())
    throw Error("Embedding: output gradient of shape " + shape_string(grad_output.rows(), grad_output.cols()) +
                " for " + std::to_string(ids.size()) + " ids into a table gradient of shape " +
                shape_string(grad_table));
  check_ids(grad_table.rows(), ids);
  for (std::size_t r = 0; r < ids.size(); ++r)
    if (ids[r] >= 0) grad_table.row(ids[r]) += grad_output.row(static_cast<Index>(r)) * scale;
}

void Embedding::backward(std::span<const Index> ids, ConstMatrixRef grad_output, Matrix& grad_table) const {
  if (grad_table.rows() != rows() || grad_table.cols() != dim()) grad_table.setZero(rows(), dim());
  accumulate_gradient(scale_, ids, grad_output, grad_table);
}

std::vector<Index> Embedding::touched_rows(std::span<const Index> ids) {
  std::vector<Index> rows;
  for (const Index id : ids)
    if (id >= 0) rows.push_back(id);
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  return rows;
}

void Embedding::clear_gradient(std::span<const Index> ids, Matrix& grad_table) {
  check_ids(grad_table.rows(), ids);
  for (const Index id : ids)
    if (id >= 0) grad_table.row(id).setZero();
}

}  // namespace aisle
