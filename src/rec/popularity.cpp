#include "aisle/rec/popularity.hpp"

#include "aisle/core/error.hpp"

namespace aisle::rec {
namespace {
constexpr const char* kCounts = "pop.counts";
}

const OptionSchema<PopularityOptions>& PopularityModel::option_schema() {
  static const OptionSchema<PopularityOptions> schema("pop model");
  return schema;
}

void PopularityModel::fit(const Histories& rows, Index item_count, const FitContext& /*context*/) {
  const auto counts = rec::item_counts(rows, item_count);
  counts_.resize(item_count);
  for (Index i = 0; i < item_count; ++i) counts_[i] = static_cast<float>(counts[static_cast<std::size_t>(i)]);
}

void PopularityModel::score_batch(const Histories& histories, Matrix& scores) const {
  require_fitted("score_batch");
  scores = counts_.replicate(histories.size(), 1);
}

std::vector<float> PopularityModel::contributions(std::span<const Index> history, Index /*item*/) const {
  return std::vector<float>(history.size(), 0.0f);
}

void PopularityModel::save(io::ModelFile& file) const {
  require_fitted("save");
  file.header["model"] = {{"kind", kind()}, {"params", params()}};
  file.tensors.push_back({kCounts, counts_});
}

void PopularityModel::load(io::ModelFile& file, const std::filesystem::path& path) {
  Matrix counts = file.take_tensor(kCounts);
  if (counts.rows() != 1 || counts.cols() == 0)
    throw Error(path.string() + ": " + kCounts + " has shape " + shape_string(counts) + ", expected [1 x items]");
  counts_ = std::move(counts);
}

}  // namespace aisle::rec
