// aisle-serve's live events without a socket: POST /v1/events, queries by
// user scored with the stored events, every refusal of a bad batch, and the
// shopper's rights of access (GET /v1/users/{id}/history) and erasure
// (DELETE /v1/users/{id}).

#include <gtest/gtest.h>


#include "aisle/rec/event_log.hpp"
#include "model_slots.hpp"
#include "serve_fixture.hpp"
#include "service.hpp"

namespace aisle::test_support {
namespace {

using serve::HttpRequest;
using serve::HttpResponse;

serve::ServiceOptions options_with(std::shared_ptr<rec::EventStore> events) {
  serve::ServiceOptions options;
  options.events = std::move(events);
  options.limits.max_events = 5;
  return options;
}

HttpRequest admin(HttpRequest request) {
  request.from_loopback = true;
  return request;
}

class ServeEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    slots.reload(serve::Slot::recommender, models.rec);
    service.set_loaded(true);
    reference = std::make_unique<rec::Recommender>(rec::Recommender::load(models.rec));
  }

  HttpResponse call(const HttpRequest& request) { return service.handle(request); }

  HttpResponse post_event(const std::string& user, const std::string& item, std::int64_t timestamp) {
    return call(post_json("/v1/events", {{"user", user}, {"item", item}, {"timestamp", timestamp}}));
  }

  std::string item(Index i) const { return reference->items().id(i); }
  std::string user(Index u) const { return reference->users().id(u); }

  ServeModels models;
  TempDir events_dir;
  std::shared_ptr<rec::EventLog> events = std::make_shared<rec::EventLog>(events_dir.path());
  serve::ModelSlots slots;
  serve::Metrics metrics;
  serve::Service service{slots, metrics, options_with(events)};
  std::unique_ptr<rec::Recommender> reference;
};

TEST_F(ServeEventsTest, APostedEventShapesTheNextListOfAKnownShopper) {
  const auto shopper = user(3);
  auto history = *reference->history_of(shopper);
  const auto before = body_of(call(post_json("/v1/recommend", {{"user", shopper}, {"k", 5}})));
  const auto clicked = before.at("items")[0].at("item").get<std::string>();

  const auto accepted = post_event(shopper, clicked, 1733312345);
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  EXPECT_EQ(body_of(accepted).at("accepted"), 1);
  EXPECT_TRUE(body_of(accepted).at("unknown_items").empty());

  history.push_back(clicked);
  const auto after = body_of(call(post_json("/v1/recommend", {{"user", shopper}, {"k", 5}})));
  EXPECT_EQ(item_ids(after.at("items")), item_ids(reference->recommend(history, 5)));
  const auto listed = item_ids(after.at("items"));
  EXPECT_EQ(std::find(listed.begin(), listed.end(), clicked), listed.end()) << "the clicked item is excluded";
}

TEST_F(ServeEventsTest, ANewShopperIsScoredFromTheirEventsAloneAndInBatches) {
  const auto cold = body_of(call(post_json("/v1/recommend", {{"user", "new-shopper"}, {"k", 4}})));
  EXPECT_TRUE(cold.at("popularity_fallback").get<bool>());

  const nlohmann::json batch = {{"events", {{{"user", "new-shopper"}, {"item", item(7)}, {"timestamp", 5}},
                                            {{"user", "new-shopper"}, {"item", item(2)}, {"timestamp", 6}}}}};
  ASSERT_EQ(call(post_json("/v1/events", batch)).status, 202);
  const std::vector<std::string> history{item(7), item(2)};
  const auto warm = body_of(call(post_json("/v1/recommend", {{"user", "new-shopper"}, {"k", 4}})));
  EXPECT_FALSE(warm.at("popularity_fallback").get<bool>());
  EXPECT_EQ(item_ids(warm.at("items")), item_ids(reference->recommend(history, 4)));

  const auto batched = body_of(call(post_json(
      "/v1/recommend_batch", {{"queries", {{{"user", "new-shopper"}}, {{"history", history}}}}, {"k", 4}})));
  EXPECT_EQ(batched.at("results")[0].at("items"), batched.at("results")[1].at("items"));
}

TEST_F(ServeEventsTest, EventsForUnknownItemsAreStoredAndReported) {
  const auto answer = body_of(post_event("shopper-x", "not-in-the-catalogue", 10));
  EXPECT_EQ(answer.at("unknown_items"), nlohmann::json::array({"not-in-the-catalogue"}));
  EXPECT_EQ(events->history("shopper-x").size(), 1u);
  const auto listed = body_of(call(post_json("/v1/recommend", {{"user", "shopper-x"}})));
  EXPECT_EQ(listed.at("unknown_items"), nlohmann::json::array({"not-in-the-catalogue"}));
}

TEST_F(ServeEventsTest, ABadEventRefusesItsWholeBatchNamingIt) {
  const auto event = [&](const char* u, const std::string& i) { return nlohmann::json{{"user", u}, {"item", i}}; };
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {{{"events", {event("a", item(1)), event("b", item(2)), {{"user", "c"}}}}}, "events[2]: missing field 'item'"},
      {{{"events", {event("a", item(1)), {{"user", 5}, {"item", item(2)}}}}}, "events[1]: field 'user' must be a string"},
      {{{"events", {event("a", item(1)), {{"user", "b"}, {"item", item(2)}, {"timestamp", "now"}}}}},
       "events[1]: field 'timestamp' must be a whole number"},
      {{{"events", {{{"user", "b"}, {"item", item(2)}, {"timestamp", -3}}}}}, "events[0]: field 'timestamp'"},
      {{{"events", {{{"user", "b"}, {"item", item(2)}, {"when", 3}}}}}, "unknown field 'when' in the events[0]"},
      {{{"events", {event("", item(1))}}}, "events[0]: field 'user' is empty"},
      {{{"events", nlohmann::json::array()}}, "field 'events' is empty"},
      {{{"events", {event("a", item(1)), event("a", item(1)), event("a", item(1)), event("a", item(1)),
                    event("a", item(1)), event("a", item(1))}}},
       "field 'events' has 6 events; at most 5"},
      {{{"events", "a"}}, "field 'events' must be an array"},
      {{{"item", item(1)}}, "the event: missing field 'user'"},
  };
  for (const auto& [body, message] : cases) {
    const auto response = call(post_json("/v1/events", body));
    EXPECT_EQ(response.status, 400) << body.dump();
    EXPECT_NE(body_of(response).at("error").get<std::string>().find(message), std::string::npos)
        << body_of(response).at("error") << " should say " << message;
  }
  EXPECT_EQ(events->stats().events, 0) << "nothing of a refused batch is stored";
  EXPECT_EQ(call(post_text("/v1/events", "{\"user\": ")).status, 400);
}

TEST_F(ServeEventsTest, WithoutAStoreTheEventEndpointsAnswer501) {
  serve::Service plain(slots, metrics, {});
  plain.set_loaded(true);
  EXPECT_EQ(plain.handle(post_json("/v1/events", {{"user", "a"}, {"item", item(1)}})).status, 501);
  EXPECT_EQ(plain.handle(admin(get("/v1/users/a/history"))).status, 501);
}

TEST_F(ServeEventsTest, HistoryGivesTheFittedItemsThenTheEventsToAdminsOnly) {
  const auto shopper = user(5);
  post_event(shopper, item(9), 200);
  post_event(shopper, item(4), 100);
  const auto response = call(admin(get("/v1/users/" + shopper + "/history")));
  ASSERT_EQ(response.status, 200) << response.body;
  const auto body = body_of(response);
  EXPECT_EQ(body.at("user"), shopper);
  const auto fitted = *reference->history_of(shopper);
  const auto& history = body.at("history");
  ASSERT_EQ(history.size(), fitted.size() + 2);
  for (std::size_t i = 0; i < fitted.size(); ++i) {
    EXPECT_EQ(history[i].at("item"), fitted[i]);
    EXPECT_TRUE(history[i].at("timestamp").is_null());
  }
  EXPECT_EQ(history[fitted.size()], (nlohmann::json{{"item", item(4)}, {"timestamp", 100}}));  // oldest first
  EXPECT_EQ(history[fitted.size() + 1], (nlohmann::json{{"item", item(9)}, {"timestamp", 200}}));
  EXPECT_EQ(call(get("/v1/users/" + shopper + "/history")).status, 403);  // not from loopback, no token
  EXPECT_EQ(call(admin(get("/v1/users/" + shopper))).status, 405);
}

TEST_F(ServeEventsTest, DeleteForgetsTheEventsAndTheFittedHistory) {
  const auto shopper = user(6);
  post_event(shopper, item(1), 10);
  post_event("someone-else", item(2), 11);
  HttpRequest remove{.method = "DELETE", .path = "/v1/users/" + shopper};
  EXPECT_EQ(call(remove).status, 403);
  remove.query["compact"] = "sometimes";
  EXPECT_EQ(call(admin(remove)).status, 400);
  remove.query["compact"] = "true";
  const auto response = call(admin(remove));
  ASSERT_EQ(response.status, 200) << response.body;
  const auto body = body_of(response);
  EXPECT_EQ(body.at("events_removed"), 1);
  EXPECT_TRUE(body.at("model_history_hidden").get<bool>());
  EXPECT_TRUE(body.at("compacted").get<bool>());

  const auto listed = body_of(call(post_json("/v1/recommend", {{"user", shopper}, {"k", 3}})));
  EXPECT_TRUE(listed.at("popularity_fallback").get<bool>());
  EXPECT_TRUE(body_of(call(admin(get("/v1/users/" + shopper + "/history")))).at("history").empty());
  for (const auto& entry : std::filesystem::directory_iterator(events_dir.path()))
    EXPECT_EQ(read_text(entry.path()).find(shopper), std::string::npos) << entry.path();
  EXPECT_EQ(events->history("someone-else").size(), 1u);
}

TEST_F(ServeEventsTest, MetricsCountTheStoredEvents) {
  post_event("a", item(1), 1);
  call(post_json("/v1/events", {{"events", {{{"user", "b"}, {"item", item(1)}}, {{"user", "b"}, {"item", item(3)}}}}}));
  const auto text = call(get("/metrics")).body;
  EXPECT_NE(text.find("aisle_events_stored_total 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("aisle_event_store_events 3\n"), std::string::npos);
  EXPECT_NE(text.find("aisle_event_store_users 2\n"), std::string::npos);
  EXPECT_NE(text.find("aisle_requests_total{endpoint=\"events\",code=\"202\"} 2\n"), std::string::npos);
}

}  // namespace
}  // namespace aisle::test_support
