#include "aisle/rec/hybrid.hpp"

#include <algorithm>
#include <cmath>

#include "aisle/core/error.hpp"
#include "aisle/core/memory.hpp"
#include "aisle/core/random.hpp"
#include "aisle/nn/dense.hpp"
#include "rec/cut_training.hpp"
#include "rec/hybrid_trainer.hpp"
#include "rec/item_features.hpp"

namespace aisle::rec {
namespace {

constexpr const char* kItemIn = "hybrid.item_in";
constexpr const char* kBiasIn = "hybrid.bias_in";
constexpr const char* kHiddenWeight = "hybrid.hidden.weight";
constexpr const char* kHiddenBias = "hybrid.hidden.bias";
constexpr const char* kItemOut = "hybrid.item_out";
constexpr const char* kFeatureOut = "hybrid.feature_out";
constexpr const char* kFeatureMatch = "hybrid.feature_match";
constexpr const char* kHasId = "hybrid.has_id";
constexpr const char* kItemFeatures = "hybrid_item_features";

using detail::CutBatch;

Histories item_rows_without_features(Index item_count) {
  return Histories::from_arrays(std::vector<Index>(static_cast<std::size_t>(item_count) + 1, 0), {}, 0);
}

}  // namespace

HybridModel::HybridModel(HybridOptions options) : options_(options) {
  if (options_.hidden <= 0 || options_.epochs < 0 || options_.batch_size <= 0 || !(options_.learning_rate > 0) ||
      !(options_.dropout >= 0 && options_.dropout < 1) || !(options_.target_decay >= 0 && options_.target_decay <= 1) ||
      !(options_.input_decay > 0 && options_.input_decay <= 1) || !std::isfinite(options_.match_init))
    throw Error("hybrid: need hidden > 0, epochs >= 0, batch_size > 0, learning_rate > 0, 0 <= dropout < 1, "
                "0 <= target_decay <= 1, 0 < input_decay <= 1, a finite match_init");
}

nlohmann::json HybridModel::params() const {
  nlohmann::json p = option_schema().write(options_);
  if (!losses_.empty()) p["final_loss"] = losses_.back();
  if (fitted()) p["features"] = feature_count_;
  epochs_.write(p);
  return p;
}

void HybridModel::fit(const Histories& rows, Index item_count, const FitContext& context) {
  auto features = detail::optional_item_features(context, item_count);
  // Without features, every item's list is empty.
  item_features_ = features.feature_count > 0 ? std::move(features.rows) : item_rows_without_features(item_count);
  feature_count_ = features.feature_count;
  has_id_.assign(static_cast<std::size_t>(item_count), 0);
  for (const Index item : rows.items()) has_id_[static_cast<std::size_t>(item)] = 1;
  epochs_.clear();
  int epochs = options_.epochs;
  if (options_.validate && epochs > 0)
    epochs = epochs_.choose(rows, item_count, context, kKind, [&](const Histories& fitted, const auto& after_epoch) {
      HybridModel probe(options_);
      probe.item_features_ = item_features_;
      probe.feature_count_ = feature_count_;
      probe.has_id_.assign(static_cast<std::size_t>(item_count), 0);
      for (const Index item : fitted.items()) probe.has_id_[static_cast<std::size_t>(item)] = 1;
      probe.train(fitted, item_count, options_.epochs, context, [&](int epoch) { return after_epoch(epoch, probe); });
    });
  train(rows, item_count, epochs, context, {});
}

void HybridModel::train(const Histories& rows, Index item_count, int epochs, const FitContext& context,
                        const std::function<bool(int)>& after_epoch) {
  require_memory_for_training(item_count, feature_count_);
  const Index d = options_.hidden;
  Rng rng(options_.seed);
  // Every table at the scale of a glorot-uniform items x d table, so that the
  // feature rows start at the scale of the id rows they stand in for.
  const float limit = std::sqrt(6.0f / static_cast<float>(item_count + d));
  detail::draw_table(params_.item_in, item_count, d, limit, rng);
  params_.bias_in.setZero(1, d);
  params_.hidden_weight.resize(d, d);
  initialise_weights(params_.hidden_weight, Init::glorot_uniform, rng);
  params_.hidden_bias.setZero(1, d);
  detail::draw_table(params_.item_out, item_count, d + 1, limit, rng);
  params_.item_out.col(d).setZero();
  detail::draw_table(params_.feature_out, feature_count_, d + 1, limit, rng);
  // Without features the table has no rows (and no storage, which col() would offset).
  if (feature_count_ > 0) params_.feature_out.col(d).setZero();
  // Training then weighs each feature by what it predicts.
  params_.feature_match = Matrix::Constant(1, feature_count_, options_.match_init);
  losses_.clear();

  const detail::CutOptions cuts{.dropout = options_.dropout,
                                .target_decay = options_.target_decay,
                                .input_decay = options_.input_decay,
                                .cuts_per_row = 0,
                                .batch_size = options_.batch_size};
  const auto warm = std::count(has_id_.begin(), has_id_.end(), std::uint8_t{1});
  context.report("hybrid: " + std::to_string(detail::trainable_rows(rows, cuts, kKind).size()) + " examples an epoch, " +
                 std::to_string(warm) + " items with interactions of " + std::to_string(item_count) + ", " +
                 std::to_string(feature_count_) + " features, hidden " + std::to_string(d));
  detail::HybridTrainer trainer(params_, has_id_, item_features_, feature_count_, options_);
  epochs_.set_trained(epochs);
  detail::EpochLoop loop{.kind = kKind, .cuts = cuts, .epochs = epochs,
                         .step = [&](const CutBatch& batch) { return trainer.step(batch); }};
  if (after_epoch)
    loop.after_epoch = [&](int epoch) {
      compose();  // the callback scores with the weights so far
      return after_epoch(epoch);
    };
  losses_ = detail::run_epochs(rows, loop, rng, context);
  compose();
}

// An upper bound: the id tables and the feature rows with their gradients and
// Adam's two moments, the composed tables and heads, and a batch's logits.
void HybridModel::require_memory_for_training(Index item_count, Index feature_count) const {
  const auto floats = static_cast<std::uint64_t>(item_count + feature_count) * static_cast<std::uint64_t>(options_.hidden);
  const auto batch = 2 * static_cast<std::uint64_t>(options_.batch_size) * static_cast<std::uint64_t>(item_count);
  require_memory((12 * floats + batch) * sizeof(float), "hybrid on " + std::to_string(item_count) + " items",
                 "12 tables of " + std::to_string(item_count + feature_count) + " x " +
                     std::to_string(options_.hidden) + " floats and a batch's logits",
                 "a smaller hidden (--hidden) needs proportionally less");
}

void HybridModel::compose() {
  const Index d = options_.hidden;
  const auto means = detail::feature_means(item_features_, feature_count_);
  const auto compose_side = [&](const Matrix& ids) {
    Matrix table = ids;
    for (std::size_t i = 0; i < has_id_.size(); ++i) {
      if (!has_id_[i]) table.row(static_cast<Index>(i)).setZero();
    }
    return table;
  };
  input_ = EmbeddingBag(compose_side(params_.item_in), params_.bias_in, Activation::relu);
  // Items without an id: the mean of their feature rows.
  output_table_ = compose_side(params_.item_out);
  if (feature_count_ > 0) {
    const Matrix from_features = means * params_.feature_out;
    for (std::size_t i = 0; i < has_id_.size(); ++i) {
      if (!has_id_[i]) output_table_.row(static_cast<Index>(i)) = from_features.row(static_cast<Index>(i));
    }
  }
  output_weight_ = output_table_.leftCols(d).transpose();
  output_bias_ = output_table_.col(d).transpose();
  unit_features_ = detail::unit_feature_matrix({item_features_, feature_count_});
  // The match scores only the items without an id.
  SparseMatrix match_targets = unit_features_;
  match_targets.prune([&](Index row, Index, float) { return !has_id_[static_cast<std::size_t>(row)]; });
  match_targets_ = match_targets;
  match_targets_transposed_ = match_targets.transpose();
}

void HybridModel::hidden_forward(const Histories& histories, Matrix& h2) const {
  const auto weights = detail::input_weights(histories, options_.input_decay);
  const Backend& kernels = backend(default_backend());
  LayerState input_state;
  input_.forward(kernels, detail::bags_of(histories, weights), input_state);
  KernelSlot slot;
  kernels.dense_forward(input_state.output, params_.hidden_weight, params_.hidden_bias, Activation::relu, h2, slot);
}

void HybridModel::score_batch(const Histories& histories, Matrix& scores) const {
  require_fitted("score_batch");
  Matrix h2;
  hidden_forward(histories, h2);
  KernelSlot slot;
  backend(default_backend()).dense_forward(h2, output_weight_, output_bias_, Activation::none, scores, slot);
  if (uses_features()) {
    Matrix profiles;
    weighted_profiles(histories, profiles);
    scores.noalias() += profiles * match_targets_transposed_;
  }
}

void HybridModel::weighted_profiles(const Histories& histories, Matrix& profiles) const {
  detail::feature_profiles(histories, unit_features_, profiles);
  profiles.array().rowwise() *= params_.feature_match.row(0).array();
}

Matrix HybridModel::item_vectors() const {
  require_fitted("item_vectors");
  Matrix vectors(output_table_.rows(), vector_dim());
  vectors.leftCols(output_table_.cols()) = output_table_;
  if (uses_features()) vectors.rightCols(feature_count_) = Matrix(match_targets_);
  return vectors;
}

void HybridModel::query_vectors(const Histories& histories, Matrix& queries) const {
  require_fitted("query_vectors");
  Matrix h2;
  hidden_forward(histories, h2);
  queries.resize(histories.size(), vector_dim());
  queries.leftCols(options_.hidden) = h2;
  queries.col(options_.hidden).setOnes();
  if (uses_features()) {
    Matrix profiles;
    weighted_profiles(histories, profiles);
    queries.rightCols(feature_count_) = profiles;
  }
}

std::unique_ptr<Model> HybridModel::with_items(const CatalogueChange& change) const {
  require_fitted("with_items");
  auto features = detail::changed_item_features(change, feature_count_, kKind);
  auto grown = std::make_unique<HybridModel>(*this);
  const auto items = static_cast<Index>(change.old_index.size());
  const auto gather = [&](const Matrix& old, Matrix& into) {
    into.setZero(items, old.cols());
    for (Index i = 0; i < items; ++i) {
      const Index from = change.old_index[static_cast<std::size_t>(i)];
      if (from >= 0) into.row(i) = old.row(from);
    }
  };
  gather(params_.item_in, grown->params_.item_in);
  gather(params_.item_out, grown->params_.item_out);
  grown->has_id_.assign(static_cast<std::size_t>(items), 0);
  for (Index i = 0; i < items; ++i) {
    const Index from = change.old_index[static_cast<std::size_t>(i)];
    if (from >= 0) grown->has_id_[static_cast<std::size_t>(i)] = has_id_[static_cast<std::size_t>(from)];
  }
  grown->item_features_ = std::move(features.rows);
  grown->compose();
  return grown;
}

void HybridModel::save(io::ModelFile& file) const {
  require_fitted("save");
  file.header["model"] = {{"kind", kind()}, {"params", params()}};
  Matrix has_id(1, static_cast<Index>(has_id_.size()));
  for (std::size_t i = 0; i < has_id_.size(); ++i) has_id(0, static_cast<Index>(i)) = has_id_[i];
  file.tensors.push_back({kItemIn, params_.item_in});
  file.tensors.push_back({kBiasIn, params_.bias_in});
  file.tensors.push_back({kHiddenWeight, params_.hidden_weight});
  file.tensors.push_back({kHiddenBias, params_.hidden_bias});
  file.tensors.push_back({kItemOut, params_.item_out});
  file.tensors.push_back({kFeatureOut, params_.feature_out});
  file.tensors.push_back({kFeatureMatch, params_.feature_match});
  file.tensors.push_back({kHasId, has_id});
  detail::write_item_features(file, kItemFeatures, {item_features_, feature_count_});
}

void HybridModel::load(io::ModelFile& file, const std::filesystem::path& path) {
  const auto& p = file.header.at("model").at("params");
  options_ = option_schema().read_saved(p, HybridOptions{});
  [[maybe_unused]] const HybridModel validated(options_);  // the constructor's checks and messages
  epochs_.read(p, options_.epochs);
  losses_.clear();
  if (p.contains("final_loss")) losses_.push_back(p.at("final_loss").get<float>());
  auto features = detail::read_item_features(file, kItemFeatures, path);
  const Index items = features.item_count();
  const Index d = options_.hidden;
  if (items == 0) throw Error(path.string() + ": " + kItemFeatures + " lists no items");
  const auto take = [&](const char* name, Index rows, Index cols, Matrix& into) {
    io::expect_shape({name, file.tensor(name)}, rows, cols, path);
    into = file.take_tensor(name);
  };
  Parameters params;
  Matrix has_id;
  take(kItemIn, items, d, params.item_in);
  take(kBiasIn, 1, d, params.bias_in);
  take(kHiddenWeight, d, d, params.hidden_weight);
  take(kHiddenBias, 1, d, params.hidden_bias);
  take(kItemOut, items, d + 1, params.item_out);
  take(kFeatureOut, features.feature_count, d + 1, params.feature_out);
  take(kFeatureMatch, 1, features.feature_count, params.feature_match);
  take(kHasId, 1, items, has_id);
  params_ = std::move(params);
  has_id_.resize(static_cast<std::size_t>(items));
  for (Index i = 0; i < items; ++i) has_id_[static_cast<std::size_t>(i)] = has_id(0, i) != 0.0f;
  item_features_ = std::move(features.rows);
  feature_count_ = features.feature_count;
  compose();
}

const OptionSchema<HybridOptions>& HybridModel::option_schema() {
  using O = HybridOptions;
  static const auto schema = [] {
    OptionSchema<O> schema("hybrid model");
    schema.add("hidden", &O::hidden, "width of the item representations and the hidden layer");
    detail::add_cut_training_options(schema)
        .add("match_init", &O::match_init, "initial weight of each feature in the feature match")
        .add("seed", &O::seed, "seed of the initial weights, cuts and dropout")
        .add("validate", &O::validate, "choose the epoch count on a validation split, then refit");
    return schema;
  }();
  return schema;
}

}  // namespace aisle::rec
