#pragma once

// A shopper's history as the service sees it when it has an event store:
// what the model file knows of them (unless they were forgotten), followed
// by their stored events, oldest first. Queries by user are scored with it,
// so a click posted a moment ago shapes the next list.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aisle/rec/event_store.hpp"
#include "aisle/rec/recommender.hpp"

namespace serve {

struct HistoryEntry {
  std::string item;
  std::optional<std::int64_t> timestamp;  // none for the model file's history, which keeps no times
};

// recommender may be null (no model loaded yet): the stored events alone.
std::vector<HistoryEntry> shopper_history(const aisle::rec::Recommender* recommender,
                                          const aisle::rec::EventStore& events, std::string_view user);

// The items of shopper_history.
std::vector<std::string> live_history(const aisle::rec::Recommender& recommender,
                                      const aisle::rec::EventStore& events, std::string_view user);

// query, with a user's query turned into their live history when there is
// an event store (events may be null: the query as it is).
aisle::rec::Query with_live_history(aisle::rec::Query query, const aisle::rec::Recommender& recommender,
                                    const aisle::rec::EventStore* events);

}  // namespace serve
