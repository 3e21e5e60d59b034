#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aisle/rec/filter.hpp"
#include "aisle/rec/id_map.hpp"
#include "aisle/rec/interactions.hpp"
#include "aisle/rec/model.hpp"
#include "aisle/rec/model_registry.hpp"

namespace aisle::rec {

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
  void check_consistent(const std::string& where) const;

  IdMap items_;
  IdMap users_;
  Histories user_histories_;
  IdMap features_;
  Histories item_features_;
  RowVector popularity_;
  std::shared_ptr<const Model> model_;
};

}  // namespace aisle::rec
