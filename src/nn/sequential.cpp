#include "aisle/nn/sequential.hpp"

#include <cmath>
#include <sstream>

#include "aisle/core/error.hpp"
#include "aisle/io/model_file.hpp"
#include "aisle/nn/functional.hpp"
#include "core/thread_binding.hpp"

namespace aisle {

Sequential::Sequential(SequentialOptions options)
    : options_(options), backend_kind_(options.backend.value_or(default_backend())) {}

Sequential::Sequential(const Sequential& other)
    : options_(other.options_),
      backend_kind_(other.backend_kind_),
      optimizer_(other.optimizer_ ? other.optimizer_->clone() : nullptr),
      loss_(other.loss_ ? other.loss_->clone() : nullptr),
      metrics_(other.metrics_),
      training_config_(other.training_config_) {
  for (const auto& layer : other.layers_) layers_.push_back(layer->clone());
}

Sequential& Sequential::operator=(const Sequential& other) {
  if (this != &other) *this = Sequential(other);
  return *this;
}

Sequential::Sequential(Sequential&&) noexcept = default;
Sequential& Sequential::operator=(Sequential&&) noexcept = default;
Sequential::~Sequential() = default;

Sequential& Sequential::add(std::unique_ptr<Layer> layer) {
  if (!layer) throw Error("Sequential::add: null layer");
  if (layers_.empty() && layer->declared_input_size() <= 0 && !layer->built())
    throw Error("the first layer of a Sequential model must declare its input size (e.g. Dense(128, relu, 784))");
  const bool was_built = !layers_.empty() && layers_.front()->built();
  layers_.push_back(std::move(layer));
  train_ws_.reset();
  train_grads_.reset();
  if (was_built) {
    // Layers added after compile are built right away from the seed stream.
    Rng rng(options_.seed + layers_.size());
    if (!layers_.back()->built()) layers_.back()->build(layers_[layers_.size() - 2]->output_size(), rng);
  }
  return *this;
}

void Sequential::build(Index input_size) {
  Rng rng(options_.seed);
  Index width = input_size;
  for (auto& layer : layers_) {
    Rng layer_rng = rng.split();
    if (!layer->built()) layer->build(width, layer_rng);
    width = layer->output_size();
  }
}

void Sequential::compile(std::unique_ptr<Optimizer> optimizer, std::unique_ptr<Loss> loss,
                         std::vector<Metric> metrics) {
  if (layers_.empty()) throw Error("compile: the model has no layers");
  if (!optimizer || !loss) throw Error("compile: an optimizer and a loss are required");
  build(layers_.front()->declared_input_size() > 0 ? layers_.front()->declared_input_size()
                                                     : layers_.front()->input_size());
  optimizer_ = std::move(optimizer);
  loss_ = std::move(loss);
  metrics_ = std::move(metrics);
  train_ws_.reset();
  train_grads_.reset();
}

void Sequential::require_built(const char* what) const {
  if (layers_.empty() || !layers_.front()->built())
    throw Error(std::string(what) + ": the model is not built; call compile() first");
}

void Sequential::check_input(ConstMatrixRef x, const char* what) const {
  require_built(what);
  if (x.cols() != input_size())
    throw Error(std::string(what) + ": the model takes " + std::to_string(input_size()) +
                " input columns, got input of shape " + shape_string(x));
}

Index Sequential::input_size() const { return layers_.empty() ? 0 : layers_.front()->input_size(); }
Index Sequential::output_size() const { return layers_.empty() ? 0 : layers_.back()->output_size(); }

std::vector<Matrix*> Sequential::parameters() {
  std::vector<Matrix*> out;
  for (auto& layer : layers_)
    for (auto& p : layer->parameters()) out.push_back(&p);
  return out;
}

std::vector<const Matrix*> Sequential::parameters() const {
  std::vector<const Matrix*> out;
  for (const auto& layer : layers_)
    for (const auto& p : std::as_const(*layer).parameters()) out.push_back(&p);
  return out;
}

Index Sequential::parameter_count() const {
  Index count = 0;
  for (const Matrix* p : parameters()) count += p->size();
  return count;
}

void Sequential::set_backend(BackendKind kind) {
  backend_kind_ = kind;
  train_ws_.reset();
}

Workspace Sequential::make_workspace() const { return Workspace(layers_.size()); }

Gradients Sequential::make_gradients() const {
  Gradients grads;
  for (const Matrix* p : parameters()) grads.tensors.push_back(Matrix::Zero(p->rows(), p->cols()));
  return grads;
}

const Matrix& Sequential::forward(ConstMatrixRef x, Workspace& ws) const {
  check_input(x, "forward");
  if (ws.layers.size() != layers_.size()) ws = make_workspace();
  const detail::ComputeScope compute_scope;
  ws.input_data = x.data();
  ws.input_rows = x.rows();
  ws.input_cols = x.cols();
  ws.input_stride = x.outerStride();
  const Backend& kernels = backend_impl();
  layers_[0]->forward(kernels, x, ws.layers[0]);
  for (std::size_t i = 1; i < layers_.size(); ++i) layers_[i]->forward(kernels, ws.layers[i - 1].output, ws.layers[i]);
  return ws.output();
}

bool Sequential::fused_softmax_loss() const {
  return loss_ && loss_->fuses_with_softmax() && !layers_.empty() &&
         layers_.back()->fusion().softmax_logits != LayerFusion::SoftmaxLogits::none;
}

ConstMatrixRef Sequential::logits(const Workspace& ws) const {
  if (layers_.back()->fusion().softmax_logits == LayerFusion::SoftmaxLogits::input) return layer_input(ws, layers_.size() - 1);
  return ws.layers.back().pre_activation;
}

ConstMatrixRef Sequential::layer_input(const Workspace& ws, std::size_t i) const {
  return i > 0 ? ConstMatrixRef(ws.layers[i - 1].output) : ConstMatrixRef(ws.input());
}

BackwardPlan Sequential::backward_plan(std::size_t i, bool need_input_gradient, bool gradient_is_before_activation) const {
  // A ReLU below is differentiated inside this layer's input-gradient
  // product instead of in a pass of its own.
  const bool fuse_relu_below =
      i > 0 && layers_[i]->fusion().masks_input_gradient_with_relu && layers_[i - 1]->fusion().output_is_relu;
  return {.need_input_gradient = i > 0 || need_input_gradient,
          .gradient_is_before_activation = gradient_is_before_activation,
          .mask_input_gradient_with_relu = fuse_relu_below};
}

float Sequential::loss(const Workspace& ws, const Targets& y) const {
  if (!loss_) throw Error("loss: the model is not compiled");
  if (ws.layers.size() != layers_.size() || ws.input_data == nullptr) throw Error("loss: call forward() first");
  return fused_softmax_loss() ? loss_->value_from_logits(logits(ws), y) : loss_->value(ws.output(), y);
}

void Sequential::backward(Workspace& ws, const Targets& y, Gradients& grads, bool need_input_gradient) const {
  if (!loss_) throw Error("backward: the model is not compiled");
  if (ws.layers.size() != layers_.size() || ws.input_data == nullptr) throw Error("backward: call forward() first");
  const detail::ComputeScope compute_scope;
  const bool fused = fused_softmax_loss();
  Matrix& top = ws.layers.back().grad_output;
  if (fused) {
    loss_->gradient_from_logits(logits(ws), y, top);
  } else {
    loss_->gradient(ws.output(), y, top);
  }
  backward_layers(ws, grads, need_input_gradient, fused);
}

void Sequential::backward_from_output(Workspace& ws, ConstMatrixRef output_gradient, Gradients& grads,
                                      bool need_input_gradient) const {
  if (ws.layers.size() != layers_.size() || ws.input_data == nullptr) throw Error("backward: call forward() first");
  if (output_gradient.rows() != ws.output().rows() || output_gradient.cols() != ws.output().cols())
    throw Error("backward: output gradient of shape " + shape_string(output_gradient) + " for output of shape " +
                shape_string(ws.output()));
  const detail::ComputeScope compute_scope;
  ws.layers.back().grad_output = output_gradient;
  backward_layers(ws, grads, need_input_gradient, false);
}

void Sequential::backward_layers(Workspace& ws, Gradients& grads, bool need_input_gradient, bool skip_softmax) const {
  std::size_t param_count = 0;
  for (const auto& layer : layers_) param_count += layer->parameters().size();
  if (grads.tensors.size() != param_count) grads = make_gradients();
  const Backend& kernels = backend_impl();
  std::size_t offset = grads.tensors.size();
  // Whether the gradient handed down is already before the layer's activation.
  bool activation_done = skip_softmax;
  for (std::size_t i = layers_.size(); i-- > 0;) {
    const Layer& layer = *layers_[i];
    const std::size_t count = layer.parameters().size();
    offset -= count;
    const std::span<Matrix> layer_grads(grads.tensors.data() + offset, count);
    const BackwardPlan plan = backward_plan(i, need_input_gradient, activation_done);
    layer.backward(kernels, layer_input(ws, i), ws.layers[i], layer_grads, plan);
    if (i > 0) ws.layers[i - 1].grad_output.swap(ws.layers[i].grad_input);
    activation_done = plan.mask_input_gradient_with_relu;
  }
}

void Sequential::apply_gradients(const Gradients& grads) {
  if (!optimizer_) throw Error("apply_gradients: the model is not compiled");
  const detail::ComputeScope compute_scope;
  // clear() keeps the capacity: after the first step this allocates nothing.
  param_ptrs_.clear();
  for (auto& layer : layers_)
    for (auto& p : layer->parameters()) param_ptrs_.push_back(&p);
  grad_ptrs_.clear();
  for (const auto& g : grads.tensors) grad_ptrs_.push_back(&g);
  optimizer_->step(param_ptrs_, grad_ptrs_);
}

float Sequential::train_step(ConstMatrixRef x, const Targets& y) {
  if (!compiled()) throw Error("train_on_batch: the model is not compiled");
  if (!train_ws_) train_ws_ = std::make_unique<Workspace>(make_workspace());
  if (!train_grads_) train_grads_ = std::make_unique<Gradients>(make_gradients());
  if (!training_rng_) training_rng_ = std::make_unique<Rng>(options_.seed ^ 0x5eed0d50u);
  for (auto& state : train_ws_->layers) state.training_rng = training_rng_.get();
  forward(x, *train_ws_);
  const float value = loss(*train_ws_, y);
  if (!std::isfinite(value)) return value;
  backward(*train_ws_, y, *train_grads_);
  apply_gradients(*train_grads_);
  return value;
}

float Sequential::train_on_batch(ConstMatrixRef x, const Targets& y) {
  const float value = train_step(x, y);
  if (!std::isfinite(value))
    throw Error("train_on_batch: the loss is " + value_string(value) +
                "; the weights are left as they were (a NaN or infinite input or target, or a learning rate too "
                "high?)");
  return value;
}

void Sequential::predict(ConstMatrixRef x, Matrix& out, Workspace& ws) const {
  forward(x, ws);
  out = ws.output();
}

Matrix Sequential::predict(ConstMatrixRef x, Index batch_size) const {
  check_input(x, "predict");
  if (batch_size <= 0) throw Error("predict: batch_size must be positive");
  Matrix out(x.rows(), output_size());
  Workspace ws = make_workspace();
  for (Index begin = 0; begin < x.rows(); begin += batch_size) {
    const Index count = std::min(batch_size, x.rows() - begin);
    out.middleRows(begin, count) = forward(x.middleRows(begin, count), ws);
  }
  return out;
}

Labels Sequential::predict_classes(ConstMatrixRef x, Index batch_size) const {
  return functional::argmax_rows(predict(x, batch_size));
}

Evaluation Sequential::evaluate(ConstMatrixRef x, const Targets& y, Index batch_size) const {
  check_input(x, "evaluate");
  if (!loss_) throw Error("evaluate: the model is not compiled");
  if (y.rows() != x.rows())
    throw Error("evaluate: " + std::to_string(y.rows()) + " targets for " + std::to_string(x.rows()) + " samples");
  if (x.rows() == 0) throw Error("evaluate: no samples");
  if (batch_size <= 0) throw Error("evaluate: batch_size must be positive");
  Workspace ws = make_workspace();
  Targets batch_targets;
  double loss_sum = 0;
  Index correct = 0;
  for (Index begin = 0; begin < x.rows(); begin += batch_size) {
    const Index count = std::min(batch_size, x.rows() - begin);
    forward(x.middleRows(begin, count), ws);
    y.slice(begin, count, batch_targets);
    loss_sum += static_cast<double>(loss(ws, batch_targets)) * static_cast<double>(count);
    correct += count_correct(ws.output(), batch_targets);
  }
  Evaluation result;
  result.loss = static_cast<float>(loss_sum / static_cast<double>(x.rows()));
  for (Metric metric : metrics_)
    if (metric == Metric::accuracy)
      result.metrics["accuracy"] = static_cast<float>(correct) / static_cast<float>(x.rows());
  return result;
}

std::string Sequential::summary() const {
  std::ostringstream out;
  out << "Sequential (backend " << to_string(backend_kind_) << ")\n";
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const Layer& layer = *layers_[i];
    Index params = 0;
    for (const auto& p : layer.parameters()) params += p.size();
    out << "  " << i << ": " << layer.config().dump() << "  output " << layer.output_size() << ", params " << params
        << "\n";
  }
  out << "  total parameters: " << parameter_count() << "\n";
  return out.str();
}

int History::epochs_run() const {
  const auto it = values.find("loss");
  return it == values.end() ? 0 : static_cast<int>(it->second.size());
}

}  // namespace aisle
