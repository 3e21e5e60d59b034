#include "aisle/rec/neural.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>

#include "aisle/core/error.hpp"
#include "aisle/core/memory.hpp"
#include "aisle/core/random.hpp"
#include "aisle/nn/adam.hpp"
#include "aisle/nn/cross_entropy.hpp"
#include "aisle/nn/dense.hpp"
#include "aisle/nn/lazy_adam.hpp"
#include "aisle/nn/sampled_softmax.hpp"
#include "aisle/rec/evaluation.hpp"
#include "core/parallel_for.hpp"
#include "rec/cut_training.hpp"
#include "rec/sampled_output_layer.hpp"

namespace aisle::rec {
namespace {

constexpr const char* kInputWeight = "neural.input.weight";
constexpr const char* kInputBias = "neural.input.bias";

std::string head_tensor_name(std::size_t i) { return "neural.head." + std::to_string(i); }

using detail::bags_of;
using detail::CutBatch;
using detail::input_weights;
using detail::TargetEntry;

detail::CutOptions cut_options(const NeuralOptions& options) {
  return {.dropout = options.dropout,
          .target_decay = options.target_decay,
          .input_decay = options.input_decay,
          .cuts_per_row = options.cuts_per_row,
          .batch_size = options.batch_size};
}

// The training steps of one fit: forward, loss, backward and update for a
// batch, with the optimizer state they keep between batches.
class Trainer {
 public:
  virtual ~Trainer() = default;
  // The batch's mean loss (weights already updated).
  virtual float step(const CutBatch& batch) = 0;
  // After the last step: the trained weights into the model's layers.
  virtual void finish() {}
};

// Softmax over the whole catalogue, through the head's own layers.
class FullSoftmaxTrainer final : public Trainer {
 public:
  FullSoftmaxTrainer(EmbeddingBag& input, Sequential& head, const Backend& kernels, const NeuralOptions& options)
      : input_(input),
        head_(head),
        kernels_(kernels),
        input_optimizer_(AdamOptions{.learning_rate = options.learning_rate}),
        ws_(head.make_workspace()),
        grads_(head.make_gradients()) {}

  float step(const CutBatch& batch) override {
    const WeightedBags bags = bags_of(batch.inputs, batch.weights);
    input_.forward(kernels_, bags, input_state_);
    head_.forward(input_state_.output, ws_);
    const Targets targets(batch.dense_targets(input_.rows()));
    const float loss = head_.loss(ws_, targets);
    if (!std::isfinite(loss)) return loss;  // the caller stops the fit before any update
    head_.backward(ws_, targets, grads_, /*need_input_gradient=*/true);
    // Only the rows of the batch's items get gradient.
    input_state_.grad_output.swap(ws_.layers.front().grad_input);  // scratch in both: no copy
    input_.backward(kernels_, bags, input_state_, input_grads_);
    head_.apply_gradients(grads_);
    const auto input_params = input_.parameters();
    const std::array<Matrix*, 2> params{&input_params[0], &input_params[1]};
    const std::array<const Matrix*, 2> param_grads{&input_grads_[0], &input_grads_[1]};
    input_optimizer_.step(params, param_grads);
    EmbeddingBag::clear_gradient(bags, input_grads_[0]);
    return loss;
  }

 private:
  EmbeddingBag& input_;
  Sequential& head_;
  const Backend& kernels_;
  Adam input_optimizer_;
  Workspace ws_;
  Gradients grads_;
  LayerState input_state_;
  std::array<Matrix, 2> input_grads_;  // sized by the first backward, its rows cleared after each step
};

// Each item's count in the fitted rows.
std::vector<double> fitted_item_counts(const Histories& rows, Index item_count) {
  std::vector<double> counts(static_cast<std::size_t>(item_count), 0.0);
  for (const auto item : rows.items()) counts[static_cast<std::size_t>(item)] += 1.0;
  return counts;
}

// The negatives' distribution: (count + 1)^0.75, flatter than popularity so
// that the tail is drawn too (on amazon-beauty, 0.75 gave a better NDCG@10
// than 0.5 or 1); the logQ correction makes any such choice unbiased in
// expectation.
CandidateSampler negative_sampler(const std::vector<double>& counts) {
  constexpr double alpha = 0.75;
  std::vector<double> weights(counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i) weights[i] = std::pow(counts[i] + 1.0, alpha);
  return CandidateSampler(weights);
}

// Sampled softmax: the head's hidden layer through the backend's kernels,
// its output layer and the input table through LazyAdam on the rows a batch
// touches, so that a step's cost does not grow with the catalogue.
class SampledSoftmaxTrainer final : public Trainer {
 public:
  SampledSoftmaxTrainer(EmbeddingBag& input, Sequential& head, const Backend& kernels, const NeuralOptions& options,
                        const Histories& rows, Index draws)
      : input_(input),
        params_(head.parameters()),
        kernels_(kernels),
        // Draws from a stream of their own: the cuts and dropout of each batch
        // are those of a full-softmax fit with the same seed.
        draw_rng_(options.seed ^ 0x5eed'd3a5'0000'0001ull),
        output_(make_output(*params_.at(2), *params_.at(3), rows, draws)),
        dense_optimizer_(AdamOptions{.learning_rate = options.learning_rate}),
        table_optimizer_(AdamOptions{.learning_rate = options.learning_rate}) {}

  float step(const CutBatch& batch) override {
    const WeightedBags bags = bags_of(batch.inputs, batch.weights);
    const auto input_params = input_.parameters();
    table_optimizer_.begin_step();
    touched_.assign(bags.ids.begin(), bags.ids.end());
    std::sort(touched_.begin(), touched_.end());
    touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
    table_optimizer_.catch_up_rows(kInputTableSlot, input_params[0], touched_);  // before the forward reads them
    input_.forward(kernels_, bags, input_state_);
    const Matrix& h1 = input_state_.output;
    const Matrix& w2 = *params_[0];
    kernels_.dense_forward(h1, w2, *params_[1], Activation::relu, h2_, hidden_kernels_);
    const float loss = output_.train_step(h2_, batch.targets, batch.target_totals, draw_rng_, table_optimizer_, grad_h2_);
    if (!std::isfinite(loss)) return loss;
    kernels_.relu_backward(h2_, grad_h2_, grad_h2_, hidden_kernels_);
    kernels_.dense_backward(h1, w2, grad_h2_, grad_w2_, grad_b2_, &input_state_.grad_output,
                            /*mask_dx_with_relu_of_x=*/false, hidden_kernels_);
    input_.backward(kernels_, bags, input_state_, input_grads_);
    const std::array<Matrix*, 3> params{params_[0], params_[1], &input_params[1]};
    const std::array<const Matrix*, 3> grads{&grad_w2_, &grad_b2_, &input_grads_[1]};
    dense_optimizer_.step(params, grads);
    table_optimizer_.update_rows(kInputTableSlot, input_params[0], touched_, input_grads_[0],
                                 LazyAdam::GradientRows::like_table);
    EmbeddingBag::clear_gradient(bags, input_grads_[0]);
    return loss;
  }

  void finish() override {
    table_optimizer_.catch_up(kInputTableSlot, input_.parameters()[0]);
    output_.catch_up(table_optimizer_);
    output_.write_back(*params_[2], *params_[3]);
  }

 private:
  static constexpr std::size_t kInputTableSlot = 0;  // the output layer takes 1 and 2

  static detail::SampledOutputLayer make_output(const Matrix& weight, const Matrix& bias, const Histories& rows,
                                                Index draws) {
    return {weight, bias, negative_sampler(fitted_item_counts(rows, weight.cols())), draws};
  }

  EmbeddingBag& input_;
  std::vector<Matrix*> params_;  // the head's W2, b2, W3, b3
  const Backend& kernels_;
  Rng draw_rng_;
  detail::SampledOutputLayer output_;
  Adam dense_optimizer_;
  LazyAdam table_optimizer_;
  KernelSlot hidden_kernels_;
  LayerState input_state_;
  std::array<Matrix, 2> input_grads_;
  Matrix h2_, grad_h2_, grad_w2_, grad_b2_;
  std::vector<Index> touched_;
};

}  // namespace

NeuralModel::NeuralModel(NeuralOptions options) : options_(options) {
  if (options_.hidden <= 0 || options_.epochs < 0 || options_.batch_size <= 0 || !(options_.learning_rate > 0) ||
      !(options_.dropout >= 0 && options_.dropout < 1) || !(options_.target_decay >= 0 && options_.target_decay <= 1) ||
      options_.cuts_per_row < 0 || options_.negatives < -1 || !(options_.input_decay > 0 && options_.input_decay <= 1))
    throw Error("neural: need hidden > 0, epochs >= 0, batch_size > 0, learning_rate > 0, 0 <= dropout < 1, "
                "0 <= target_decay <= 1, cuts_per_row >= 0, negatives >= -1, 0 < input_decay <= 1");
}

nlohmann::json NeuralModel::params() const {
  nlohmann::json p = option_schema().write(options_);
  if (!final_losses_.empty()) p["final_loss"] = final_losses_.back();
  epochs_.write(p);
  return p;
}

Sequential NeuralModel::make_head(Index item_count) const {
  Sequential head(SequentialOptions{.seed = options_.seed});
  head.add(Dense(DenseOptions{.units = options_.hidden, .activation = Activation::relu, .input_size = options_.hidden}));
  head.add(Dense(DenseOptions{.units = item_count, .activation = Activation::softmax}));
  head.compile(Adam(AdamOptions{.learning_rate = options_.learning_rate}), CategoricalCrossentropy());
  return head;
}

void NeuralModel::fit(const Histories& rows, Index item_count, const FitContext& context) {
  epochs_.clear();
  int epochs = options_.epochs;
  if (options_.validate && epochs > 0)
    epochs = epochs_.choose(rows, item_count, context, kKind, [&](const Histories& fitted, const auto& after_epoch) {
      NeuralModel probe(options_);
      probe.train(fitted, item_count, options_.epochs, context, [&](int epoch) { return after_epoch(epoch, probe); });
    });
  train(rows, item_count, epochs, context, {});
}

void NeuralModel::train(const Histories& rows, Index item_count, int epochs, const FitContext& context,
                        const std::function<bool(int)>& after_epoch) {
  const Index negatives = negatives_for(options_, item_count);
  require_memory_for_training(item_count, negatives);
  Rng rng(options_.seed);
  input_ = EmbeddingBag({.rows = item_count, .dim = options_.hidden, .activation = Activation::relu}, rng);
  head_ = make_head(item_count);
  final_losses_.clear();

  const auto cuts = cut_options(options_);
  context.report("neural: " + std::to_string(detail::trainable_rows(rows, cuts, kKind).size()) + " examples an epoch, " +
                 std::to_string(item_count) + " items, hidden " + std::to_string(options_.hidden) + ", " +
                 (negatives > 0 ? "sampled softmax over " + std::to_string(negatives) + " negatives a batch"
                                : std::string("softmax over the whole catalogue")));

  std::unique_ptr<Trainer> trainer;
  if (negatives > 0)
    trainer = std::make_unique<SampledSoftmaxTrainer>(input_, head_, kernels(), options_,
                                                      rows, negatives);
  else
    trainer = std::make_unique<FullSoftmaxTrainer>(input_, head_, kernels(), options_);
  epochs_.set_trained(epochs);
  detail::EpochLoop loop{.kind = kKind, .cuts = cuts, .epochs = epochs, .step = [&](const CutBatch& batch) {
                           return trainer->step(batch);
                         }};
  if (after_epoch)
    loop.after_epoch = [&](int epoch) {
      trainer->finish();  // the callback scores with the weights so far
      return after_epoch(epoch);
    };
  final_losses_ = detail::run_epochs(rows, loop, rng, context);
  trainer->finish();
}

// The catalogue-sized tables of a fit: the input table and the output layer,
// each with its gradient and Adam's two moments (the sampled softmax keeps
// the output item-major beside the layer instead of its gradient), and a
// batch's dense targets with a full softmax.
void NeuralModel::require_memory_for_training(Index item_count, Index negatives) const {
  const auto table = static_cast<std::uint64_t>(item_count) * static_cast<std::uint64_t>(options_.hidden) * sizeof(float);
  const std::uint64_t targets =
      negatives > 0 ? 0 : 3 * static_cast<std::uint64_t>(options_.batch_size) * static_cast<std::uint64_t>(item_count) * sizeof(float);
  require_memory(8 * table + targets, "neural on " + std::to_string(item_count) + " items",
                 "8 tables of " + std::to_string(item_count) + " x " + std::to_string(options_.hidden) +
                     " floats: weights, gradients and Adam's moments" + (targets ? ", and a batch's targets" : ""),
                 "a smaller hidden (--hidden) needs proportionally less");
}

Index NeuralModel::negatives_for(const NeuralOptions& options, Index item_count) {
  if (options.negatives >= 0) return options.negatives;
  return item_count > kSampledSoftmaxItems ? kDefaultNegatives : 0;
}

void NeuralModel::score_batch(const Histories& histories, Matrix& scores) const {
  require_fitted("score_batch");
  const auto weights = input_weights(histories, options_.input_decay);
  LayerState input_state;
  input_.forward(kernels(), bags_of(histories, weights), input_state);
  auto ws = head_.make_workspace();
  head_.predict(input_state.output, scores, ws);
}

Matrix NeuralModel::item_vectors() const {
  require_fitted("item_vectors");
  const auto& output = static_cast<const Dense&>(head_.layer(1));  // W3 [hidden x items], b3 [1 x items]
  Matrix vectors(output.weight().cols(), output.weight().rows() + 1);
  vectors.leftCols(output.weight().rows()) = output.weight().transpose();
  vectors.col(output.weight().rows()) = output.bias().row(0).transpose();
  return vectors;
}

void NeuralModel::query_vectors(const Histories& histories, Matrix& queries) const {
  require_fitted("query_vectors");
  const auto weights = input_weights(histories, options_.input_decay);
  LayerState input_state;
  input_.forward(kernels(), bags_of(histories, weights), input_state);
  const auto& hidden = static_cast<const Dense&>(head_.layer(0));  // h2 = relu(h1 W2 + b2)
  queries.resize(histories.size(), hidden.weight().cols() + 1);
  queries.leftCols(hidden.weight().cols()) =
      ((input_state.output * hidden.weight()).rowwise() + hidden.bias().row(0)).cwiseMax(0.0f);
  queries.col(hidden.weight().cols()).setOnes();
}

void NeuralModel::save(io::ModelFile& file) const {
  require_fitted("save");
  file.header["model"] = {{"kind", kind()}, {"params", params()}};
  file.tensors.push_back({kInputWeight, input_.weight()});
  file.tensors.push_back({kInputBias, input_.bias()});
  const auto head_params = head_.parameters();
  for (std::size_t i = 0; i < head_params.size(); ++i) file.tensors.push_back({head_tensor_name(i), *head_params[i]});
}

void NeuralModel::load(io::ModelFile& file, const std::filesystem::path& path) {
  const auto& p = file.header.at("model").at("params");
  NeuralOptions before_input_decay;
  before_input_decay.input_decay = 1.0f;  // files from before input_decay weighed every item alike
  options_ = option_schema().read_saved(p, before_input_decay);
  epochs_.read(p, options_.epochs);
  final_losses_.clear();
  if (p.contains("final_loss")) final_losses_.push_back(p.at("final_loss").get<float>());
  const auto& weight = file.tensor(kInputWeight);
  const Index items = weight.rows();
  if (items == 0 || weight.cols() != options_.hidden)
    throw Error(path.string() + ": " + kInputWeight + " has shape " + shape_string(weight) + ", expected [items x " +
                std::to_string(options_.hidden) + "]");
  io::expect_shape({kInputBias, file.tensor(kInputBias)}, 1, options_.hidden, path);
  auto head = make_head(items);
  auto head_params = head.parameters();
  for (std::size_t i = 0; i < head_params.size(); ++i) {
    const auto& value = file.tensor(head_tensor_name(i));
    io::expect_shape({head_tensor_name(i), value}, head_params[i]->rows(), head_params[i]->cols(), path);
    *head_params[i] = value;
  }
  input_ = EmbeddingBag(weight, file.tensor(kInputBias), Activation::relu);
  head_ = std::move(head);
}

const OptionSchema<NeuralOptions>& NeuralModel::option_schema() {
  using O = NeuralOptions;
  static const auto schema = [] {
    OptionSchema<O> schema("neural model");
    schema.add("hidden", &O::hidden, "width of both hidden layers");
    detail::add_cut_training_options(schema)
        .add("cuts_per_row", &O::cuts_per_row, "training cuts of each row an epoch (0: every one)")
        .add("negatives", &O::negatives,
               "negatives a batch of a sampled softmax (0: the whole catalogue, -1: by catalogue size)")
        .add("seed", &O::seed, "seed of the initial weights, cuts and dropout")
        .add("validate", &O::validate, "choose the epoch count on a validation split, then refit");
    return schema;
  }();
  return schema;
}

}  // namespace aisle::rec
