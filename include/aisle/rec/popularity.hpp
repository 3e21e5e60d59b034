#pragma once

#include "aisle/rec/model.hpp"

namespace aisle::rec {

// Scores every item by the number of fitted rows holding it, whatever the history.
class PopularityModel final : public Model {
 public:
  static constexpr const char* kKind = "pop";

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
