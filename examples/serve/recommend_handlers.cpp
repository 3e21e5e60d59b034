// /v1/recommend, /v1/recommend_batch, /v1/similar and /v1/explain.

#include <memory>

#include "handlers.hpp"
#include "request_fields.hpp"
#include "shopper_history.hpp"

namespace serve {
namespace {

using aisle::rec::Recommendations;
using aisle::rec::Recommender;

std::shared_ptr<const RecommenderModel> serving_recommender(Service& service) {
  auto model = service.slots().recommender();
  if (!model) throw RequestError(503, "no recommendation model is loaded yet");
  return model;
}

// "exclude", "allow" and "feature" of a request, as the CLI's --exclude,
// --allow and --feature.
aisle::rec::Filter filter_from(const nlohmann::json& body, const Recommender& recommender,
                               const ServiceLimits& limits) {
  aisle::rec::Filter filter;
  if (auto exclude = optional_string_list(body, "exclude", limits.max_list)) filter.deny = std::move(*exclude);
  filter.allow = optional_string_list(body, "allow", limits.max_list);
  if (const auto feature = optional_string(body, "feature")) recommender.restrict_to_feature(filter, *feature);
  return filter;
}

// A query's "user" or "history" (exactly one).
aisle::rec::Query query_from(const nlohmann::json& object, const ServiceLimits& limits) {
  const bool has_user = object.contains("user"), has_history = object.contains("history");
  if (has_user == has_history) throw RequestError(400, "give exactly one of 'user' and 'history'");
  if (has_user) return aisle::rec::Query::for_user(required_string(object, "user"));
  return aisle::rec::Query::for_history(*optional_string_list(object, "history", limits.max_history));
}

nlohmann::json items_json(const Recommendations& r) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& s : r.items) items.push_back({{"item", s.item}, {"score", s.score}});
  return items;
}

nlohmann::json recommendations_json(const Recommendations& r) {
  return {{"items", items_json(r)}, {"unknown_items", r.unknown_items}, {"popularity_fallback", r.popularity_fallback}};
}

// Each recommended item's "because": the history items behind its score.
void add_explanations(nlohmann::json& items, const Recommender& recommender, const std::vector<std::string>& history) {
  for (auto& entry : items) {
    const auto explanation = recommender.explain(history, entry.at("item").get<std::string>());
    nlohmann::json because = nlohmann::json::array();
    for (const auto& c : explanation.contributions) because.push_back({{"item", c.item}, {"share", c.share}});
    entry["because"] = std::move(because);
  }
}

Recommendations recommend_one(const Recommender& recommender, const aisle::rec::Query& query, aisle::Index k,
                              const aisle::rec::Filter& filter) {
  if (query.user) return recommender.recommend(*query.user, k, filter);
  return recommender.recommend(query.history, k, filter);
}

}  // namespace

HttpResponse handle_recommend(const HttpRequest& request, Service& service) {
  const auto body = json_object_body(request);
  check_known_fields(body, {"user", "history", "k", "exclude", "allow", "feature", "explain"});
  const auto& limits = service.options().limits;
  const auto k = integer_in(body, "k", 10, 1, limits.max_k);
  const bool explain = optional_bool(body, "explain", false);
  const auto model = serving_recommender(service);
  const auto& recommender = model->recommender;
  const auto query = with_live_history(query_from(body, limits), recommender, service.options().events.get());
  const auto result = recommend_one(recommender, query, k, filter_from(body, recommender, limits));
  auto out = recommendations_json(result);
  if (explain && !result.popularity_fallback) {
    const auto history = query.user ? recommender.history_of(*query.user).value_or(std::vector<std::string>{})
                                    : query.history;
    add_explanations(out["items"], recommender, history);
  }
  out["model_version"] = model->info.version;
  return json_response(200, out);
}

HttpResponse handle_recommend_batch(const HttpRequest& request, Service& service) {
  const auto body = json_object_body(request);
  check_known_fields(body, {"queries", "k", "exclude", "allow", "feature"});
  const auto& limits = service.options().limits;
  const auto it = body.find("queries");
  if (it == body.end()) throw RequestError(400, "missing field 'queries'");
  if (!it->is_array()) throw RequestError(400, "field 'queries' must be an array of objects");
  if (it->size() > limits.max_batch)
    throw RequestError(400, "field 'queries' has " + std::to_string(it->size()) + " entries; at most " +
                                std::to_string(limits.max_batch));
  std::vector<aisle::rec::Query> queries;
  queries.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& q = (*it)[i];
    const std::string where = "queries[" + std::to_string(i) + "]";
    if (!q.is_object()) throw RequestError(400, where + " must be an object with 'user' or 'history'");
    check_known_fields(q, {"user", "history"}, where);
    try {
      queries.push_back(query_from(q, limits));
    } catch (const RequestError& e) {
      throw RequestError(e.status(), where + ": " + e.what());
    }
  }
  const auto k = integer_in(body, "k", 10, 1, limits.max_k);
  const auto model = serving_recommender(service);
  for (auto& query : queries) query = with_live_history(std::move(query), model->recommender, service.options().events.get());
  const auto results = model->recommender.recommend_batch(queries, k, filter_from(body, model->recommender, limits));
  nlohmann::json out_results = nlohmann::json::array();
  for (const auto& r : results) out_results.push_back(recommendations_json(r));
  return json_response(200, {{"model_version", model->info.version}, {"results", std::move(out_results)}});
}

HttpResponse handle_similar(const HttpRequest& request, Service& service) {
  const auto body = json_object_body(request);
  check_known_fields(body, {"item", "k", "exclude", "allow", "feature"});
  const auto item = required_string(body, "item");
  const auto k = integer_in(body, "k", 10, 1, service.options().limits.max_k);
  const auto model = serving_recommender(service);
  const auto result = model->recommender.similar_items(item, k, filter_from(body, model->recommender, service.options().limits));
  if (!result.unknown_items.empty()) throw RequestError(404, "unknown item '" + item + "'");
  return json_response(200, {{"model_version", model->info.version}, {"item", item}, {"items", items_json(result)}});
}

HttpResponse handle_explain(const HttpRequest& request, Service& service) {
  const auto body = json_object_body(request);
  check_known_fields(body, {"history", "item"});
  const auto item = required_string(body, "item");
  const auto history = optional_string_list(body, "history", service.options().limits.max_history);
  if (!history) throw RequestError(400, "missing field 'history'");
  const auto model = serving_recommender(service);
  const auto e = model->recommender.explain(*history, item);
  if (std::find(e.unknown_items.begin(), e.unknown_items.end(), item) != e.unknown_items.end())
    throw RequestError(404, "unknown item '" + item + "'");
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& c : e.contributions) parts.push_back({{"item", c.item}, {"value", c.value}, {"share", c.share}});
  return json_response(200, {{"model_version", model->info.version},
                             {"item", e.item},
                             {"score", e.score},
                             {"contributions", std::move(parts)},
                             {"unknown_items", e.unknown_items}});
}

}  // namespace serve
