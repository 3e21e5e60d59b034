#include "aisle/rec/model.hpp"

#include <algorithm>

#include "aisle/core/error.hpp"

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

Matrix Model::item_vectors() const {
  throw Error(kind() + " model: its scores are not inner products of item vectors");
}

void Model::query_vectors(const Histories&, Matrix&) const {
  throw Error(kind() + " model: its scores are not inner products of item vectors");
}

std::unique_ptr<Model> Model::with_items(const CatalogueChange& /*change*/) const {
  throw Error(kind() + " model: it reads no item features, so it cannot score items added after its fit "
              "(hybrid, featknn and featpop can; or fit again)");
}

void Model::require_fitted(const char* what) const {
  if (!fitted()) throw Error(kind() + " model: " + what + " before fit or load");
}

}  // namespace aisle::rec
