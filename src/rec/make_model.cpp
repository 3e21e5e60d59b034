#include <array>

#include "aisle/core/error.hpp"
#include "aisle/rec/ease.hpp"
#include "aisle/rec/item_knn.hpp"
#include "aisle/rec/model.hpp"
#include "aisle/rec/popularity.hpp"

namespace aisle::rec {
namespace {

template <class T>
T option(const nlohmann::json& options, const char* kind, const char* key, T fallback) {
  if (!options.contains(key)) return fallback;
  try {
    return options.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(std::string(kind) + " option '" + key + "' has a bad value " + options.at(key).dump());
  }
}

std::unique_ptr<Model> make_ease(const nlohmann::json& options) {
  static constexpr std::array known{"l2", "l2_grid"};
  check_option_keys("ease", options, known);
  EaseOptions ease;
  if (options.contains("l2")) ease.l2 = option<float>(options, "ease", "l2", 0.0f);
  ease.l2_grid = option(options, "ease", "l2_grid", ease.l2_grid);
  return std::make_unique<EaseModel>(ease);
}

std::unique_ptr<Model> make_item_knn(const nlohmann::json& options) {
  static constexpr std::array known{"neighbours"};
  check_option_keys("itemknn", options, known);
  ItemKnnOptions knn;
  knn.neighbours = option(options, "itemknn", "neighbours", knn.neighbours);
  return std::make_unique<ItemKnnModel>(knn);
}

}  // namespace

std::unique_ptr<Model> make_neural_model(const nlohmann::json& options);

std::unique_ptr<Model> make_model(std::string_view kind, const nlohmann::json& options) {
  if (kind == PopularityModel::kKind) {
    check_option_keys(kind, options, std::span<const char* const>{});
    return std::make_unique<PopularityModel>();
  }
  if (kind == ItemKnnModel::kKind) return make_item_knn(options);
  if (kind == EaseModel::kKind) return make_ease(options);
  if (kind == "neural") return make_neural_model(options);
  throw Error("unknown model '" + std::string(kind) + "' (expected pop, itemknn, ease or neural)");
}

}  // namespace aisle::rec
