#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aisle/core/option_schema.hpp"
#include "aisle/rec/model.hpp"

namespace aisle::rec {

struct BlendOptions {
  std::vector<std::string> models = {"ease", "neural"};  // the parts' kinds, each with its defaults
  std::vector<float> weights = {0.5f, 0.5f};             // one per part, not all zero
};

// A weighted sum of models' scores, each standardised per query first: a
// part's scores over the catalogue, minus their mean, over their standard
// deviation. Models score on unrelated scales (EASE's reconstructions,
// neighbour sums, softmax probabilities), so only standardised scores add up
// in proportion to their weights.
//
// A blend is a model like any other: it fits its parts on the same rows,
// scores batches (one product per part), explains (each part's
// contributions, divided by that part's deviation for the history and
// weighted) and saves its parts inside its own model file.
class BlendModel final : public Model {
 public:
  static constexpr const char* kKind = "blend";
  static const OptionSchema<BlendOptions>& option_schema();

  // Unfitted parts of the kinds options.models names.
  explicit BlendModel(BlendOptions options = {});
  // Parts already made (fitted or not), with their weights.
  BlendModel(std::vector<std::shared_ptr<Model>> parts, std::vector<float> weights);

  std::string kind() const override { return kKind; }
  nlohmann::json params() const override;
  void fit(const Histories& rows, Index item_count, const FitContext& context = {}) override;
  Index item_count() const override;
  void score_batch(const Histories& histories, Matrix& scores) const override;
  std::vector<float> contributions(std::span<const Index> history, Index item) const override;
  void save(io::ModelFile& file) const override;
  void load(io::ModelFile& file, const std::filesystem::path& path) override;

  const std::vector<std::shared_ptr<Model>>& parts() const { return parts_; }
  const std::vector<float>& weights() const { return weights_; }

 private:
  void check_parts(const std::string& where) const;

  std::vector<std::shared_ptr<Model>> parts_;
  std::vector<float> weights_;
};

// Standardises each row of scores in place: minus the row's mean, over its
// standard deviation (rows with none are left at zero). Returns each row's
// deviation (1 for a constant row).
std::vector<float> standardise_rows(Matrix& scores);

}  // namespace aisle::rec
