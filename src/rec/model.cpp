#include "aisle/rec/model.hpp"

#include <algorithm>

#include "aisle/core/error.hpp"
#include "aisle/rec/ease.hpp"
#include "aisle/rec/item_knn.hpp"
#include "aisle/rec/popularity.hpp"

namespace aisle::rec {

RowVector Model::score(std::span<const Index> history) const {
  Histories one;
  one.add(history);
  Matrix scores;
  score_batch(one, scores);
  return scores.row(0);
}

std::vector<float> Model::contributions(std::span<const Index> history, Index item) const {
  const float full = score(history)[item];
  std::vector<float> out;
  out.reserve(history.size());
  std::vector<Index> rest;
  for (std::size_t i = 0; i < history.size(); ++i) {
    rest.assign(history.begin(), history.end());
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
    out.push_back(full - score(rest)[item]);
  }
  return out;
}

void Model::require_fitted(const char* what) const {
  if (!fitted()) throw Error(kind() + " model: " + what + " before fit or load");
}

void check_option_keys(std::string_view kind, const nlohmann::json& options, std::span<const char* const> known) {
  if (!options.is_object()) throw Error(std::string(kind) + " options must be a JSON object");
  for (const auto& item : options.items()) {
    const std::string& key = item.key();
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; }))
      throw Error(std::string(kind) + " model has no option '" + key + "'");
  }
}

std::vector<std::string> model_kinds() { return {"pop", "itemknn", "ease", "neural"}; }

}  // namespace aisle::rec
