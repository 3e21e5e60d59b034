#include "aisle/rec/model_registry.hpp"

#include "aisle/rec/auto_model.hpp"
#include "aisle/rec/blend.hpp"
#include "aisle/rec/ease.hpp"
#include "aisle/rec/feature_knn.hpp"
#include "aisle/rec/feature_popularity.hpp"
#include "aisle/rec/hybrid.hpp"
#include "aisle/rec/item_knn.hpp"
#include "aisle/rec/neural.hpp"
#include "aisle/rec/popularity.hpp"
#include "aisle/rec/transformer.hpp"

namespace aisle::rec {
namespace {

// The model M, made from JSON options read through M::option_schema(), which
// also describes them to command lines.
template <class M>
void add_model(ModelRegistry& registry) {
  registry.add(
      M::kKind, [](const nlohmann::json& options) { return std::make_unique<M>(M::option_schema().read(options)); },
      M::option_schema().describe());
}

ModelRegistry built_in_models() {
  ModelRegistry registry("model");
  add_model<PopularityModel>(registry);
  add_model<ItemKnnModel>(registry);
  add_model<EaseModel>(registry);
  add_model<NeuralModel>(registry);
  add_model<TransformerModel>(registry);
  add_model<FeaturePopularityModel>(registry);
  add_model<FeatureKnnModel>(registry);
  add_model<HybridModel>(registry);
  add_model<BlendModel>(registry);
  add_model<AutoModel>(registry);
  return registry;
}

}  // namespace

ModelRegistry& model_registry() {
  static ModelRegistry registry = built_in_models();
  return registry;
}

std::unique_ptr<Model> make_model(std::string_view kind, const nlohmann::json& options) {
  return model_registry().make(kind, options);
}

std::vector<std::string> model_kinds() { return model_registry().names(); }

}  // namespace aisle::rec
