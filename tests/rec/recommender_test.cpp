#include <gtest/gtest.h>

#include <thread>

#include "aisle/core/error.hpp"
#include "aisle/rec/recommender.hpp"
#include "aisle/rec/synthetic.hpp"
#include "support/interactions_csv.hpp"
#include "support/synthetic_store.hpp"
#include "support/test_files.hpp"

using aisle::Index;
using namespace aisle::rec;

namespace {

// A small synthetic store, read back through the CSV reader.
const Interactions& store() {
  static const Interactions data = aisle::test_support::synthetic_store(300, 60, 4);
  return data;
}

Recommender fitted(const std::string& kind) {
  const nlohmann::json options = kind == "ease" ? nlohmann::json{{"l2", 50}} : nlohmann::json::object();
  return Recommender::fit(store(), make_model(kind, options));
}

std::vector<std::string> item_ids(const Recommendations& r) {
  std::vector<std::string> out;
  for (const auto& s : r.items) out.push_back(s.item);
  return out;
}

bool same(const Recommendations& a, const Recommendations& b) {
  if (a.items.size() != b.items.size() || a.unknown_items != b.unknown_items ||
      a.popularity_fallback != b.popularity_fallback)
    return false;
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    if (a.items[i].item != b.items[i].item || a.items[i].score != b.items[i].score) return false;
  }
  return true;
}

// Three catalogue items (by position, so they exist whatever the synthetic draw).
const std::vector<std::string> kHistory = [] {
  const auto& items = store().items();
  return std::vector<std::string>{items.id(3), items.id(10), items.id(17)};
}();

}  // namespace

TEST(RecRecommender, ExcludesHistoryByDefaultAndSortsScores) {
  const auto rec = fitted("ease");
  const auto r = rec.recommend(kHistory, 10);
  ASSERT_EQ(r.items.size(), 10u);
  EXPECT_FALSE(r.popularity_fallback);
  for (const auto& s : r.items) EXPECT_EQ(std::count(kHistory.begin(), kHistory.end(), s.item), 0) << s.item;
  for (std::size_t i = 1; i < r.items.size(); ++i) EXPECT_GE(r.items[i - 1].score, r.items[i].score);
  Filter keep_history;
  keep_history.exclude_history = false;
  const auto with = rec.recommend(kHistory, static_cast<Index>(rec.items().size()), keep_history);
  EXPECT_EQ(with.items.size(), static_cast<std::size_t>(rec.items().size()));
}

TEST(RecRecommender, DenyAllowAndPredicateFilters) {
  const auto rec = fitted("itemknn");
  const auto plain = rec.recommend(kHistory, 5);
  Filter deny;
  deny.deny = {plain.items[0].item, "no-such-item"};
  const auto plain_ids = item_ids(plain);
  const auto denied_ids = item_ids(rec.recommend(kHistory, 5, deny));
  EXPECT_EQ(std::vector<std::string>(plain_ids.begin() + 1, plain_ids.end()),
            std::vector<std::string>(denied_ids.begin(), denied_ids.begin() + 4));

  Filter allow;  // an in-stock list: three items, one of them in the history
  allow.allow = std::vector<std::string>{rec.items().id(42), kHistory[0], rec.items().id(50)};
  EXPECT_EQ(rec.recommend(kHistory, 10, allow).items.size(), 2u);

  const auto category = rec.items_with_feature("category:c01");
  ASSERT_FALSE(category.empty());
  Filter one_category;
  one_category.allow = category;
  for (const auto& s : rec.recommend(kHistory, 10, one_category).items)
    EXPECT_NE(std::find(category.begin(), category.end(), s.item), category.end());

  Filter predicate;
  predicate.predicate = [](std::string_view id) { return id.back() == '7'; };
  const auto odd = rec.recommend(kHistory, 3, predicate);
  ASSERT_EQ(odd.items.size(), 3u);
  for (const auto& s : odd.items) EXPECT_EQ(s.item.back(), '7');
}

TEST(RecRecommender, UnknownIdsAreSkippedAndReported) {
  const auto rec = fitted("ease");
  const auto known = rec.recommend(kHistory, 5);
  auto with_unknown = kHistory;
  with_unknown.insert(with_unknown.begin() + 1, "ghost");
  with_unknown.push_back(kHistory[0]);  // a repeat counts once
  const auto r = rec.recommend(with_unknown, 5);
  EXPECT_EQ(r.unknown_items, (std::vector<std::string>{"ghost"}));
  EXPECT_EQ(item_ids(r), item_ids(known));

  const auto stranger = rec.recommend(std::string_view("nobody"), 5);
  EXPECT_TRUE(stranger.popularity_fallback);
  const auto all_unknown = rec.recommend(std::vector<std::string>{"ghost"}, 5);
  EXPECT_TRUE(all_unknown.popularity_fallback);
  EXPECT_EQ(item_ids(stranger), item_ids(all_unknown));
  auto pop = fitted("pop");
  EXPECT_EQ(item_ids(stranger), item_ids(pop.recommend(std::vector<std::string>{}, 5)));

  const auto user = rec.users().id(0);
  const auto for_user = rec.recommend(std::string_view(user), 5);
  EXPECT_FALSE(for_user.popularity_fallback);
  EXPECT_TRUE(rec.similar_items("ghost", 5).items.empty());
  EXPECT_EQ(rec.similar_items("ghost", 5).unknown_items, (std::vector<std::string>{"ghost"}));
}

TEST(RecRecommender, SimilarItemsExcludeTheItem) {
  const auto rec = fitted("itemknn");
  const auto r = rec.similar_items(kHistory[0], 5);
  ASSERT_FALSE(r.items.empty());
  for (const auto& s : r.items) EXPECT_NE(s.item, kHistory[0]);
  EXPECT_EQ(item_ids(r), item_ids(rec.recommend(std::vector<std::string>{kHistory[0]}, 5)));
}

TEST(RecRecommender, ExplainGivesSharesOfTheScore) {
  const auto rec = fitted("ease");
  const auto top = rec.recommend(kHistory, 1).items.front();
  auto with_unknown = kHistory;
  with_unknown.push_back("ghost");
  const auto e = rec.explain(with_unknown, top.item);
  EXPECT_EQ(e.unknown_items, (std::vector<std::string>{"ghost"}));
  EXPECT_FLOAT_EQ(e.score, top.score);
  ASSERT_EQ(e.contributions.size(), 3u);
  float total = 0, shares = 0;
  for (const auto& c : e.contributions) {
    total += c.value;
    shares += std::abs(c.share);
  }
  EXPECT_NEAR(total, e.score, 1e-5);
  EXPECT_NEAR(shares, 1.0f, 1e-5);
  EXPECT_GE(e.contributions[0].value, e.contributions[1].value);
  EXPECT_EQ(rec.explain(kHistory, "ghost").unknown_items, (std::vector<std::string>{"ghost"}));
}

TEST(RecRecommender, BatchEqualsSingle) {
  for (const auto& kind : {"pop", "itemknn", "ease", "featpop", "featknn"}) {
    const auto rec = fitted(kind);
    std::vector<Query> queries{Query::for_history(kHistory), Query::for_user(rec.users().id(3)),
                               Query::for_user("nobody"), Query::for_history({"ghost", kHistory[1]})};
    for (Index u = 10; u < 30; ++u) queries.push_back(Query::for_user(rec.users().id(u)));
    const auto batch = rec.recommend_batch(queries, 7);
    ASSERT_EQ(batch.size(), queries.size());
    for (std::size_t q = 0; q < queries.size(); ++q) {
      const auto single = queries[q].user ? rec.recommend(std::string_view(*queries[q].user), 7)
                                          : rec.recommend(queries[q].history, 7);
      EXPECT_TRUE(same(batch[q], single)) << kind << " query " << q;
    }
  }
}

TEST(RecRecommender, ConcurrentQueriesMatchSerial) {
  const auto rec = fitted("ease");
  std::vector<std::vector<std::string>> histories;
  for (Index u = 0; u < 64; ++u) {
    std::vector<std::string> h;
    for (const Index i : store().history(u)) h.push_back(store().items().id(i));
    histories.push_back(h);
  }
  std::vector<Recommendations> serial;
  for (const auto& h : histories) serial.push_back(rec.recommend(h, 10));
  std::vector<std::vector<Recommendations>> parallel(8);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 3; ++repeat) {
        parallel[t].clear();
        for (const auto& h : histories) parallel[t].push_back(rec.recommend(h, 10));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& results : parallel) {
    ASSERT_EQ(results.size(), serial.size());
    for (std::size_t q = 0; q < serial.size(); ++q) EXPECT_TRUE(same(results[q], serial[q])) << q;
  }
}

TEST(RecRecommender, SaveLoadRoundTripIsBitForBit) {
  aisle::test_support::TempDir dir;
  for (const auto& kind : {"pop", "itemknn", "ease", "featpop", "featknn"}) {
    const auto rec = fitted(kind);
    const auto path = dir / (std::string(kind) + ".aisle");
    rec.save(path);
    const auto loaded = Recommender::load(path);
    EXPECT_EQ(loaded.model().kind(), kind);
    EXPECT_EQ(loaded.model().params(), rec.model().params());
    EXPECT_EQ(loaded.items().ids(), rec.items().ids());
    EXPECT_EQ(loaded.users().ids(), rec.users().ids());
    EXPECT_EQ(loaded.model().score(std::vector<Index>{1, 5, 9}), rec.model().score(std::vector<Index>{1, 5, 9}));
    for (Index u = 0; u < 20; ++u) {
      const auto& user = rec.users().id(u);
      EXPECT_TRUE(same(loaded.recommend(std::string_view(user), 10), rec.recommend(std::string_view(user), 10)));
    }
    EXPECT_EQ(loaded.items_with_feature("category:c02"), rec.items_with_feature("category:c02"));
    EXPECT_THROW(aisle::io::read_model_file(path, "sequential"), aisle::Error);
  }
  const auto garbage = dir.write("garbage.aisle", "not a model");
  EXPECT_THROW(Recommender::load(garbage), aisle::Error);
}
