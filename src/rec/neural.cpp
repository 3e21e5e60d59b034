#include "aisle/core/error.hpp"
#include "aisle/rec/model.hpp"

namespace aisle::rec {

// The neural recommender comes with the nn core; until then it is refused by name.
std::unique_ptr<Model> make_neural_model(const nlohmann::json& /*options*/) {
  throw Error("the neural model is not built yet");
}

}  // namespace aisle::rec
