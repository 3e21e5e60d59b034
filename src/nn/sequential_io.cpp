// Sequential::save and Sequential::load through the model file format.

#include <algorithm>

#include "aisle/core/error.hpp"
#include "aisle/io/model_file.hpp"
#include "aisle/nn/sequential.hpp"

namespace aisle {

void Sequential::save(const std::filesystem::path& path) const {
  require_built("save");
  io::ModelFile file;
  file.kind = kModelKind;
  nlohmann::json layers = nlohmann::json::array();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    layers.push_back(layers_[i]->config());
    const auto names = layers_[i]->parameter_names();
    const auto params = layers_[i]->parameters();
    for (std::size_t p = 0; p < params.size(); ++p)
      file.tensors.push_back({"layers." + std::to_string(i) + "." + names.at(p), params[p]});
  }
  file.header["architecture"] = {{"input_size", input_size()}, {"layers", std::move(layers)}};
  file.header["dtype"] = "float32";
  file.header["seed"] = options_.seed;
  if (optimizer_) file.header["optimizer"] = optimizer_->config();
  if (loss_) file.header["loss"] = loss_->config();
  nlohmann::json metrics = nlohmann::json::array();
  for (Metric metric : metrics_) metrics.push_back(std::string(to_string(metric)));
  file.header["metrics"] = std::move(metrics);
  file.header["training"] = training_config_;
  io::write_model_file(path, file);
}

namespace {

void load_parameters(const io::ModelFile& file, const std::filesystem::path& path, std::size_t index, Layer& layer) {
  const auto names = layer.parameter_names();
  auto params = layer.parameters();
  for (std::size_t p = 0; p < params.size(); ++p) {
    const std::string name = "layers." + std::to_string(index) + "." + names.at(p);
    const auto it = std::find_if(file.tensors.begin(), file.tensors.end(), [&](const auto& t) { return t.name == name; });
    if (it == file.tensors.end()) throw Error("model file " + path.string() + ": missing tensor '" + name + "'");
    io::expect_shape(*it, params[p].rows(), params[p].cols(), path);
    params[p] = it->value;
  }
}

}  // namespace

Sequential Sequential::load(const std::filesystem::path& path) {
  const io::ModelFile file = io::read_model_file(path, kModelKind);
  try {
    Sequential model({.seed = file.header.value("seed", std::uint64_t{0})});
    const auto& architecture = file.header.at("architecture");
    for (const auto& config : architecture.at("layers")) model.add(Layer::from_config(config));
    if (model.layers_.empty()) throw Error("no layers");
    model.build(architecture.at("input_size").get<Index>());
    for (std::size_t i = 0; i < model.layers_.size(); ++i) load_parameters(file, path, i, *model.layers_[i]);
    if (file.header.contains("optimizer") && file.header.contains("loss")) {
      std::vector<Metric> metrics;
      for (const auto& name : file.header.value("metrics", nlohmann::json::array()))
        metrics.push_back(metric_from_string(name.get<std::string>()));
      model.optimizer_ = Optimizer::from_config(file.header.at("optimizer"));
      model.loss_ = Loss::from_config(file.header.at("loss"));
      model.metrics_ = std::move(metrics);
    }
    model.training_config_ = file.header.value("training", nlohmann::json::object());
    return model;
  } catch (const nlohmann::json::exception& e) {
    throw Error("model file " + path.string() + ": bad architecture (" + e.what() + ")");
  } catch (const Error& e) {
    const std::string message = e.what();
    if (message.rfind("model file ", 0) == 0) throw;
    throw Error("model file " + path.string() + ": " + message);
  }
}

}  // namespace aisle
