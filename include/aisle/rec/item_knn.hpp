#pragma once

#include "aisle/core/option_schema.hpp"
#include "aisle/rec/model.hpp"

namespace aisle::rec {

struct ItemKnnOptions {
  // Neighbours kept per item: the most cosine-similar items.
  Index neighbours = 100;
};

// Item-item cosine neighbours on the binary interaction matrix:
//   sim(i, j) = |rows with i and j| / sqrt(|rows with i| |rows with j|),
// each item j keeps its `neighbours` most similar items i, and a history h
// scores j by the sum of sim(i, j) over i in h that are among j's neighbours.
class ItemKnnModel final : public Model {
 public:
  static constexpr const char* kKind = "itemknn";
  // ItemKnnOptions' one definition: make_model, params() and the CLI read it.
  static const OptionSchema<ItemKnnOptions>& option_schema();

  explicit ItemKnnModel(ItemKnnOptions options = {});

  std::string kind() const override { return kKind; }
  nlohmann::json params() const override;
  void fit(const Histories& rows, Index item_count, const FitContext& context = {}) override;
  Index item_count() const override { return weights_.rows(); }
  void score_batch(const Histories& histories, Matrix& scores) const override;
  std::vector<float> contributions(std::span<const Index> history, Index item) const override;
  void save(io::ModelFile& file) const override;
  void load(io::ModelFile& file, const std::filesystem::path& path) override;

  // weights(i, j) = sim(i, j) when i is one of j's neighbours.
  const SparseMatrix& weights() const { return weights_; }

 private:
  ItemKnnOptions options_;
  SparseMatrix weights_;
};

}  // namespace aisle::rec
