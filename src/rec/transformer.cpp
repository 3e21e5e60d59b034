#include "aisle/rec/transformer.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

#include "aisle/core/error.hpp"
#include "aisle/core/memory.hpp"
#include "aisle/core/random.hpp"
#include "aisle/nn/adam.hpp"
#include "aisle/nn/dense.hpp"
#include "aisle/rec/evaluation.hpp"
#include "backend/packed_gemm.hpp"
#include "rec/few_query_scores.hpp"
#include "rec/next_item_loss.hpp"
#include "rec/sequence_layout.hpp"
#include "core/parallel_for.hpp"

namespace aisle::rec {
namespace {

using aisle::detail::GemmBuffers;
using aisle::detail::GemmOperand;
using aisle::detail::GemmProduct;
using aisle::detail::packed_gemm;
using detail::exclude_earlier_items;
using detail::lay_out;
using detail::SequenceLayout;
using detail::softmax_cross_entropy_in_place;

constexpr const char* kItems = "transformer.items";
constexpr const char* kOutputBias = "transformer.output_bias";
constexpr const char* kEncoder = "transformer.";  // before each of the encoder's parameter names
constexpr const char* kFeatures = "transformer.features";
// Histories encoded at once when scoring: bounds the scratch of a batch.
constexpr Index kScoringChunk = 256;

// Calls visit(item, feature, weight) for each feature of each item, weight
// 1 / the item's feature count: the mean that composes an item's vector,
// and the share of its gradient each feature takes.
template <typename Visit>
void for_each_feature_share(const Histories& item_features, Visit&& visit) {
  for (Index i = 0; i < item_features.size(); ++i) {
    const auto features = item_features[i];
    const float weight = features.empty() ? 0.0f : 1.0f / static_cast<float>(features.size());
    for (const Index f : features) visit(i, f, weight);
  }
}

}  // namespace

// The states of one forward (and backward) pass over a batch.
struct TransformerModel::Network {
  SequenceLayout layout;
  const Matrix* item_table = nullptr;  // what the inputs and scores read
  Matrix composed_items;               // training's E + features, recomposed each step
  Matrix embedded;  // the items' rows of the table, scaled
  TransformerEncoderState encoder;
  // Training scratch, kept between steps: no fresh pages each step.
  Matrix hidden, grad_hidden;
  // The logits over the catalogue, tens of MB whose row count changes each
  // step: grown, never shrunk (a fresh mapping each step cost a quarter of
  // the fit in page faults). A Matrix, not a vector: Eigen's alignment, so
  // that row sums run the same vector path in every fit (same seed, same bits).
  Matrix logits;
  std::vector<Index> scored, targets;
  GemmBuffers logits_buffers, hidden_gradient_buffers, item_gradient_buffers;
};

TransformerModel::TransformerModel(TransformerOptions options)
    : options_(validated(options)), encoder_(encoder_options(options_)) {}

TransformerOptions TransformerModel::validated(const TransformerOptions& options) {
  if (options.max_length <= 0 || options.dim <= 0 || options.blocks <= 0 || options.heads <= 0 ||
      options.dim % options.heads != 0 || !(options.dropout >= 0 && options.dropout < 1) || options.epochs < 0 ||
      !(options.learning_rate > 0) || !(options.weight_decay >= 0) || options.batch_size <= 0)
    throw Error("transformer: need max_length, dim, blocks, heads, batch_size > 0, dim a multiple of heads, "
                "0 <= dropout < 1, epochs >= 0, learning_rate > 0, weight_decay >= 0");
  return options;
}

TransformerEncoderOptions TransformerModel::encoder_options(const TransformerOptions& options) {
  return {.max_length = options.max_length,
          .dim = options.dim,
          .blocks = options.blocks,
          .heads = options.heads,
          .dropout = options.dropout};
}

const OptionSchema<TransformerOptions>& TransformerModel::option_schema() {
  using O = TransformerOptions;
  static const auto schema =
      OptionSchema<O>("transformer model")
          .add("max_length", &O::max_length, "the newest items of a history the model reads")
          .add("dim", &O::dim, "item, position and block width")
          .add("blocks", &O::blocks, "causal self-attention blocks")
          .add("heads", &O::heads, "attention heads (dim must be a multiple)")
          .add("dropout", &O::dropout, "dropout on the input and each block's branches, in training")
          .add("epochs", &O::epochs, "passes over the fitted rows (at most, with validate)")
          .add("learning_rate", &O::learning_rate, "Adam's learning rate")
          .add("weight_decay", &O::weight_decay, "decoupled weight decay (AdamW), a fraction of learning_rate a step")
          .add("batch_size", &O::batch_size, "sequences a step")
          .add("seed", &O::seed, "seed of the initial weights, batches and dropout")
          .add("validate", &O::validate, "choose the epoch count on a validation split, then refit")
          .add("ignore_features", &O::ignore_features, "read no item features, even where the data has them")
          .add("decay", &O::decay, "let the learning rate fall linearly over the epochs")
          .add("exclude_history", &O::exclude_history,
               "leave the items before each position out of its softmax, as the ranking leaves them out");
  return schema;
}

nlohmann::json TransformerModel::params() const {
  nlohmann::json p = option_schema().write(options_);
  if (!losses_.empty()) p["final_loss"] = losses_.back();
  epochs_.write(p);
  return p;
}

void TransformerModel::build(Index item_count, Index feature_count, Rng& rng) {
  items_ = Embedding({.rows = item_count, .dim = options_.dim, .scale = std::sqrt(static_cast<float>(options_.dim))},
                     rng);
  output_bias_ = Matrix::Zero(1, item_count);
  encoder_.build(rng);
  features_.resize(feature_count, options_.dim);
  if (feature_count > 0) initialise_weights(features_, Init::glorot_uniform, rng);
}

void TransformerModel::compose_item_table(Matrix& table) const {
  table = items_.table();
  for_each_feature_share(item_features_,
                         [&](Index item, Index feature, float weight) { table.row(item) += weight * features_.row(feature); });
}

std::vector<Matrix*> TransformerModel::parameters() {
  std::vector<Matrix*> out{&items_.table(), &output_bias_};
  for (Matrix* p : encoder_.parameters()) out.push_back(p);
  if (uses_features()) out.push_back(&features_);
  return out;
}

void TransformerModel::fit(const Histories& rows, Index item_count, const FitContext& context) {
  epochs_.clear();
  int epochs = options_.epochs;
  if (options_.validate && epochs > 0)
    epochs = epochs_.choose(rows, item_count, context, kKind, [&](const Histories& fitted, const auto& after_epoch) {
      TransformerModel probe(options_);
      probe.train(fitted, item_count, options_.epochs, context, [&](int epoch) { return after_epoch(epoch, probe); });
    });
  train(rows, item_count, epochs, context, {});
}

void TransformerModel::forward(Network& net, Rng* rng) const {
  Embedding::lookup(*net.item_table, items_.scale(), net.layout.items, net.embedded);
  encoder_.forward(backend(default_backend()), net.embedded, net.layout.batch(), net.encoder, rng);
}

// Grads follow parameters(): E, b, the encoder's, F's.
float TransformerModel::train_step(Network& net, Rng& rng, Adam& optimizer, std::vector<Matrix>& grads) {
  if (uses_features()) {
    compose_item_table(net.composed_items);
    net.item_table = &net.composed_items;
  } else {
    net.item_table = &items_.table();
  }
  const Matrix& table = *net.item_table;
  forward(net, &rng);
  const SequenceLayout& layout = net.layout;
  const Index d = options_.dim, rows = layout.rows(), items = items_.rows();
  // The positions with a target, their hidden states gathered.
  auto& scored = net.scored;
  auto& targets = net.targets;
  scored.clear();
  targets.clear();
  for (Index r = 0; r < rows; ++r)
    if (layout.targets[static_cast<std::size_t>(r)] >= 0) {
      scored.push_back(r);
      targets.push_back(layout.targets[static_cast<std::size_t>(r)]);
    }
  const auto count = static_cast<Index>(scored.size());
  Matrix& hidden = net.hidden;
  hidden.resize(count, d);
  for (Index i = 0; i < count; ++i) hidden.row(i) = net.encoder.output().row(scored[static_cast<std::size_t>(i)]);
  if (net.logits.size() < count * items) net.logits.resize(count, items);
  Eigen::Map<Matrix> logits(net.logits.data(), count, items);
  packed_gemm(GemmOperand::of(hidden), GemmOperand::of(table).transposed(), {logits.data(), items},
              {.bias = output_bias_.data()}, net.logits_buffers);
  if (options_.exclude_history) exclude_earlier_items(layout, scored, targets, logits);
  const float loss = softmax_cross_entropy_in_place(logits, targets);
  if (!std::isfinite(loss)) return loss;
  // dH = G E, dE (output side) = G^T H, db = the column sums of G.
  Matrix& grad_hidden = net.grad_hidden;
  grad_hidden.resize(count, d);
  Matrix& grad_items = grads[0];
  grad_items.resize(items, d);
  const std::array<GemmProduct, 2> products{
      GemmProduct{GemmOperand::of(logits), GemmOperand::of(table), {grad_hidden.data(), d}, {},
                  &net.hidden_gradient_buffers},
      GemmProduct{GemmOperand::of(logits).transposed(), GemmOperand::of(hidden), {grad_items.data(), d}, {},
                  &net.item_gradient_buffers}};
  packed_gemm(products);
  grads[1] = logits.colwise().sum();
  // Back through the encoder, into the input side of the table.
  net.encoder.grad_output.setZero(rows, d);
  for (Index i = 0; i < count; ++i) net.encoder.grad_output.row(scored[static_cast<std::size_t>(i)]) = grad_hidden.row(i);
  encoder_.backward(backend(default_backend()), layout.batch(), net.encoder,
                    std::span(grads).subspan(2, encoder_.parameter_count()));
  Embedding::accumulate_gradient(items_.scale(), layout.items, net.encoder.grad_input, grad_items);
  // The table's gradient is E's, and, spread over each item's features, F's.
  if (uses_features()) {
    Matrix& grad_features = grads.back();
    grad_features.setZero(features_.rows(), d);
    for_each_feature_share(item_features_, [&](Index item, Index feature, float weight) {
      grad_features.row(feature) += weight * grad_items.row(item);
    });
  }
  const auto params = parameters();
  std::vector<const Matrix*> grad_pointers;
  for (const Matrix& g : grads) grad_pointers.push_back(&g);
  optimizer.step(params, grad_pointers);
  return loss;
}

// An epoch's batches: the rows shuffled, then sorted by length within
// windows of kBucketBatches batches and cut there, the batches in random
// order. A batch is padded to its longest row, so rows of like length go
// together (short histories are most of a storefront's), while every batch
// still mixes rows from across the data.
std::vector<std::pair<std::size_t, std::size_t>> TransformerModel::batches_by_length(const Histories& rows,
                                                                                     std::vector<Index>& trainable,
                                                                                     Rng& rng) const {
  constexpr std::size_t kBucketBatches = 32;
  shuffle(std::span<Index>(trainable), rng);
  const auto batch = static_cast<std::size_t>(options_.batch_size);
  const std::size_t window = batch * kBucketBatches;
  const auto length = [&](Index r) { return std::min(rows[r].size(), static_cast<std::size_t>(options_.max_length + 1)); };
  for (std::size_t begin = 0; begin < trainable.size(); begin += window) {
    const auto end = std::min(trainable.size(), begin + window);
    std::stable_sort(trainable.begin() + static_cast<std::ptrdiff_t>(begin),
                     trainable.begin() + static_cast<std::ptrdiff_t>(end),
                     [&](Index a, Index b) { return length(a) < length(b); });
  }
  std::vector<std::pair<std::size_t, std::size_t>> batches;
  for (std::size_t begin = 0; begin < trainable.size(); begin += batch)
    batches.emplace_back(begin, std::min(trainable.size(), begin + batch));
  shuffle(std::span(batches), rng);
  return batches;
}

void TransformerModel::train(const Histories& rows, Index item_count, int epochs, const FitContext& context,
                             const std::function<bool(int)>& after_epoch) {
  const bool with_features = !options_.ignore_features && context.item_features != nullptr &&
                             context.item_features->size() == item_count && context.feature_count > 0;
  // E, its gradient and Adam's two moments (with features, also the composed
  // table of the steps and of scoring), and a batch's logits.
  const auto table = static_cast<std::uint64_t>(item_count) * static_cast<std::uint64_t>(options_.dim) * sizeof(float);
  const auto logits = static_cast<std::uint64_t>(options_.batch_size) * static_cast<std::uint64_t>(options_.max_length) *
                      static_cast<std::uint64_t>(item_count) * sizeof(float);
  require_memory((with_features ? 6 : 4) * table + logits, "transformer on " + std::to_string(item_count) + " items",
                 "the item table with its gradient and Adam's moments, and a batch's logits over the catalogue",
                 "a smaller batch_size or max_length needs proportionally less");
  item_features_ = with_features ? *context.item_features : Histories();
  for (const Index f : item_features_.items())
    if (f < 0 || f >= context.feature_count)
      throw Error("transformer: an item's feature index " + std::to_string(f) + " is outside [0, " +
                  std::to_string(context.feature_count) + ") (FitContext::feature_count)");
  Rng rng(options_.seed);
  build(item_count, with_features ? context.feature_count : 0, rng);
  losses_.clear();
  std::vector<Index> trainable;
  for (Index r = 0; r < rows.size(); ++r)
    if (rows[r].size() >= 2) trainable.push_back(r);
  if (trainable.empty()) throw Error("transformer: no fitted row has 2 items to learn from");
  context.report("transformer: " + std::to_string(trainable.size()) + " sequences an epoch, " +
                 std::to_string(item_count) + " items, dim " + std::to_string(options_.dim) + ", " +
                 std::to_string(options_.blocks) + " blocks, max_length " + std::to_string(options_.max_length));
  Adam optimizer(AdamOptions{.learning_rate = options_.learning_rate, .weight_decay = options_.weight_decay});
  std::vector<Matrix> grads(parameters().size());
  Network net;
  epochs_.set_trained(epochs);
  auto last_report = std::chrono::steady_clock::now();
  const auto fit_start = last_report;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    if (options_.decay)
      optimizer.set_learning_rate(options_.learning_rate * static_cast<float>(epochs - epoch + 1) /
                                  static_cast<float>(epochs));
    const auto batches_of_epoch = batches_by_length(rows, trainable, rng);
    double loss_sum = 0;
    Index batches = 0;
    for (const auto& [begin, end] : batches_of_epoch) {
      std::vector<std::span<const Index>> sequences;
      for (std::size_t i = begin; i < end; ++i) sequences.push_back(rows[trainable[i]]);
      net.layout = lay_out(sequences, options_.max_length, /*with_targets=*/true);
      const float loss = train_step(net, rng, optimizer, grads);
      ++batches;
      if (!std::isfinite(loss))
        throw Error("transformer: the loss became " + value_string(loss) + " at epoch " + std::to_string(epoch) +
                    ", batch " + std::to_string(batches) + " (a learning_rate too high?)");
      loss_sum += loss;
    }
    losses_.push_back(static_cast<float>(loss_sum / static_cast<double>(std::max<Index>(batches, 1))));
    const auto now = std::chrono::steady_clock::now();
    // Long fits report every half minute, and the first and last epochs.
    if (epoch == 1 || epoch == epochs || after_epoch || now - last_report >= std::chrono::seconds(30)) {
      last_report = now;
      const double seconds = std::chrono::duration<double>(now - start).count();
      const double elapsed = std::chrono::duration<double>(now - fit_start).count();
      context.report("transformer: epoch " + std::to_string(epoch) + "/" + std::to_string(epochs) + " loss " +
                     std::to_string(losses_.back()) + " (" + std::to_string(seconds) + " s; about " +
                     std::to_string(static_cast<long long>(elapsed / epoch * (epochs - epoch))) + " s left)");
    }
    if (after_epoch) {
      if (uses_features()) compose_item_table(item_table_);  // what the caller's scoring reads
      if (!after_epoch(epoch)) break;
    }
  }
  if (uses_features()) compose_item_table(item_table_);
}

void TransformerModel::encode_last(const Histories& histories, Matrix& last) const {
  last.resize(histories.size(), options_.dim);
  Network net;
  for (Index begin = 0; begin < histories.size(); begin += kScoringChunk) {
    const Index end = std::min(histories.size(), begin + kScoringChunk);
    std::vector<std::span<const Index>> sequences;
    for (Index h = begin; h < end; ++h) sequences.push_back(histories[h]);
    net.layout = lay_out(sequences, options_.max_length, /*with_targets=*/false);
    net.item_table = &item_table();
    forward(net, nullptr);
    for (Index h = begin; h < end; ++h)
      last.row(h) = net.encoder.output().row((h - begin + 1) * net.layout.length - 1);
  }
}

void TransformerModel::score_batch(const Histories& histories, Matrix& scores) const {
  require_fitted("score_batch");
  Matrix last;
  encode_last(histories, last);
  scores.resize(histories.size(), items_.rows());
  const Matrix& table = item_table();
  if (histories.size() < detail::kFewQueries) {
    detail::score_by_item_rows_in_parallel(last, table, scores, output_bias_.data());
    return;
  }
  GemmBuffers buffers;
  packed_gemm(GemmOperand::of(last), GemmOperand::of(table).transposed(), {scores.data(), items_.rows()},
              {.bias = output_bias_.data()}, buffers);
}

Matrix TransformerModel::item_vectors() const {
  require_fitted("item_vectors");
  Matrix vectors(items_.rows(), options_.dim + 1);
  vectors.leftCols(options_.dim) = item_table();
  vectors.col(options_.dim) = output_bias_.row(0).transpose();
  return vectors;
}

void TransformerModel::query_vectors(const Histories& histories, Matrix& queries) const {
  require_fitted("query_vectors");
  Matrix last;
  encode_last(histories, last);
  queries.resize(histories.size(), options_.dim + 1);
  queries.leftCols(options_.dim) = last;
  queries.col(options_.dim).setOnes();
}

void TransformerModel::save(io::ModelFile& file) const {
  require_fitted("save");
  file.header["model"] = {{"kind", kind()}, {"params", params()}};
  file.tensors.push_back({kItems, items_.table()});
  file.tensors.push_back({kOutputBias, output_bias_});
  const auto names = encoder_.parameter_names();
  const auto params = encoder_.parameters();
  for (std::size_t p = 0; p < params.size(); ++p) file.tensors.push_back({kEncoder + names[p], *params[p]});
  if (uses_features()) {
    file.tensors.push_back({kFeatures, features_});
    file.header["transformer_item_features"] = {{"offsets", item_features_.offsets()}, {"items", item_features_.items()}};
  }
}

void TransformerModel::load(io::ModelFile& file, const std::filesystem::path& path) {
  const auto& p = file.header.at("model").at("params");
  options_ = validated(option_schema().read_saved(p, TransformerOptions{}));
  epochs_.read(p, options_.epochs);
  losses_.clear();
  if (p.contains("final_loss")) losses_.push_back(p.at("final_loss").get<float>());
  // The sizes the header claims, checked against the tensors the file holds
  // before anything is allocated from them.
  const auto& item_table = file.tensor(kItems);
  const Index items = item_table.rows();
  io::expect_shape({kItems, item_table}, std::max<Index>(items, 1), options_.dim, path);
  const std::string positions = std::string(kEncoder) + "positions";
  io::expect_shape({positions, file.tensor(positions)}, options_.max_length, options_.dim, path);
  const auto needed = TransformerEncoder::parameter_count(encoder_options(options_));
  if (needed > file.tensors.size())
    throw Error(path.string() + ": the header names " + std::to_string(options_.blocks) + " blocks, the file holds " +
                std::to_string(file.tensors.size()) + " tensors");
  Index feature_count = 0;
  item_features_ = Histories();
  if (file.header.contains("transformer_item_features")) {
    const auto& features = file.tensor(kFeatures);
    feature_count = features.rows();
    io::expect_shape({kFeatures, features}, std::max<Index>(feature_count, 1), options_.dim, path);
    const auto& map = file.header.at("transformer_item_features");
    item_features_ = Histories::from_arrays(map.at("offsets").get<std::vector<Index>>(),
                                            map.at("items").get<std::vector<Index>>(), feature_count);
    if (item_features_.size() != items)
      throw Error(path.string() + ": the item features list " + std::to_string(item_features_.size()) +
                  " items, the model has " + std::to_string(items));
  }
  encoder_ = TransformerEncoder(encoder_options(options_));
  Rng unused(0);
  build(items, feature_count, unused);  // the shapes, then every tensor from the file
  const auto take = [&](const std::string& name, Matrix& into) {
    const auto& value = file.tensor(name);
    io::expect_shape({name, value}, into.rows(), into.cols(), path);
    into = value;
  };
  take(kItems, items_.table());
  take(kOutputBias, output_bias_);
  const auto names = encoder_.parameter_names();
  const auto params = encoder_.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) take(kEncoder + names[i], *params[i]);
  if (uses_features()) {
    take(kFeatures, features_);
    compose_item_table(item_table_);
  }
}

}  // namespace aisle::rec
