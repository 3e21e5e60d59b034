#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "aisle/core/registry.hpp"
#include "aisle/rec/model.hpp"

namespace aisle::rec {

// Recommender models by kind, each made from its JSON options.
using ModelRegistry = Registry<Model, const nlohmann::json&>;

// pop, itemknn, ease and neural, and any model registered since (add one
// with model_registry().add(kind, factory, options) before loading files or
// parsing commands that name it).
ModelRegistry& model_registry();

// A model by kind with options (JSON, e.g. {"l2": 100} or {"neighbours": 50});
// throws aisle::Error for an unknown kind, option or value.
std::unique_ptr<Model> make_model(std::string_view kind, const nlohmann::json& options = nlohmann::json::object());

// The kinds make_model knows, in alphabetical order.
std::vector<std::string> model_kinds();

}  // namespace aisle::rec
