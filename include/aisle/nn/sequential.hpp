#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aisle/backend/backend.hpp"
#include "aisle/nn/callbacks.hpp"
#include "aisle/nn/layer.hpp"
#include "aisle/nn/loss.hpp"
#include "aisle/nn/metrics.hpp"
#include "aisle/nn/optimizer.hpp"
#include "aisle/nn/targets.hpp"
#include "aisle/nn/workspace.hpp"

namespace aisle {

struct SequentialOptions {
  std::uint64_t seed = 0;                  // weight initialisation
  std::optional<BackendKind> backend;      // default: default_backend()
};

struct FitOptions {
  int epochs = 1;
  Index batch_size = 32;
  bool shuffle = true;
  std::uint64_t seed = 0;                  // shuffling
  // The last fraction of the rows (before shuffling) is held out, as Keras does.
  float validation_split = 0.0f;
  std::optional<std::pair<Matrix, Targets>> validation_data;
  std::vector<std::shared_ptr<Callback>> callbacks;
};

// Per-epoch values: "loss", "accuracy", "val_loss", "val_accuracy", ...
struct History {
  std::map<std::string, std::vector<float>> values;
  int epochs_run() const;
};

struct Evaluation {
  float loss = 0;
  std::map<std::string, float> metrics;
};

// The gradients of every parameter of a model, in parameters() order.
struct Gradients {
  std::vector<Matrix> tensors;
};

// A stack of layers, used the way Keras' Sequential is:
//
//   aisle::Sequential model({.seed = 42});
//   model.add(aisle::Dense(128, aisle::Activation::relu, 784));
//   model.add(aisle::Dense(128, aisle::Activation::relu));
//   model.add(aisle::Dense(10, aisle::Activation::softmax));
//   model.compile(aisle::Adam(), aisle::SparseCategoricalCrossentropy(), {aisle::Metric::accuracy});
//   model.fit(x_train, y_train, {.epochs = 10, .batch_size = 128});
//
// Inference (predict, evaluate, forward) is const and safe from many threads
// at once; each call uses its own Workspace.
class Sequential {
 public:
  explicit Sequential(SequentialOptions options = {});
  Sequential(const Sequential& other);
  Sequential& operator=(const Sequential& other);
  Sequential(Sequential&&) noexcept;
  Sequential& operator=(Sequential&&) noexcept;
  ~Sequential();

  template <class L>
  Sequential& add(L layer) {
    return add(std::unique_ptr<Layer>(new L(std::move(layer))));
  }
  Sequential& add(std::unique_ptr<Layer> layer);

  // Builds the layers (initialising weights from the seed) if not yet built.
  void compile(std::unique_ptr<Optimizer> optimizer, std::unique_ptr<Loss> loss, std::vector<Metric> metrics = {});
  template <class O, class L>
  void compile(O optimizer, L loss, std::vector<Metric> metrics = {}) {
    compile(std::unique_ptr<Optimizer>(new O(std::move(optimizer))), std::unique_ptr<Loss>(new L(std::move(loss))),
            std::move(metrics));
  }
  bool compiled() const { return optimizer_ != nullptr && loss_ != nullptr; }

  History fit(ConstMatrixRef x, const Targets& y, FitOptions options = {});
  Evaluation evaluate(ConstMatrixRef x, const Targets& y, Index batch_size = 256) const;
  Matrix predict(ConstMatrixRef x, Index batch_size = 256) const;
  // Into caller buffers: allocates nothing once ws and out have the size.
  void predict(ConstMatrixRef x, Matrix& out, Workspace& ws) const;
  Labels predict_classes(ConstMatrixRef x, Index batch_size = 256) const;

  // Step by step, for custom training loops:
  //   auto ws = model.make_workspace();  auto grads = model.make_gradients();
  //   model.forward(x, ws);  float l = model.loss(ws, y);
  //   model.backward(ws, y, grads);  model.apply_gradients(grads);
  Workspace make_workspace() const;
  Gradients make_gradients() const;
  // x must stay alive until backward has run.
  const Matrix& forward(ConstMatrixRef x, Workspace& ws) const;
  // The compiled loss of the last forward output (fused with a final softmax).
  float loss(const Workspace& ws, const Targets& y) const;
  // Backpropagates the compiled loss. need_input_gradient fills ws.input_gradient().
  void backward(Workspace& ws, const Targets& y, Gradients& grads, bool need_input_gradient = false) const;
  // Backpropagates a given gradient at the model output.
  void backward_from_output(Workspace& ws, ConstMatrixRef output_gradient, Gradients& grads,
                            bool need_input_gradient = false) const;
  void apply_gradients(const Gradients& grads);
  // forward + loss + backward + apply_gradients; returns the batch loss. A
  // loss that is not finite (NaN or infinite inputs or targets, or training
  // that diverged) throws aisle::Error before backward: the weights are left
  // as they were.
  float train_on_batch(ConstMatrixRef x, const Targets& y);

  // Model files: see aisle/io/model_file.hpp. The optimizer's settings and
  // the training settings are saved too; optimizer moments are not.
  void save(const std::filesystem::path& path) const;
  static Sequential load(const std::filesystem::path& path);
  static constexpr const char* kModelKind = "sequential";

  BackendKind backend_kind() const { return backend_kind_; }
  void set_backend(BackendKind kind);

  std::size_t layer_count() const { return layers_.size(); }
  const Layer& layer(std::size_t i) const { return *layers_.at(i); }
  Index input_size() const;
  Index output_size() const;
  std::vector<Matrix*> parameters();
  std::vector<const Matrix*> parameters() const;
  Index parameter_count() const;
  const Optimizer* optimizer() const { return optimizer_.get(); }
  // Null before compile. For callbacks that change the learning rate.
  Optimizer* optimizer() { return optimizer_.get(); }
  const Loss* loss_function() const { return loss_.get(); }
  const std::vector<Metric>& metrics() const { return metrics_; }
  // Settings recorded by fit and saved with the model.
  const nlohmann::json& training_config() const { return training_config_; }
  std::string summary() const;

 private:
  void build(Index input_size);
  void require_built(const char* what) const;
  void check_input(ConstMatrixRef x, const char* what) const;
  bool fused_softmax_loss() const;
  ConstMatrixRef logits(const Workspace& ws) const;
  // The input of layer i in ws: the output of the layer below, or the model's input.
  ConstMatrixRef layer_input(const Workspace& ws, std::size_t i) const;
  // How layer i's backward runs: the one place where fusion between
  // neighbours is decided, from what each layer's fusion() offers.
  BackwardPlan backward_plan(std::size_t i, bool need_input_gradient, bool gradient_is_before_activation) const;
  // Runs inside the caller's ComputeScope (backward, backward_from_output).
  void backward_layers(Workspace& ws, Gradients& grads, bool need_input_gradient, bool skip_softmax) const;
  // forward and loss, then backward and the optimizer step unless the loss
  // is not finite; returns the loss.
  float train_step(ConstMatrixRef x, const Targets& y);
  const Backend& backend_impl() const { return backend(backend_kind_); }

  SequentialOptions options_;
  BackendKind backend_kind_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<Loss> loss_;
  std::vector<Metric> metrics_;
  nlohmann::json training_config_ = nlohmann::json::object();
  // Training scratch, reused across batches so the steady state allocates nothing.
  std::unique_ptr<Workspace> train_ws_;
  std::unique_ptr<Gradients> train_grads_;
  // Dropout's masks in training, seeded from the model's seed: the same seed
  // and data give the same model.
  std::unique_ptr<Rng> training_rng_;
  std::vector<Matrix*> param_ptrs_;
  std::vector<const Matrix*> grad_ptrs_;
};

}  // namespace aisle
