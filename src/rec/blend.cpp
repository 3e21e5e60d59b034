#include "aisle/rec/blend.hpp"

#include <cmath>

#include "aisle/core/error.hpp"
#include "aisle/rec/model_registry.hpp"
#include "nested_models.hpp"

namespace aisle::rec {
namespace {

std::string part_prefix(std::size_t part) { return std::string(BlendModel::kKind) + "." + std::to_string(part) + "."; }

void check_weights(const std::vector<float>& weights, std::size_t parts, const std::string& where) {
  if (parts == 0) throw Error(where + ": a blend needs at least one model");
  if (weights.size() != parts)
    throw Error(where + ": " + std::to_string(parts) + " models but " + std::to_string(weights.size()) + " weights");
  bool any = false;
  for (const float w : weights) {
    if (!std::isfinite(w) || w < 0) throw Error(where + ": blend weights must be finite and not below 0, got " + std::to_string(w));
    any = any || w > 0;
  }
  if (!any) throw Error(where + ": blend weights are all 0");
}

// One level of nesting only: a blend of blends (or of automatic choices) is
// refused where it is made and where a crafted file asks for it, never
// recursed into.
void check_part_kind(const std::string& kind, const std::string& where) {
  if (kind == BlendModel::kKind || kind == "auto") throw Error(where + ": a blend cannot hold a '" + kind + "' model");
}

}  // namespace

const OptionSchema<BlendOptions>& BlendModel::option_schema() {
  static const auto schema = OptionSchema<BlendOptions>("blend model")
                                 .add("models", &BlendOptions::models, "the blended models' kinds, each with its defaults")
                                 .add("weights", &BlendOptions::weights, "one weight per model, for its standardised scores");
  return schema;
}

std::vector<float> standardise_rows(Matrix& scores) {
  std::vector<float> deviations(static_cast<std::size_t>(scores.rows()), 1.0f);
  const double n = static_cast<double>(scores.cols());
  if (scores.cols() == 0) return deviations;
  for (Index r = 0; r < scores.rows(); ++r) {
    auto row = scores.row(r);
    const double mean = row.cast<double>().sum() / n;
    const double variance = std::max(0.0, row.cast<double>().squaredNorm() / n - mean * mean);
    const double deviation = std::sqrt(variance);
    if (deviation > 0 && std::isfinite(deviation)) {
      row = ((row.cast<double>().array() - mean) / deviation).cast<float>().matrix();
      deviations[static_cast<std::size_t>(r)] = static_cast<float>(deviation);
    } else {
      row.setZero();
    }
  }
  return deviations;
}

BlendModel::BlendModel(BlendOptions options) {
  check_weights(options.weights, options.models.size(), "blend model");
  for (const auto& kind : options.models) {
    check_part_kind(kind, "blend model");
    parts_.push_back(make_model(kind));
  }
  weights_ = std::move(options.weights);
}

BlendModel::BlendModel(std::vector<std::shared_ptr<Model>> parts, std::vector<float> weights)
    : parts_(std::move(parts)), weights_(std::move(weights)) {
  check_weights(weights_, parts_.size(), "blend model");
  for (const auto& part : parts_)
    if (!part) throw Error("blend model: a part is null");
}

nlohmann::json BlendModel::params() const {
  nlohmann::json p;
  nlohmann::json kinds = nlohmann::json::array();
  nlohmann::json part_params = nlohmann::json::array();
  for (const auto& part : parts_) {
    kinds.push_back(part->kind());
    part_params.push_back(part->params());
  }
  p["models"] = kinds;
  p["weights"] = weights_;
  p["parts"] = part_params;
  return p;
}

void BlendModel::fit(const Histories& rows, Index item_count, const FitContext& context) {
  FitContext parts_context = context;  // the parts fit on the same rows: what one builds, the next finds
  if (!parts_context.share) parts_context.share = std::make_shared<FitShare>();
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    context.report("blend: fitting " + parts_[i]->kind() + " (" + std::to_string(i + 1) + " of " +
                   std::to_string(parts_.size()) + ")");
    parts_[i]->fit(rows, item_count, parts_context);
  }
  check_parts("blend model");
}

Index BlendModel::item_count() const {
  for (const auto& part : parts_)
    if (!part->fitted()) return 0;
  return parts_.front()->item_count();
}

void BlendModel::check_parts(const std::string& where) const {
  for (const auto& part : parts_)
    if (part->item_count() != parts_.front()->item_count())
      throw Error(where + ": its parts have " + std::to_string(parts_.front()->item_count()) + " and " +
                  std::to_string(part->item_count()) + " items");
}

void BlendModel::score_batch(const Histories& histories, Matrix& scores) const {
  require_fitted("score");
  Matrix part_scores;
  scores.setZero(histories.size(), item_count());
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    if (weights_[i] == 0) continue;
    parts_[i]->score_batch(histories, part_scores);
    standardise_rows(part_scores);
    scores.noalias() += weights_[i] * part_scores;
  }
}

std::vector<float> BlendModel::contributions(std::span<const Index> history, Index item) const {
  require_fitted("explain");
  std::vector<float> total(history.size(), 0.0f);
  Histories one;
  one.add(history);
  Matrix part_scores;
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    if (weights_[i] == 0) continue;
    parts_[i]->score_batch(one, part_scores);
    const float deviation = standardise_rows(part_scores).front();
    const auto part = parts_[i]->contributions(history, item);
    for (std::size_t h = 0; h < history.size(); ++h) total[h] += weights_[i] * part[h] / deviation;
  }
  return total;
}

void BlendModel::save(io::ModelFile& file) const {
  require_fitted("save");
  nlohmann::json parts = nlohmann::json::array();
  for (std::size_t i = 0; i < parts_.size(); ++i) parts.push_back(detail::save_nested(*parts_[i], file, part_prefix(i)));
  file.header["model"] = {{"kind", kind()}, {"params", {{"weights", weights_}}}, {"parts", parts}};
}

void BlendModel::load(io::ModelFile& file, const std::filesystem::path& path) {
  const auto& header = file.header.at("model");
  const auto& parts = header.at("parts");
  std::vector<float> weights = header.at("params").at("weights").get<std::vector<float>>();
  check_weights(weights, parts.size(), path.string());
  std::vector<std::shared_ptr<Model>> loaded;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    check_part_kind(parts[i].at("kind").get<std::string>(), path.string());
    loaded.push_back(detail::load_nested(parts[i], file, part_prefix(i), path));
  }
  parts_ = std::move(loaded);
  weights_ = std::move(weights);
  check_parts(path.string());
}

}  // namespace aisle::rec
