#pragma once

#include "aisle/core/option_schema.hpp"
#include "aisle/rec/model.hpp"

namespace aisle::rec {

// Popularity takes no options; the struct lets it be made like every model.
struct PopularityOptions {};

// Scores every item by the number of fitted rows holding it, whatever the history.
class PopularityModel final : public Model {
 public:
  static constexpr const char* kKind = "pop";
  // An empty schema: any option given is refused by name.
  static const OptionSchema<PopularityOptions>& option_schema();

  explicit PopularityModel(PopularityOptions = {}) {}

  std::string kind() const override { return kKind; }
  nlohmann::json params() const override { return nlohmann::json::object(); }
  void fit(const Histories& rows, Index item_count, const FitContext& context = {}) override;
  Index item_count() const override { return counts_.cols(); }
  void score_batch(const Histories& histories, Matrix& scores) const override;
  // A history adds nothing to a popularity score: all zeros.
  std::vector<float> contributions(std::span<const Index> history, Index item) const override;
  void save(io::ModelFile& file) const override;
  void load(io::ModelFile& file, const std::filesystem::path& path) override;

  const RowVector& counts() const { return counts_; }

 private:
  RowVector counts_;
};

}  // namespace aisle::rec
