#include "nested_models.hpp"

#include "aisle/core/error.hpp"
#include "aisle/rec/model_registry.hpp"

namespace aisle::rec::detail {

nlohmann::json save_nested(const Model& model, io::ModelFile& file, const std::string& prefix) {
  io::ModelFile own;
  model.save(own);
  for (auto& tensor : own.tensors) file.tensors.push_back({prefix + tensor.name, std::move(tensor.value)});
  return own.header.at("model");
}

std::unique_ptr<Model> load_nested(const nlohmann::json& header, io::ModelFile& file, const std::string& prefix,
                                   const std::filesystem::path& path) {
  auto model = make_model(header.at("kind").get<std::string>());
  io::ModelFile own;
  own.kind = file.kind;
  own.header["model"] = header;
  for (auto& tensor : file.tensors)
    if (tensor.name.starts_with(prefix)) own.tensors.push_back({tensor.name.substr(prefix.size()), std::move(tensor.value)});
  model->load(own, path);
  return model;
}

nlohmann::json fitted_options(const std::string& kind, const nlohmann::json& params) {
  nlohmann::json options = nlohmann::json::object();
  for (const auto& option : model_registry().options_of(kind)) {
    const auto found = params.find(option.name);
    if (found != params.end() && !found->is_null()) options[option.name] = *found;
  }
  return options;
}

}  // namespace aisle::rec::detail
