#pragma once

// Models saved inside another model's file (a blend's parts, the model an
// automatic choice settled on): each part's header goes into the outer
// header, its tensors into the outer file under a prefix of their own, so
// that two parts of one kind do not collide.

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "aisle/io/model_file.hpp"
#include "aisle/rec/model.hpp"

namespace aisle::rec::detail {

// Saves model's tensors into file renamed prefix + name; returns its header.
nlohmann::json save_nested(const Model& model, io::ModelFile& file, const std::string& prefix);

// The model that header describes, made by kind through the model registry,
// loaded with the tensors of file named prefix + name (moved out of file).
std::unique_ptr<Model> load_nested(const nlohmann::json& header, io::ModelFile& file, const std::string& prefix,
                                   const std::filesystem::path& path);

// The options that make a model of params' kind again as fitted, without
// tuning: the keys of params that its kind's options define (a tuned EASE's
// params hold the l2 it chose).
nlohmann::json fitted_options(const std::string& kind, const nlohmann::json& params);

}  // namespace aisle::rec::detail
