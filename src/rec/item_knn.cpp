#include "aisle/rec/item_knn.hpp"

#include <cmath>

#include "aisle/core/error.hpp"
#include "aisle/rec/topk.hpp"
#include "core/parallel_for.hpp"
#include "rec/scoring.hpp"

namespace aisle::rec {
namespace {

constexpr const char* kNeighbours = "itemknn.neighbours";
constexpr const char* kSimilarities = "itemknn.similarities";

// Row j: item j's neighbours (as float indices, -1 where fewer) and similarities.
struct NeighbourTable {
  Matrix neighbours;
  Matrix similarities;
};

NeighbourTable cosine_neighbours(const Histories& rows, const Histories& by_item, Index item_count, Index k) {
  NeighbourTable table{Matrix::Constant(item_count, k, -1.0f), Matrix::Zero(item_count, k)};
  // Each thread's scratch: co-occurrence counts over the catalogue, and the
  // items it touched, to clear only those.
  struct Scratch {
    std::vector<float> cooccurrence;
    std::vector<Index> touched;
  };
  const auto make_scratch = [&] { return Scratch{std::vector<float>(static_cast<std::size_t>(item_count), 0.0f), {}}; };
  const auto neighbours_of = [&](Scratch& scratch, Index j) {
    auto& cooccurrence = scratch.cooccurrence;
    auto& touched = scratch.touched;
    touched.clear();
    for (const Index r : by_item[j]) {
      for (const Index i : rows[r]) {
        if (i == j) continue;
        if (cooccurrence[static_cast<std::size_t>(i)] == 0.0f) touched.push_back(i);
        cooccurrence[static_cast<std::size_t>(i)] += 1.0f;
      }
    }
    const auto count_j = static_cast<float>(by_item[j].size());
    for (const Index i : touched) {
      cooccurrence[static_cast<std::size_t>(i)] /=
          std::sqrt(count_j * static_cast<float>(by_item[i].size()));
    }
    const auto best = top_k(std::span<const float>(cooccurrence), k, [&](Index i) {
      return i != j && cooccurrence[static_cast<std::size_t>(i)] > 0.0f;
    });
    for (std::size_t n = 0; n < best.size(); ++n) {
      table.neighbours(j, static_cast<Index>(n)) = static_cast<float>(best[n]);
      table.similarities(j, static_cast<Index>(n)) = cooccurrence[static_cast<std::size_t>(best[n])];
    }
    for (const Index i : touched) cooccurrence[static_cast<std::size_t>(i)] = 0.0f;
  };
  aisle::detail::parallel_for_with_state(item_count, {.uneven = true, .chunk = 16}, make_scratch, neighbours_of);
  return table;
}

// weights(i, j) = similarity of neighbour i of item j.
SparseMatrix weights_from_table(const NeighbourTable& table) {
  const Index items = table.neighbours.rows();
  std::vector<Eigen::Triplet<float>> entries;
  entries.reserve(static_cast<std::size_t>(table.neighbours.size()));
  for (Index j = 0; j < items; ++j) {
    for (Index n = 0; n < table.neighbours.cols(); ++n) {
      const float i = table.neighbours(j, n);
      if (i >= 0) entries.emplace_back(static_cast<int>(i), static_cast<int>(j), table.similarities(j, n));
    }
  }
  SparseMatrix weights(items, items);
  weights.setFromTriplets(entries.begin(), entries.end());
  return weights;
}

NeighbourTable table_from_weights(const SparseMatrix& weights, Index k) {
  const Index items = weights.rows();
  NeighbourTable table{Matrix::Constant(items, k, -1.0f), Matrix::Zero(items, k)};
  std::vector<Index> filled(static_cast<std::size_t>(items), 0);
  for (Index i = 0; i < items; ++i) {
    for (SparseMatrix::InnerIterator it(weights, i); it; ++it) {
      const Index j = it.col();
      auto& n = filled[static_cast<std::size_t>(j)];
      table.neighbours(j, n) = static_cast<float>(i);
      table.similarities(j, n) = it.value();
      ++n;
    }
  }
  return table;
}

}  // namespace

ItemKnnModel::ItemKnnModel(ItemKnnOptions options) : options_(options) {
  if (options_.neighbours <= 0) throw Error("itemknn: neighbours must be positive");
}

const OptionSchema<ItemKnnOptions>& ItemKnnModel::option_schema() {
  static const auto schema = OptionSchema<ItemKnnOptions>("itemknn model")
                                 .add("neighbours", &ItemKnnOptions::neighbours, "neighbours kept per item");
  return schema;
}

nlohmann::json ItemKnnModel::params() const {
  nlohmann::json p = option_schema().write(options_);
  p["similarity"] = "cosine";
  return p;
}

void ItemKnnModel::fit(const Histories& rows, Index item_count, const FitContext& context) {
  context.report("itemknn: cosine neighbours of " + std::to_string(item_count) + " items");
  const auto by_item = context.share ? context.share->item_rows(rows, item_count)
                                     : std::make_shared<const Histories>(detail::item_rows(rows, item_count));
  weights_ = weights_from_table(cosine_neighbours(rows, *by_item, item_count, options_.neighbours));
}

void ItemKnnModel::score_batch(const Histories& histories, Matrix& scores) const {
  require_fitted("score_batch");
  detail::multiply_histories(histories, weights_, scores);
}

std::vector<float> ItemKnnModel::contributions(std::span<const Index> history, Index item) const {
  std::vector<float> out;
  out.reserve(history.size());
  for (const Index h : history) out.push_back(weights_.coeff(h, item));
  return out;
}

void ItemKnnModel::save(io::ModelFile& file) const {
  require_fitted("save");
  file.header["model"] = {{"kind", kind()}, {"params", params()}};
  auto table = table_from_weights(weights_, options_.neighbours);
  file.tensors.push_back({kNeighbours, std::move(table.neighbours)});
  file.tensors.push_back({kSimilarities, std::move(table.similarities)});
}

void ItemKnnModel::load(io::ModelFile& file, const std::filesystem::path& path) {
  options_ = option_schema().read_saved(file.header.at("model").at("params"), {});
  NeighbourTable table{file.tensor(kNeighbours), file.tensor(kSimilarities)};
  const Index items = table.neighbours.rows();
  if (table.neighbours.cols() != options_.neighbours || table.similarities.rows() != items ||
      table.similarities.cols() != options_.neighbours || items == 0)
    throw Error(path.string() + ": itemknn tensors have shapes " + shape_string(table.neighbours) + " and " +
                shape_string(table.similarities) + ", expected [items x " + std::to_string(options_.neighbours) + "]");
  for (Index n = 0; n < table.neighbours.size(); ++n) {
    const float i = table.neighbours.data()[n];
    if (i != -1.0f && !(i >= 0 && i < static_cast<float>(items) && i == std::floor(i)))
      throw Error(path.string() + ": itemknn neighbour index " + std::to_string(i) + " is out of range");
  }
  weights_ = weights_from_table(table);
}

}  // namespace aisle::rec
