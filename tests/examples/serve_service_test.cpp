// aisle-serve's request handling without a socket: every endpoint's answer
// and JSON shape, every refusal with its code, reloads and admin rights.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "aisle/io/fashion_mnist.hpp"
#include "model_slots.hpp"
#include "serve_fixture.hpp"
#include "service.hpp"

namespace aisle::test_support {
namespace {

using serve::HttpRequest;
using serve::HttpResponse;

class ServeServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    slots.reload(serve::Slot::recommender, models.rec);
    slots.reload(serve::Slot::classifier, models.classifier);
    service.set_loaded(true);
    reference = std::make_unique<rec::Recommender>(rec::Recommender::load(models.rec));
  }

  HttpResponse call(const HttpRequest& request) { return service.handle(request); }

  // A known user and one of their items.
  std::string some_user() const { return reference->users().id(3); }

  ServeModels models;
  serve::ModelSlots slots;
  serve::Metrics metrics;
  serve::Service service{slots, metrics, {}};
  std::unique_ptr<rec::Recommender> reference;
};

TEST_F(ServeServiceTest, RecommendForAUserAnswersTheLibrarysListWithTheModelVersion) {
  const auto response = call(post_json("/v1/recommend", {{"user", some_user()}, {"k", 5}}));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  const auto body = body_of(response);
  EXPECT_EQ(body.at("model_version"), serve::file_version(models.rec));
  EXPECT_EQ(item_ids(body.at("items")), item_ids(reference->recommend(some_user(), 5)));
  EXPECT_EQ(body.at("items").size(), 5u);
  EXPECT_TRUE(body.at("items")[0].at("score").is_number());
  EXPECT_FALSE(body.at("items")[0].contains("because"));
  EXPECT_EQ(body.at("unknown_items"), nlohmann::json::array());
  EXPECT_EQ(body.at("popularity_fallback"), false);
}

TEST_F(ServeServiceTest, ComputeThreadsAnswerAsTheConnectionThreadDoesAndReportTheirQueue) {
  serve::ServiceOptions options;
  options.compute_threads = 2;
  serve::Metrics queue_metrics;
  serve::Service queued{slots, queue_metrics, options};
  const auto request = post_json("/v1/recommend", {{"user", some_user()}, {"k", 5}});
  const auto on_queue = queued.handle(request);
  ASSERT_EQ(on_queue.status, 200) << on_queue.body;
  EXPECT_EQ(on_queue.body, call(request).body);
  const auto refused = queued.handle(post_json("/v1/recommend", {{"user", some_user()}, {"k", 0}}));
  EXPECT_EQ(refused.status, 400) << "an error thrown on a compute thread is answered as on the caller's";
  const auto text = queued.handle(get("/metrics")).body;
  EXPECT_TRUE(contains(text, "# TYPE aisle_compute_queue_length gauge\naisle_compute_queue_length 0\n")) << text;
  EXPECT_FALSE(contains(call(get("/metrics")).body, "aisle_compute_queue_length")) << "no queue, no gauge";
}

TEST_F(ServeServiceTest, RecommendForAHistoryReportsUnknownItemsAndHonoursFilters) {
  const std::vector<std::string> history{reference->items().id(0), "no-such-item", reference->items().id(5)};
  const std::string denied = item_ids(reference->recommend(history, 1)).at(0);
  const auto body = body_of(call(post_json(
      "/v1/recommend", {{"history", history}, {"k", 4}, {"exclude", {denied}}})));
  rec::Filter filter;
  filter.deny = {denied};
  EXPECT_EQ(item_ids(body.at("items")), item_ids(reference->recommend(history, 4, filter)));
  EXPECT_EQ(body.at("unknown_items"), nlohmann::json::array({"no-such-item"}));
  const auto category = reference->items_with_feature("category:c01");
  ASSERT_FALSE(category.empty());
  const auto in_category = body_of(call(post_json("/v1/recommend", {{"history", history}, {"feature", "category:c01"}})));
  for (const auto& id : item_ids(in_category.at("items")))
    EXPECT_NE(std::find(category.begin(), category.end(), id), category.end()) << id;
}

TEST_F(ServeServiceTest, RecommendWithExplainSaysWhichHistoryItemsAreBehindEachItem) {
  const auto history = *reference->history_of(some_user());
  const auto body = body_of(call(post_json("/v1/recommend", {{"user", some_user()}, {"k", 3}, {"explain", true}})));
  for (const auto& entry : body.at("items")) {
    const auto expected = reference->explain(history, entry.at("item").get<std::string>());
    ASSERT_EQ(entry.at("because").size(), expected.contributions.size());
    EXPECT_EQ(entry.at("because")[0].at("item"), expected.contributions[0].item);
    EXPECT_FLOAT_EQ(entry.at("because")[0].at("share").get<float>(), expected.contributions[0].share);
  }
}

TEST_F(ServeServiceTest, AnUnknownUserFallsBackToPopularItems) {
  const auto body = body_of(call(post_json("/v1/recommend", {{"user", "nobody"}, {"k", 3}})));
  EXPECT_EQ(body.at("popularity_fallback"), true);
  EXPECT_EQ(item_ids(body.at("items")), item_ids(reference->recommend("nobody", 3)));
}

TEST_F(ServeServiceTest, ABatchAnswersEachQueryAsASingleRecommendWould) {
  const std::vector<std::string> history{reference->items().id(7)};
  const auto body = body_of(call(post_json(
      "/v1/recommend_batch",
      {{"queries", {{{"user", some_user()}}, {{"history", history}}, {{"user", "nobody"}}}}, {"k", 4}})));
  ASSERT_EQ(body.at("results").size(), 3u);
  EXPECT_EQ(body.at("model_version"), serve::file_version(models.rec));
  EXPECT_EQ(item_ids(body.at("results")[0].at("items")), item_ids(reference->recommend(some_user(), 4)));
  EXPECT_EQ(item_ids(body.at("results")[1].at("items")), item_ids(reference->recommend(history, 4)));
  EXPECT_EQ(body.at("results")[2].at("popularity_fallback"), true);
}

TEST_F(ServeServiceTest, SimilarAndExplainAnswerAsTheLibraryAndRefuseUnknownItems) {
  const auto item = reference->items().id(2);
  const auto similar = body_of(call(post_json("/v1/similar", {{"item", item}, {"k", 3}})));
  EXPECT_EQ(similar.at("item"), item);
  EXPECT_EQ(item_ids(similar.at("items")), item_ids(reference->similar_items(item, 3)));
  EXPECT_EQ(call(post_json("/v1/similar", {{"item", "no-such-item"}})).status, 404);

  const std::vector<std::string> history{reference->items().id(0), reference->items().id(1)};
  const auto target = reference->items().id(9);
  const auto explain = body_of(call(post_json("/v1/explain", {{"history", history}, {"item", target}})));
  const auto expected = reference->explain(history, target);
  EXPECT_FLOAT_EQ(explain.at("score").get<float>(), expected.score);
  ASSERT_EQ(explain.at("contributions").size(), 2u);
  EXPECT_EQ(explain.at("contributions")[0].at("item"), expected.contributions[0].item);
  EXPECT_FLOAT_EQ(explain.at("contributions")[0].at("value").get<float>(), expected.contributions[0].value);
  const auto unknown = call(post_json("/v1/explain", {{"history", history}, {"item", "no-such-item"}}));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_TRUE(contains(unknown.body, "no-such-item"));
}

TEST_F(ServeServiceTest, ClassifyTakesAPgmOrPixelsAndRanksEveryClass) {
  std::string pgm = "P5\n28 28\n255\n";
  std::vector<double> pixels;
  for (int i = 0; i < 784; ++i) {
    pgm += static_cast<char>(i % 256);
    pixels.push_back(i % 256);
  }
  const auto from_pgm = call(post_text("/v1/classify", pgm, "image/x-portable-graymap"));
  ASSERT_EQ(from_pgm.status, 200) << from_pgm.body;
  const auto from_json = call(post_json("/v1/classify", {{"pixels", pixels}}));
  ASSERT_EQ(from_json.status, 200) << from_json.body;
  const auto a = body_of(from_pgm), b = body_of(from_json);
  EXPECT_EQ(a.at("classes"), b.at("classes"));
  EXPECT_EQ(a.at("model_version"), serve::file_version(models.classifier));
  ASSERT_EQ(a.at("classes").size(), 10u);
  double total = 0;
  for (std::size_t i = 0; i < 10; ++i) {
    total += a.at("classes")[i].at("p").get<double>();
    if (i > 0) {
      EXPECT_GE(a.at("classes")[i - 1].at("p").get<double>(), a.at("classes")[i].at("p").get<double>());
    }
  }
  EXPECT_NEAR(total, 1.0, 1e-4);
  const auto labels = io::kFashionMnistClassNames;
  EXPECT_NE(std::find(labels.begin(), labels.end(), a.at("classes")[0].at("label").get<std::string>()), labels.end());
}

TEST_F(ServeServiceTest, ClassifyRefusesBadImagesAndAnswers503WithoutAClassifier) {
  EXPECT_EQ(call(post_text("/v1/classify", "P5\n27 28\n255\n" + std::string(27 * 28, 'x'), "image/x-portable-graymap")).status, 400);
  EXPECT_EQ(call(post_text("/v1/classify", "P5\n28 28\n255\n", "image/x-portable-graymap")).status, 400);
  EXPECT_EQ(call(post_json("/v1/classify", {{"pixels", {1, 2, 3}}})).status, 400);
  std::vector<double> too_bright(784, 256.0);
  const auto bright = call(post_json("/v1/classify", {{"pixels", too_bright}}));
  EXPECT_EQ(bright.status, 400);
  EXPECT_TRUE(contains(bright.body, "entry 0")) << bright.body;

  serve::ModelSlots rec_only;
  rec_only.reload(serve::Slot::recommender, models.rec);
  serve::Service without_classifier(rec_only, metrics, {});
  std::vector<double> pixels(784, 0.0);
  const auto response = without_classifier.handle(post_json("/v1/classify", {{"pixels", pixels}}));
  EXPECT_EQ(response.status, 503);
  EXPECT_TRUE(body_of(response).contains("error"));
}

TEST_F(ServeServiceTest, ModelsHealthAndReadiness) {
  const auto models_body = body_of(call(get("/v1/models")));
  ASSERT_EQ(models_body.at("models").size(), 2u);
  const auto& rec_info = models_body.at("models")[0];
  EXPECT_EQ(rec_info.at("model"), "rec");
  EXPECT_EQ(rec_info.at("kind"), "rec.ease");
  EXPECT_EQ(rec_info.at("version"), serve::file_version(models.rec));
  EXPECT_EQ(rec_info.at("items"), reference->items().size());
  EXPECT_EQ(rec_info.at("path"), std::filesystem::absolute(models.rec).string());
  EXPECT_TRUE(rec_info.contains("loaded_at"));
  EXPECT_EQ(models_body.at("models")[1].at("classes"), 10);

  EXPECT_EQ(call(get("/healthz")).status, 200);
  EXPECT_EQ(call(get("/readyz")).status, 200);
  service.set_loaded(false);
  EXPECT_EQ(call(get("/readyz")).status, 503);
  service.set_loaded(true);
  service.start_draining();
  const auto draining = call(get("/readyz"));
  EXPECT_EQ(draining.status, 503);
  EXPECT_TRUE(contains(draining.body, "draining"));
  EXPECT_EQ(call(get("/healthz")).status, 200);
}

TEST_F(ServeServiceTest, MetricsCountRequestsByEndpointAndCodeInPrometheusText) {
  call(post_json("/v1/recommend", {{"user", some_user()}}));
  call(post_json("/v1/recommend", {{"user", some_user()}}));
  call(post_json("/v1/recommend", {{"k", 0}, {"user", "u"}}));
  call(get("/nowhere"));
  const auto response = call(get("/metrics"));
  ASSERT_EQ(response.status, 200);
  EXPECT_TRUE(response.content_type.starts_with("text/plain"));
  const auto& text = response.body;
  EXPECT_TRUE(contains(text, "aisle_requests_total{endpoint=\"recommend\",code=\"200\"} 2\n")) << text;
  EXPECT_TRUE(contains(text, "aisle_requests_total{endpoint=\"recommend\",code=\"400\"} 1\n")) << text;
  EXPECT_TRUE(contains(text, "aisle_requests_total{endpoint=\"other\",code=\"404\"} 1\n")) << text;
  EXPECT_TRUE(contains(text, "# TYPE aisle_request_duration_seconds histogram"));
  EXPECT_TRUE(contains(text, "aisle_request_duration_seconds_bucket{endpoint=\"recommend\",le=\"+Inf\"} 3\n")) << text;
  EXPECT_TRUE(contains(text, "aisle_request_duration_seconds_count{endpoint=\"recommend\"} 3\n"));
  EXPECT_TRUE(contains(text, "aisle_model_info{model=\"rec\",version=\"" + serve::file_version(models.rec) + "\""));
  EXPECT_TRUE(contains(text, "aisle_inflight_requests 1\n")) << "the metrics request itself is in flight";
}

struct BadRequest {
  std::string name;
  HttpRequest request;
  int status;
  std::string says;  // part of the error message
};

TEST_F(ServeServiceTest, BadInputGetsAJsonErrorWithItsCodeNamingTheFault) {
  std::vector<std::string> huge_history(100000, "x");
  const std::vector<BadRequest> cases = {
      {"malformed JSON", post_text("/v1/recommend", "{\"user\": "), 400, "malformed JSON"},
      {"not an object", post_text("/v1/recommend", "[1,2]"), 400, "JSON object"},
      {"empty body", post_text("/v1/recommend", ""), 400, "empty body"},
      {"wrong type", post_json("/v1/recommend", {{"user", 7}}), 400, "'user' must be a string"},
      {"unknown field", post_json("/v1/recommend", {{"user", "u"}, {"kk", 3}}), 400, "unknown field 'kk'"},
      {"k zero", post_json("/v1/recommend", {{"user", "u"}, {"k", 0}}), 400, "'k' must be an integer from 1 to 1000"},
      {"k too large", post_json("/v1/recommend", {{"user", "u"}, {"k", 1001}}), 400, "not 1001"},
      {"k as text", post_json("/v1/recommend", {{"user", "u"}, {"k", "10"}}), 400, "'k'"},
      {"k as float", post_json("/v1/recommend", {{"user", "u"}, {"k", 2.5}}), 400, "'k'"},
      {"k huge", post_text("/v1/recommend", "{\"user\":\"u\",\"k\":18446744073709551615}"), 400, "'k'"},
      {"both user and history", post_json("/v1/recommend", {{"user", "u"}, {"history", {"a"}}}), 400, "exactly one"},
      {"neither", post_json("/v1/recommend", {{"k", 3}}), 400, "exactly one"},
      {"history of numbers", post_json("/v1/recommend", {{"history", {1, 2}}}), 400, "entry 0 is number"},
      {"history too long", post_json("/v1/recommend", {{"history", huge_history}}), 400, "at most 10000"},
      {"explain not bool", post_json("/v1/recommend", {{"user", "u"}, {"explain", "yes"}}), 400, "'explain'"},
      {"exclude not list", post_json("/v1/recommend", {{"user", "u"}, {"exclude", "a"}}), 400, "'exclude'"},
      {"wrong content type", post_text("/v1/recommend", "user=u", "application/x-www-form-urlencoded"), 415, "Content-Type"},
      {"batch not list", post_json("/v1/recommend_batch", {{"queries", 3}}), 400, "'queries'"},
      {"batch bad query", post_json("/v1/recommend_batch", {{"queries", {{{"user", "u"}}, {{"usr", "u"}}}}}), 400, "queries[1]"},
      {"batch query not object", post_json("/v1/recommend_batch", {{"queries", {1}}}), 400, "queries[0]"},
      {"similar without item", post_json("/v1/similar", {{"k", 3}}), 400, "missing field 'item'"},
      {"explain without history", post_json("/v1/explain", {{"item", "a"}}), 400, "missing field 'history'"},
      {"unknown path", get("/v2/recommend"), 404, "no endpoint /v2/recommend"},
      {"wrong method", get("/v1/recommend"), 405, "use POST"},
      {"wrong method on GET endpoint", post_json("/v1/models", nlohmann::json::object()), 405, "use GET"},
      {"invalid UTF-8 id", post_text("/v1/recommend", "{\"user\": \"\xff\xfe\"}"), 400, "malformed JSON"},
  };
  for (const auto& c : cases) {
    const auto response = call(c.request);
    EXPECT_EQ(response.status, c.status) << c.name << ": " << response.body;
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    ASSERT_TRUE(body.is_object() && body.contains("error")) << c.name << ": " << response.body;
    EXPECT_TRUE(contains(body.at("error").get<std::string>(), c.says)) << c.name << ": " << response.body;
  }
  const auto wrong_method = call(get("/v1/recommend"));
  ASSERT_EQ(wrong_method.headers.size(), 1u);
  EXPECT_EQ(wrong_method.headers[0], std::make_pair(std::string("Allow"), std::string("POST")));
}

TEST_F(ServeServiceTest, ReloadSwapsTheModelAndAFailedReloadKeepsTheOldOne) {
  const auto before = serve::file_version(models.rec);
  HttpRequest reload = post_json("/admin/reload", {{"model", "rec"}, {"path", models.rec_other.string()}});
  reload.from_loopback = true;
  const auto swapped = call(reload);
  ASSERT_EQ(swapped.status, 200) << swapped.body;
  const auto after = serve::file_version(models.rec_other);
  ASSERT_NE(before, after);
  EXPECT_EQ(body_of(swapped).at("reloaded")[0].at("version"), after);
  EXPECT_EQ(body_of(call(post_json("/v1/recommend", {{"user", some_user()}}))).at("model_version"), after);

  write_text(models.dir / "corrupt.model", "AISLE but not really a model file");
  for (const auto& path : {models.dir / "corrupt.model", models.dir / "missing.model", models.classifier}) {
    HttpRequest bad = post_json("/admin/reload", {{"model", "rec"}, {"path", path.string()}});
    bad.from_loopback = true;
    const auto refused = call(bad);
    EXPECT_EQ(refused.status, 422) << refused.body;
    EXPECT_TRUE(contains(refused.body, path.filename().string())) << refused.body;
    EXPECT_TRUE(contains(refused.body, "old model keeps serving")) << refused.body;
    EXPECT_EQ(body_of(call(post_json("/v1/recommend", {{"user", some_user()}}))).at("model_version"), after);
  }
  HttpRequest again = post_text("/admin/reload", "");  // every slot from its current file
  again.from_loopback = true;
  EXPECT_EQ(call(again).status, 200);
  const auto text = call(get("/metrics")).body;
  EXPECT_TRUE(contains(text, "aisle_model_reloads_total{model=\"rec\",result=\"failed\"} 3\n")) << text;
  EXPECT_TRUE(contains(text, "aisle_model_reloads_total{model=\"rec\",result=\"success\"} 2\n")) << text;
  EXPECT_TRUE(contains(text, "aisle_model_reloads_total{model=\"classifier\",result=\"success\"} 1\n")) << text;
}

TEST_F(ServeServiceTest, AdminCallsNeedTheTokenOrALoopbackPeer) {
  HttpRequest reload = post_text("/admin/reload", "");
  reload.from_loopback = false;
  EXPECT_EQ(call(reload).status, 403);
  reload.from_loopback = true;
  EXPECT_EQ(call(reload).status, 200);

  serve::Service guarded(slots, metrics, {.admin_token = "s3cret"});
  reload.from_loopback = true;
  const auto missing = guarded.handle(reload);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.headers.at(0).first, "WWW-Authenticate");
  reload.authorization = "Bearer s3cre";
  EXPECT_EQ(guarded.handle(reload).status, 401);
  reload.authorization = "Bearer s3cret!";
  EXPECT_EQ(guarded.handle(reload).status, 401);
  reload.authorization = "Bearer s3cret";
  reload.from_loopback = false;
  EXPECT_EQ(guarded.handle(reload).status, 200);
  EXPECT_EQ(guarded.handle(post_json("/admin/reload", {{"model", "shelf"}})).status, 401);
  reload.body = nlohmann::json{{"model", "shelf"}}.dump();
  reload.content_type = "application/json";
  EXPECT_EQ(guarded.handle(reload).status, 400);
}

TEST_F(ServeServiceTest, RequestsDuringReloadsAllSucceedOnOneModelOrTheOther) {
  const auto first = serve::file_version(models.rec), second = serve::file_version(models.rec_other);
  const auto answer_of = [&](const std::filesystem::path& path) {
    return item_ids(rec::Recommender::load(path).recommend(some_user(), 5));
  };
  const auto first_items = answer_of(models.rec), second_items = answer_of(models.rec_other);
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, answered{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      while (!done) {
        const auto response = service.handle(post_json("/v1/recommend", {{"user", some_user()}, {"k", 5}}));
        const auto body = nlohmann::json::parse(response.body);
        const auto version = body.value("model_version", "");
        const auto items = response.status == 200 ? item_ids(body.at("items")) : std::vector<std::string>{};
        const bool consistent = (version == first && items == first_items) || (version == second && items == second_items);
        if (response.status != 200 || !consistent) ++failures;
        ++answered;
      }
    });
  }
  // Each reload waits for an answer since the last, so that requests and
  // reloads interleave however the threads are scheduled.
  for (int i = 0; i < 10; ++i) {
    const int before = answered;
    while (answered == before) std::this_thread::yield();
    slots.reload(serve::Slot::recommender, i % 2 ? models.rec : models.rec_other);
  }
  done = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(failures, 0);
  EXPECT_GT(answered, 0);
}

}  // namespace
}  // namespace aisle::test_support
