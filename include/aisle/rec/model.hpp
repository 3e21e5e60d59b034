#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aisle/core/tensor.hpp"
#include "aisle/io/model_file.hpp"
#include "aisle/rec/fit_share.hpp"
#include "aisle/rec/histories.hpp"
#include "aisle/rec/protocols.hpp"

namespace aisle::rec {

// What a fit may use besides the data.
struct FitContext {
  // The shape of the validation split that tuning carves from the fitted rows.
  Protocol validation_protocol = Protocol::loo;
  std::uint64_t seed = 42;
  // Progress lines for long fits; empty: silent.
  std::function<void(const std::string&)> progress;
  // What fits on the same rows build once (auto and blend set one for their
  // parts); null: each fit builds its own.
  std::shared_ptr<FitShare> share;
  // Each item's features (Interactions::item_features: row i lists item i's
  // feature indices), for the models that read them; null: none.
  const Histories* item_features = nullptr;
  Index feature_count = 0;

  void report(const std::string& line) const {
    if (progress) progress(line);
  }
};

// A catalogue grown by new items (Recommender::add_items): what a model needs
// to carry its item tables over.
struct CatalogueChange {
  // Per item of the new catalogue: its index in the old one, -1 for a new item.
  std::vector<Index> old_index;
  // Every item's features in the new catalogue, in the fit's feature indices.
  const Histories* item_features = nullptr;
  Index feature_count = 0;
};

// A recommendation model over a catalogue of item indices. A model has no
// per-user parameters: it scores any history (a user's, a session's, a cart's).
// After fit or load it is immutable: every const call is safe from many
// threads at once.
class Model {
 public:
  virtual ~Model() = default;

  // "pop", "itemknn", "ease", "neural", "blend", "auto".
  virtual std::string kind() const = 0;
  // The settings, including tuned ones and what tuning saw.
  virtual nlohmann::json params() const = 0;

  // rows: ordered item histories in [0, item_count).
  virtual void fit(const Histories& rows, Index item_count, const FitContext& context = {}) = 0;
  bool fitted() const { return item_count() > 0; }
  virtual Index item_count() const = 0;

  // One row of scores per history, item_count() columns; resizes scores.
  // Models whose scores are a product compute a batch as one matrix product.
  virtual void score_batch(const Histories& histories, Matrix& scores) const = 0;
  // One history's scores (a batch of one).
  RowVector score(std::span<const Index> history) const;

  // Models whose scores rank as inner products: score(h, i) orders items as
  // query_vectors(h) . item_vectors().row(i) does (the neural model: its
  // logits, before the softmax; a bias is one more dimension). Such models
  // can be ranked by exact_top_k or an HnswIndex instead of a dense score
  // row. vector_dim() is 0 for models of other forms, whose item_vectors and
  // query_vectors throw.
  virtual Index vector_dim() const { return 0; }
  virtual Matrix item_vectors() const;  // item_count() x vector_dim()
  virtual void query_vectors(const Histories& histories, Matrix& queries) const;

  // What each history item adds to item's score, in history order. The
  // default removes one history item at a time and takes the score's drop.
  virtual std::vector<float> contributions(std::span<const Index> history, Index item) const;

  // This model over a grown catalogue, without refitting: old items keep
  // their scores' ingredients, new items (no interactions) are scored from
  // their features. Models that read no features throw aisle::Error (the
  // default): for them a new item is unknown until the next fit.
  virtual std::unique_ptr<Model> with_items(const CatalogueChange& change) const;

  // Model files: the model's tensors (names prefixed with its kind) and its
  // header fields under header["model"].
  virtual void save(io::ModelFile& file) const = 0;
  // load may move tensors out of file (ModelFile::take_tensor).
  virtual void load(io::ModelFile& file, const std::filesystem::path& path) = 0;

 protected:
  void require_fitted(const char* what) const;
};


}  // namespace aisle::rec
