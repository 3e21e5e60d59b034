#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aisle/rec/filter.hpp"
#include "aisle/rec/hnsw_index.hpp"
#include "aisle/rec/id_map.hpp"
#include "aisle/rec/interactions.hpp"
#include "aisle/rec/model.hpp"
#include "aisle/rec/model_registry.hpp"

namespace aisle::rec {

namespace detail {
struct VectorRetrieval;
}

struct ScoredItem {
  std::string item;
  float score = 0;
};

struct Recommendations {
  std::vector<ScoredItem> items;             // best first
  std::vector<std::string> unknown_items;    // history items the model does not know (skipped)
  bool popularity_fallback = false;          // unknown user or empty history: the most popular items
};

struct Contribution {
  std::string item;     // a history item
  float value = 0;      // what it adds to the explained item's score
  float share = 0;      // value / sum of |values|
};

struct Explanation {
  std::string item;
  float score = 0;
  std::vector<Contribution> contributions;  // largest value first
  std::vector<std::string> unknown_items;   // history items skipped; or the explained item when unknown
};

// What Recommender::add_items did.
struct AddedItems {
  Index added = 0;
  std::vector<std::string> known_items;       // already in the catalogue: skipped
  std::vector<std::string> unknown_features;  // features the fit never saw: skipped (each once)
  bool index_dropped = false;                 // an HNSW index was dropped: build_index again
};

// A query of recommend_batch: a known user's stored history, or a history.
struct Query {
  std::optional<std::string> user;
  std::vector<std::string> history;

  static Query for_user(std::string user) { return {std::move(user), {}}; }
  static Query for_history(std::vector<std::string> history) { return {std::nullopt, std::move(history)}; }
};

// What a storefront backend links: a fitted model with the catalogue's ids,
// the fitted users' histories and popularity for fallbacks.
//
//   auto data = aisle::rec::read_dataset("shop/");
//   auto rec = aisle::rec::Recommender::fit(data, aisle::rec::make_model("ease"));
//   auto top = rec.recommend(std::vector<std::string>{"sku-1", "sku-7"}, 10);
//
// Every query is const and safe from many threads at once. Unknown ids never
// throw: unknown history items are skipped and reported, an unknown user gets
// the most popular items.
class Recommender {
 public:
  // model must be fitted on data.histories() (same item indices).
  Recommender(const Interactions& data, std::unique_ptr<Model> model);
  static Recommender fit(const Interactions& data, std::unique_ptr<Model> model, const FitContext& context = {});

  Recommendations recommend(std::string_view user, Index k, const Filter& filter = {}) const;
  Recommendations recommend(std::span<const std::string> history, Index k, const Filter& filter = {}) const;
  // All queries scored by one matrix product.
  std::vector<Recommendations> recommend_batch(std::span<const Query> queries, Index k,
                                               const Filter& filter = {}) const;
  // Items like item: the scores of the one-item history {item}, item itself excluded.
  Recommendations similar_items(std::string_view item, Index k, const Filter& filter = {}) const;
  // The history items that contribute most to item's score, with their shares.
  Explanation explain(std::span<const std::string> history, std::string_view item) const;

  // Items carrying a feature ("category:c03"), for allow-lists.
  std::vector<std::string> items_with_feature(std::string_view feature) const;
  // Narrows filter to the items carrying feature: the allow-list becomes
  // those items, or, when filter already has one, the items on both.
  void restrict_to_feature(Filter& filter, std::string_view feature) const;

  // A fitted user's stored history (item ids, in order); nullopt for a user
  // the model does not know.
  std::optional<std::vector<std::string>> history_of(std::string_view user) const;

  // Drops every fitted user's id and history, the only personal data a
  // recommender holds (popularity stays: counts, not people). Queries by
  // user then fall back to popularity; a server takes histories from an
  // EventStore instead. What `aisle-recommend fit --no-user-data` saves.
  void drop_user_data();

  // Adds the items of an items.csv-shaped file (item,feature rows) that the
  // catalogue lacks, without refitting: the model scores them from their
  // features (hybrid, featknn, featpop; other kinds throw aisle::Error and
  // nothing changes). Items already in the catalogue and features the fit
  // never saw are skipped and reported. An HNSW index is dropped (its graph
  // lacks the new items). Not safe while other threads query.
  AddedItems add_items(const std::filesystem::path& items_csv, const ItemFeaturesFormat& format = {});
  AddedItems add_items(std::span<const std::pair<std::string, std::string>> item_features);

  // Ranking through the model's item vectors, for models whose scores are
  // inner products (Model::vector_dim() > 0; others throw aisle::Error):
  //   use_exact_vector_search: an exact scan that streams the item matrix
  //     once a batch and never holds a catalogue-sized score row; the
  //     default for such models from kExactVectorSearchItems items on;
  //   build_index: an approximate HnswIndex (faiss), used from then on,
  //     saved beside the model file (MODEL.hnsw) and reloaded with it, or
  //     rebuilt on load when that file is missing or does not match.
  // Either way the scores reported are the inner products (the neural
  // model's logits, not its probabilities); the order is the model's. A
  // query with a Filter::predicate is ranked densely. Neither is safe while
  // other threads query.
  static constexpr Index kExactVectorSearchItems = 100000;
  void use_exact_vector_search();
  void build_index(const HnswOptions& options = {}, const std::function<void(Index, Index)>& progress = {});
  // "dense", "exact-vectors" or "hnsw".
  std::string ranking() const;

  void save(const std::filesystem::path& path) const;
  static Recommender load(const std::filesystem::path& path);

  const Model& model() const { return *model_; }
  const IdMap& items() const { return items_; }
  const IdMap& users() const { return users_; }

 private:
  Recommender() = default;
  struct Resolved {
    std::vector<Index> history;
    std::vector<std::string> unknown;
    bool fallback = false;
  };
  Resolved resolve(const Query& query) const;
  Resolved resolve_history(std::span<const std::string> history) const;
  std::vector<Recommendations> rank(const std::vector<Resolved>& queries, Index k, const Filter& filter,
                                    std::optional<Index> exclude_item = std::nullopt) const;
  std::vector<Recommendations> rank_densely(const std::vector<Resolved>& queries, Index k, const Filter& filter,
                                            std::optional<Index> exclude_item) const;
  std::vector<Recommendations> rank_by_vectors(const std::vector<Resolved>& queries, Index k, const Filter& filter,
                                               std::optional<Index> exclude_item) const;
  void choose_default_ranking();
  // The model's item vectors, for either vector ranking; throws for models
  // whose scores are not inner products.
  std::shared_ptr<detail::VectorRetrieval> new_vector_retrieval() const;
  void save_index(const std::filesystem::path& path, nlohmann::json& header) const;
  void load_index(const std::filesystem::path& path, const nlohmann::json& header);
  void check_consistent(const std::string& where) const;

  IdMap items_;
  IdMap users_;
  Histories user_histories_;
  IdMap features_;
  Histories item_features_;
  RowVector popularity_;
  std::shared_ptr<const Model> model_;
  std::shared_ptr<const detail::VectorRetrieval> retrieval_;  // null: dense ranking
};

// context, given data's item features (FitContext::item_features) when the
// data has some and the context names none: what every fit on a data set
// passes its model.
FitContext with_item_features(FitContext context, const Interactions& data);

}  // namespace aisle::rec
