#include "shopper_history.hpp"

namespace serve {

std::vector<HistoryEntry> shopper_history(const aisle::rec::Recommender* recommender,
                                          const aisle::rec::EventStore& events, std::string_view user) {
  std::vector<HistoryEntry> history;
  // The store is asked about forgetting only when the model file knows the
  // user: a model fitted --no-user-data costs one store read a query, not two.
  auto fitted = recommender != nullptr ? recommender->history_of(user) : std::nullopt;
  if (fitted && !events.was_forgotten(user))
    for (auto& item : *fitted) history.push_back({std::move(item), std::nullopt});
  for (auto& e : events.history(user)) history.push_back({std::move(e.item), e.timestamp});
  return history;
}

std::vector<std::string> live_history(const aisle::rec::Recommender& recommender,
                                      const aisle::rec::EventStore& events, std::string_view user) {
  std::vector<std::string> items;
  for (auto& entry : shopper_history(&recommender, events, user)) items.push_back(std::move(entry.item));
  return items;
}

aisle::rec::Query with_live_history(aisle::rec::Query query, const aisle::rec::Recommender& recommender,
                                    const aisle::rec::EventStore* events) {
  if (events == nullptr || !query.user) return query;
  return aisle::rec::Query::for_history(live_history(recommender, *events, *query.user));
}

}  // namespace serve
