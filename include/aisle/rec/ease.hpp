#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "aisle/core/option_schema.hpp"
#include "aisle/rec/model.hpp"

namespace aisle::rec {

struct EaseOptions {
  // L2 regularisation; when absent it is tuned on a validation split carved
  // from the fitted rows (FitContext::validation_protocol) over l2_grid, by
  // climbing from the grid's middle towards better values (see params()).
  std::optional<float> l2;
  std::vector<float> l2_grid = {1, 10, 50, 100, 200, 500, 1000, 2000, 5000};
};

// EASE (Steck, 2019): the item-item weights with zero diagonal that best
// reconstruct the binary matrix X under L2 regularisation, in closed form:
//   P = (X^T X + l2 I)^-1,  B = I - P diag(1 / diag(P)).
// A history x scores x B.
class EaseModel final : public Model {
 public:
  static constexpr const char* kKind = "ease";
  // EaseOptions' one definition: make_model, params() and the CLI read it.
  static const OptionSchema<EaseOptions>& option_schema();

  explicit EaseModel(EaseOptions options = {});

  std::string kind() const override { return kKind; }
  nlohmann::json params() const override;
  void fit(const Histories& rows, Index item_count, const FitContext& context = {}) override;
  Index item_count() const override { return weights_.rows(); }
  void score_batch(const Histories& histories, Matrix& scores) const override;
  std::vector<float> contributions(std::span<const Index> history, Index item) const override;
  void save(io::ModelFile& file) const override;
  void load(io::ModelFile& file, const std::filesystem::path& path) override;

  // The l2 in use (given or tuned), and what tuning measured: (l2, metric).
  float l2() const { return l2_; }
  const std::vector<std::pair<float, double>>& tuning() const { return tuning_; }
  const Matrix& weights() const { return weights_; }

 private:
  EaseOptions options_;
  float l2_ = 0;
  std::string tuning_metric_;
  std::vector<std::pair<float, double>> tuning_;
  Matrix weights_;
};

// B from the Gram matrix X^T X (consumed: the solve works in its memory).
Matrix ease_weights(Matrix gram, float l2);

}  // namespace aisle::rec
