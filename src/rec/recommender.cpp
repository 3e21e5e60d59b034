#include "aisle/rec/recommender.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>

#include "aisle/core/error.hpp"
#include "aisle/io/atomic_file.hpp"
#include "aisle/io/model_file.hpp"
#include "aisle/rec/inner_product_search.hpp"
#include "aisle/rec/protocols.hpp"
#include "aisle/rec/topk.hpp"
#include "core/parallel_for.hpp"
#include "rec/vector_retrieval.hpp"

namespace aisle::rec {
namespace {

constexpr const char* kKindPrefix = "rec.";
constexpr const char* kPopularity = "rec.popularity";

// Which items a filter lets through, apart from the history and the predicate.
std::vector<std::uint8_t> allowed_items(const IdMap& items, const Filter& filter) {
  std::vector<std::uint8_t> allowed(static_cast<std::size_t>(items.size()), filter.allow ? 0 : 1);
  if (filter.allow) {
    for (const auto& id : *filter.allow) {
      if (const auto i = items.find(id)) allowed[static_cast<std::size_t>(*i)] = 1;
    }
  }
  for (const auto& id : filter.deny) {
    if (const auto i = items.find(id)) allowed[static_cast<std::size_t>(*i)] = 0;
  }
  return allowed;
}

nlohmann::json histories_to_json(const Histories& h) { return {{"offsets", h.offsets()}, {"items", h.items()}}; }

Histories histories_from_json(const nlohmann::json& j, Index item_count) {
  return Histories::from_arrays(j.at("offsets").get<std::vector<Index>>(), j.at("items").get<std::vector<Index>>(),
                                item_count);
}

}  // namespace

Recommender::Recommender(const Interactions& data, std::unique_ptr<Model> model)
    : items_(data.items()), users_(data.users()), user_histories_(data.histories()), features_(data.features()),
      item_features_(data.item_features()), model_(std::move(model)) {
  const auto counts = item_counts(user_histories_, items_.size());
  popularity_.resize(items_.size());
  for (Index i = 0; i < items_.size(); ++i) popularity_[i] = static_cast<float>(counts[static_cast<std::size_t>(i)]);
  check_consistent("Recommender");
  choose_default_ranking();
}

void Recommender::choose_default_ranking() {
  if (model_->vector_dim() > 0 && items_.size() >= kExactVectorSearchItems) use_exact_vector_search();
}

std::shared_ptr<detail::VectorRetrieval> Recommender::new_vector_retrieval() const {
  if (model_->vector_dim() == 0)
    throw Error("Recommender: a " + model_->kind() + " model's scores are not inner products of item vectors");
  auto retrieval = std::make_shared<detail::VectorRetrieval>();
  retrieval->items = model_->item_vectors();
  return retrieval;
}

void Recommender::use_exact_vector_search() { retrieval_ = new_vector_retrieval(); }

void Recommender::build_index(const HnswOptions& options, const std::function<void(Index, Index)>& progress) {
  auto retrieval = new_vector_retrieval();
  retrieval->index = HnswIndex::build(retrieval->items, options, progress);
  retrieval_ = std::move(retrieval);
}

std::string Recommender::ranking() const {
  if (!retrieval_) return "dense";
  return retrieval_->index ? "hnsw" : "exact-vectors";
}

FitContext with_item_features(FitContext context, const Interactions& data) {
  if (context.item_features == nullptr && data.has_features()) {
    context.item_features = &data.item_features();
    context.feature_count = data.features().size();
  }
  return context;
}

Recommender Recommender::fit(const Interactions& data, std::unique_ptr<Model> model, const FitContext& context) {
  if (!model) throw Error("Recommender::fit: no model");
  model->fit(data.histories(), data.item_count(), with_item_features(context, data));
  return Recommender(data, std::move(model));
}

void Recommender::check_consistent(const std::string& where) const {
  if (!model_ || !model_->fitted()) throw Error(where + ": the model is not fitted");
  if (model_->item_count() != items_.size())
    throw Error(where + ": the model has " + std::to_string(model_->item_count()) + " items, the catalogue " +
                std::to_string(items_.size()));
  if (!items_.sorted_by_id()) throw Error(where + ": item ids are not in byte order");
  if (user_histories_.size() != users_.size()) throw Error(where + ": user histories do not match the users");
}

Recommender::Resolved Recommender::resolve_history(std::span<const std::string> history) const {
  Resolved out;
  std::vector<Index> seen;  // sorted, to drop repeats
  for (const auto& id : history) {
    const auto item = items_.find(id);
    if (!item) {
      out.unknown.push_back(id);
      continue;
    }
    const auto at = std::lower_bound(seen.begin(), seen.end(), *item);
    if (at != seen.end() && *at == *item) continue;
    seen.insert(at, *item);
    out.history.push_back(*item);
  }
  out.fallback = out.history.empty();
  return out;
}

Recommender::Resolved Recommender::resolve(const Query& query) const {
  if (!query.user) return resolve_history(query.history);
  Resolved out;
  if (const auto user = users_.find(*query.user)) {
    const auto h = user_histories_[*user];
    out.history.assign(h.begin(), h.end());
  }
  out.fallback = out.history.empty();
  return out;
}

std::vector<Recommendations> Recommender::rank(const std::vector<Resolved>& queries, Index k, const Filter& filter,
                                               std::optional<Index> exclude_item) const {
  if (retrieval_ && !filter.predicate) return rank_by_vectors(queries, k, filter, exclude_item);
  return rank_densely(queries, k, filter, exclude_item);
}

std::vector<Recommendations> Recommender::rank_densely(const std::vector<Resolved>& queries, Index k,
                                                       const Filter& filter, std::optional<Index> exclude_item) const {
  const auto n = static_cast<std::size_t>(items_.size());
  Histories batch;
  std::vector<Index> score_row(queries.size(), -1);
  for (std::size_t q = 0; q < queries.size(); ++q) {
    if (queries[q].fallback) continue;
    score_row[q] = batch.size();
    batch.add(queries[q].history);
  }
  Matrix scores;
  if (!batch.empty()) model_->score_batch(batch, scores);
  // Without allow or deny lists every item passes: no per-query mask.
  const bool restricted = filter.allow || !filter.deny.empty();
  const auto allowed = restricted ? allowed_items(items_, filter) : std::vector<std::uint8_t>{};
  std::vector<Recommendations> results(queries.size());

  const auto rank_one = [&](std::size_t q) {
    const auto& query = queries[q];
    const float* row = score_row[q] >= 0 ? scores.row(score_row[q]).data() : popularity_.data();
    // eligible() runs only for items that would enter the top k: a binary
    // search in the sorted history costs less than a catalogue-wide mask.
    std::vector<Index> history;
    if (filter.exclude_history) {
      history = query.history;
      std::sort(history.begin(), history.end());
    }
    const auto top = top_k(std::span<const float>(row, n), k, [&](Index i) {
      return (!restricted || allowed[static_cast<std::size_t>(i)]) &&
             !std::binary_search(history.begin(), history.end(), i) && i != exclude_item &&
             (!filter.predicate || filter.predicate(items_.id(i)));
    });
    auto& result = results[q];
    result.items.reserve(top.size());
    for (const Index i : top) result.items.push_back({items_.id(i), row[i]});
    result.unknown_items = query.unknown;
    result.popularity_fallback = query.fallback;
  };

  if (filter.predicate || queries.size() < 8) {
    // The caller's predicate runs on the calling thread only.
    for (std::size_t q = 0; q < queries.size(); ++q) rank_one(q);
  } else {
    aisle::detail::parallel_for(static_cast<Index>(queries.size()), {.uneven = true, .chunk = 4},
                                [&](Index q) { rank_one(static_cast<std::size_t>(q)); });
  }
  return results;
}

std::vector<Recommendations> Recommender::rank_by_vectors(const std::vector<Resolved>& queries, Index k,
                                                          const Filter& filter,
                                                          std::optional<Index> exclude_item) const {
  // Popularity fallbacks rank as always; the rest by their query vectors.
  std::vector<Resolved> fallbacks, scored;
  for (const auto& query : queries) (query.fallback ? fallbacks : scored).push_back(query);
  auto fallback_results = fallbacks.empty() ? std::vector<Recommendations>{}
                                            : rank_densely(fallbacks, k, filter, exclude_item);
  std::vector<Recommendations> scored_results(scored.size());
  if (!scored.empty()) {
    Histories batch;
    std::vector<std::vector<Index>> exclude(scored.size());
    for (std::size_t q = 0; q < scored.size(); ++q) {
      batch.add(scored[q].history);
      if (filter.exclude_history) exclude[q] = scored[q].history;
      if (exclude_item) exclude[q].push_back(*exclude_item);
      std::sort(exclude[q].begin(), exclude[q].end());
    }
    Matrix query_vectors;
    model_->query_vectors(batch, query_vectors);
    const bool restricted = filter.allow || !filter.deny.empty();
    const auto allowed = restricted ? allowed_items(items_, filter) : std::vector<std::uint8_t>{};
    const SearchRestriction restriction{allowed, exclude};
    const auto lists = retrieval_->index ? retrieval_->index->search(query_vectors, k, restriction)
                                         : exact_top_k(retrieval_->items, query_vectors, k, restriction);
    for (std::size_t q = 0; q < scored.size(); ++q) {
      auto& result = scored_results[q];
      for (const auto& hit : lists[q]) result.items.push_back({items_.id(hit.index), hit.score});
      result.unknown_items = scored[q].unknown;
    }
  }
  std::vector<Recommendations> results;
  results.reserve(queries.size());
  std::size_t next_fallback = 0, next_scored = 0;
  for (const auto& query : queries)
    results.push_back(std::move(query.fallback ? fallback_results[next_fallback++] : scored_results[next_scored++]));
  return results;
}

Recommendations Recommender::recommend(std::string_view user, Index k, const Filter& filter) const {
  return rank({resolve(Query::for_user(std::string(user)))}, k, filter).front();
}

Recommendations Recommender::recommend(std::span<const std::string> history, Index k, const Filter& filter) const {
  return rank({resolve_history(history)}, k, filter).front();
}

std::vector<Recommendations> Recommender::recommend_batch(std::span<const Query> queries, Index k,
                                                          const Filter& filter) const {
  std::vector<Resolved> resolved;
  resolved.reserve(queries.size());
  for (const auto& q : queries) resolved.push_back(resolve(q));
  return rank(resolved, k, filter);
}

Recommendations Recommender::similar_items(std::string_view item, Index k, const Filter& filter) const {
  const auto index = items_.find(item);
  if (!index) return {{}, {std::string(item)}, false};
  Resolved query;
  query.history = {*index};
  return rank({query}, k, filter, *index).front();
}

Explanation Recommender::explain(std::span<const std::string> history, std::string_view item) const {
  Explanation out;
  out.item = std::string(item);
  auto resolved = resolve_history(history);
  out.unknown_items = std::move(resolved.unknown);
  const auto target = items_.find(item);
  if (!target) {
    out.unknown_items.push_back(out.item);
    return out;
  }
  if (resolved.history.empty()) return out;
  out.score = model_->score(resolved.history)[*target];
  const auto values = model_->contributions(resolved.history, *target);
  double total = 0;
  for (const float v : values) total += std::abs(v);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const float share = total > 0 ? static_cast<float>(values[i] / total) : 0.0f;
    out.contributions.push_back({items_.id(resolved.history[i]), values[i], share});
  }
  std::stable_sort(out.contributions.begin(), out.contributions.end(),
                   [](const Contribution& a, const Contribution& b) { return a.value > b.value; });
  return out;
}

std::vector<std::string> Recommender::items_with_feature(std::string_view feature) const {
  std::vector<std::string> out;
  const auto f = features_.find(feature);
  if (!f) return out;
  for (Index i = 0; i < item_features_.size(); ++i) {
    const auto row = item_features_[i];
    if (std::find(row.begin(), row.end(), *f) != row.end()) out.push_back(items_.id(i));
  }
  return out;
}

void Recommender::restrict_to_feature(Filter& filter, std::string_view feature) const {
  auto with_feature = items_with_feature(feature);
  if (!filter.allow) {
    filter.allow = std::move(with_feature);
    return;
  }
  std::sort(with_feature.begin(), with_feature.end());
  std::erase_if(*filter.allow, [&](const std::string& id) {
    return !std::binary_search(with_feature.begin(), with_feature.end(), id);
  });
}

std::optional<std::vector<std::string>> Recommender::history_of(std::string_view user) const {
  const auto index = users_.find(user);
  if (!index) return std::nullopt;
  std::vector<std::string> history;
  for (const Index item : user_histories_[*index]) history.push_back(items_.id(item));
  return history;
}

void Recommender::drop_user_data() {
  users_ = IdMap();
  user_histories_ = Histories();
}

void Recommender::save(const std::filesystem::path& path) const {
  io::ModelFile file;
  file.kind = kKindPrefix + model_->kind();
  model_->save(file);
  file.header["items"] = items_.ids();
  file.header["users"] = users_.ids();
  file.header["user_histories"] = histories_to_json(user_histories_);
  file.header["features"] = features_.ids();
  file.header["item_features"] = histories_to_json(item_features_);
  file.tensors.push_back({kPopularity, popularity_});
  save_index(path, file.header);
  io::write_model_file(path, file);
}

namespace {

std::filesystem::path index_path(const std::filesystem::path& model_path) {
  return std::filesystem::path(model_path.string() + ".hnsw");
}

std::string bytes_fingerprint(std::span<const std::uint8_t> bytes) {
  return std::to_string(fnv1a64(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())));
}

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

// The index goes beside the model file (faiss's own format, written
// atomically first); the model file's header names it and its fingerprint,
// so that a stale or damaged index file is rebuilt instead of trusted.
void Recommender::save_index(const std::filesystem::path& path, nlohmann::json& header) const {
  if (!retrieval_ || !retrieval_->index) return;
  const auto bytes = retrieval_->index->to_bytes();
  io::write_file_atomically(index_path(path), [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  });
  const auto& options = retrieval_->index->options();
  header["index"] = {{"kind", "hnsw"},
                     {"file", index_path(path).filename().string()},
                     {"fnv1a64", bytes_fingerprint(bytes)},
                     {"links", options.links},
                     {"ef_construction", options.ef_construction},
                     {"ef_search", options.ef_search}};
}

void Recommender::load_index(const std::filesystem::path& path, const nlohmann::json& header) {
  if (!header.contains("index")) return;
  const auto& saved = header.at("index");
  if (saved.at("kind") != "hnsw") throw Error(path.string() + ": unknown index kind " + saved.at("kind").dump());
  HnswOptions options;
  options.links = saved.at("links").get<int>();
  options.ef_construction = saved.at("ef_construction").get<int>();
  options.ef_search = saved.at("ef_search").get<int>();
  // Always MODEL.hnsw beside the model, whatever the header says: a model
  // file must not make its reader open any other file.
  const auto file = index_path(path);
  const auto bytes = read_bytes(file);
  auto retrieval = new_vector_retrieval();
  if (!bytes.empty() && bytes_fingerprint(bytes) == saved.at("fnv1a64").get<std::string>()) {
    retrieval->index = HnswIndex::from_bytes(bytes, options, file.string());
  }
  if (!retrieval->index || retrieval->index->size() != items_.size() ||
      retrieval->index->dim() != retrieval->items.cols()) {
    retrieval->index = HnswIndex::build(retrieval->items, options);  // missing or stale: rebuilt
  }
  retrieval_ = std::move(retrieval);
}

Recommender Recommender::load(const std::filesystem::path& path) {
  auto file = io::read_model_file(path);
  if (!file.kind.starts_with(kKindPrefix))
    throw Error(path.string() + ": a '" + file.kind + "' model file, not a recommender (rec.*)");
  Recommender r;
  try {
    const auto& header = file.header;
    r.items_ = IdMap(header.at("items").get<std::vector<std::string>>());
    r.users_ = IdMap(header.at("users").get<std::vector<std::string>>());
    r.user_histories_ = histories_from_json(header.at("user_histories"), r.items_.size());
    r.features_ = IdMap(header.at("features").get<std::vector<std::string>>());
    r.item_features_ = histories_from_json(header.at("item_features"), r.features_.size());
    auto model = make_model(header.at("model").at("kind").get<std::string>());
    model->load(file, path);
    r.model_ = std::move(model);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path.string() + ": bad recommender header (" + e.what() + ")");
  } catch (const Error& e) {
    const std::string what = e.what();
    throw Error(what.starts_with(path.string()) ? what : path.string() + ": " + what);
  }
  const auto& popularity = file.tensor(kPopularity);
  if (popularity.rows() != 1 || popularity.cols() != r.items_.size())
    throw Error(path.string() + ": " + kPopularity + " has shape " + shape_string(popularity) + ", expected [1 x " +
                std::to_string(r.items_.size()) + "]");
  r.popularity_ = popularity;
  r.check_consistent(path.string());
  try {
    r.load_index(path, file.header);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path.string() + ": bad index entry in the header (" + e.what() + ")");
  }
  // Without an index, as a new Recommender would rank (the item vectors copied once).
  if (!r.retrieval_) r.choose_default_ranking();
  return r;
}

}  // namespace aisle::rec
