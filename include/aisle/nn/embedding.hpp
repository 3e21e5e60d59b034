#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "aisle/core/random.hpp"
#include "aisle/core/tensor.hpp"
#include "aisle/nn/dense.hpp"

namespace aisle {

struct EmbeddingOptions {
  Index rows = 0;       // ids are 0 .. rows - 1
  Index dim = 0;        // each id's vector
  float scale = 1.0f;   // outputs are scale * E[id] (Transformers scale by sqrt(dim))
  Init init = Init::glorot_uniform;
};

// An id table: row r of the output is scale * E[ids[r]], and zero where
// ids[r] is -1 (a padded slot). Its gradient touches only the rows the ids
// hold, so a step over a catalogue-sized table costs the batch, not the
// table: backward adds into those rows, touched_rows lists them for
// LazyAdam::update_rows, and clear_gradient zeroes them again. (A bag of
// weighted ids per output row is EmbeddingBag.) Forward is const and safe
// from many threads.
//
// The static lookup and accumulate_gradient are the same operations on a
// table the caller owns: a model whose input table is composed (an item's
// id row plus its features', say) embeds through them.
class Embedding {
 public:
  Embedding() = default;
  // E drawn with options.init from rng.
  Embedding(EmbeddingOptions options, Rng& rng);
  // From a trained table.
  explicit Embedding(Matrix table, float scale = 1.0f);

  Index rows() const { return table_.rows(); }
  Index dim() const { return table_.cols(); }
  float scale() const { return scale_; }
  const Matrix& table() const { return table_; }
  Matrix& table() { return table_; }
  // E, for an optimizer.
  std::span<Matrix> parameters() { return {&table_, 1}; }

  // output [ids x dim]. aisle::Error for an id outside -1 .. rows - 1.
  void forward(std::span<const Index> ids, Matrix& output) const { lookup(table_, scale_, ids, output); }
  // Adds the gradient of E into grad_table (E's shape; sized and zeroed on
  // first use) on the rows the ids hold, from the gradient at the output.
  void backward(std::span<const Index> ids, ConstMatrixRef grad_output, Matrix& grad_table) const;

  static void lookup(ConstMatrixRef table, float scale, std::span<const Index> ids, Matrix& output);
  static void accumulate_gradient(float scale, std::span<const Index> ids, ConstMatrixRef grad_output,
                                  Matrix& grad_table);
  // The distinct ids of a batch, ascending, padding left out: the rows its
  // gradient touches.
  static std::vector<Index> touched_rows(std::span<const Index> ids);
  // Zeroes the rows of grad_table that these ids' backward wrote.
  static void clear_gradient(std::span<const Index> ids, Matrix& grad_table);

  nlohmann::json config() const { return {{"type", "embedding"}, {"rows", rows()}, {"dim", dim()}, {"scale", scale_}}; }

 private:
  Matrix table_;
  float scale_ = 1.0f;
};

}  // namespace aisle
