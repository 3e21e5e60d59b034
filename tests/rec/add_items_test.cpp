// Recommender::add_items: new products scored from their features without a refit.

#include <gtest/gtest.h>

#include "aisle/core/error.hpp"
#include "aisle/rec/hybrid.hpp"
#include "aisle/rec/model_registry.hpp"
#include "aisle/rec/protocols.hpp"
#include "aisle/rec/recommender.hpp"
#include "support/synthetic_store.hpp"
#include "support/test_files.hpp"

using aisle::Index;
using namespace aisle::rec;

namespace {

const Interactions& store() {
  static const Interactions data = aisle::test_support::synthetic_store(300, 60, 4);
  return data;
}

// A model fitted on the cold split's rows: the cold items are in the
// catalogue with their features but without interactions (no id embedding).
Recommender fitted_without_cold_rows(const std::string& kind) {
  const auto split = make_split(store(), Protocol::cold);
  nlohmann::json options = nlohmann::json::object();
  if (kind == "hybrid") options = {{"hidden", 16}, {"epochs", 2}};
  auto model = make_model(kind, options);
  model->fit(split.fitted, split.item_count, with_item_features({}, store()));
  return Recommender(store(), std::move(model));
}

Index first_cold_item() {
  const auto cold = cold_items(store());
  return static_cast<Index>(std::find(cold.begin(), cold.end(), 1) - cold.begin());
}

std::vector<std::pair<std::string, std::string>> with_features_of(const std::string& new_id, Index item) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const Index f : store().item_features()[item]) rows.emplace_back(new_id, store().features().id(f));
  return rows;
}

}  // namespace

// A new item with the features of an item that has no id embedding scores
// exactly like it, for every model that can grow.
TEST(RecAddItems, ANewItemScoresLikeAnOldOneWithItsFeatures) {
  const Index twin = first_cold_item();
  ASSERT_LT(twin, store().item_count());
  const std::string twin_id = store().items().id(twin);
  for (const std::string kind : {"hybrid", "featknn", "featpop"}) {
    auto rec = fitted_without_cold_rows(kind);
    const auto added = rec.add_items(with_features_of("zz-new", twin));
    EXPECT_EQ(added.added, 1) << kind;
    ASSERT_EQ(rec.items().size(), store().item_count() + 1) << kind;
    const Index new_index = *rec.items().find("zz-new");
    const Index twin_index = *rec.items().find(twin_id);
    for (Index u = 0; u < 20; ++u) {
      const auto history = *rec.history_of(store().users().id(u));
      std::vector<Index> indices;
      for (const auto& id : history) indices.push_back(*rec.items().find(id));
      const auto scores = rec.model().score(indices);
      EXPECT_EQ(scores[new_index], scores[twin_index]) << kind << " user " << u;
    }
  }
}

TEST(RecAddItems, RenumbersTheCatalogueAndKeepsHistoriesAndScores) {
  auto rec = fitted_without_cold_rows("hybrid");
  const std::string user = store().users().id(7);
  const auto before_history = *rec.history_of(user);
  const auto before = rec.recommend(user, 10);
  // "0-new" sorts before every synthetic id, so every old index moves by one.
  const auto added = rec.add_items(std::vector<std::pair<std::string, std::string>>{
      {"0-new", store().features().id(0)}, {"0-new", "colour:ultraviolet"}, {store().items().id(3), "anything"}});
  EXPECT_EQ(added.added, 1);
  EXPECT_EQ(added.unknown_features, std::vector<std::string>{"colour:ultraviolet"});
  EXPECT_EQ(added.known_items, std::vector<std::string>{store().items().id(3)});
  EXPECT_EQ(rec.items().id(0), "0-new");
  EXPECT_TRUE(rec.items().sorted_by_id());
  EXPECT_EQ(*rec.history_of(user), before_history);
  const auto after = rec.recommend(user, 11);
  std::vector<std::string> old_items_after;
  for (const auto& s : after.items) {
    if (s.item != "0-new") old_items_after.push_back(s.item);
  }
  old_items_after.resize(10);
  std::vector<std::string> old_items_before;
  for (const auto& s : before.items) old_items_before.push_back(s.item);
  EXPECT_EQ(old_items_after, old_items_before);
  EXPECT_EQ(rec.items_with_feature(store().features().id(0)).front(), "0-new");

  aisle::test_support::TempDir dir;
  rec.save(dir / "grown.aisle");
  const auto loaded = Recommender::load(dir / "grown.aisle");
  EXPECT_EQ(loaded.items().ids(), rec.items().ids());
  EXPECT_EQ(loaded.model().score(std::vector<Index>{1, 2, 3}), rec.model().score(std::vector<Index>{1, 2, 3}));
}

TEST(RecAddItems, ModelsWithoutFeaturesRefuseAndChangeNothing) {
  auto rec = Recommender::fit(store(), make_model("ease", {{"l2", 50}}));
  const auto message = aisle::test_support::error_message<aisle::Error>(
      [&] { rec.add_items(std::vector<std::pair<std::string, std::string>>{{"zz-new", store().features().id(0)}}); });
  EXPECT_NE(message.find("ease model: it reads no item features"), std::string::npos) << message;
  EXPECT_EQ(rec.items().size(), store().item_count());
  EXPECT_FALSE(rec.items().find("zz-new"));
  // Nothing new: nothing changes, even for a model that cannot grow.
  EXPECT_EQ(rec.add_items(std::vector<std::pair<std::string, std::string>>{{store().items().id(0), "x"}}).added, 0);
}

TEST(RecAddItems, ReadsAnItemsFileAndNamesItsBadLines) {
  auto rec = fitted_without_cold_rows("featknn");
  aisle::test_support::TempDir dir;
  const auto file = dir.write("new.csv", "item,feature\nn1," + store().features().id(1) + "\nn2,\n");
  const auto message = aisle::test_support::error_message<aisle::Error>([&] { rec.add_items(file); });
  EXPECT_NE(message.find("new.csv:3"), std::string::npos) << message;
  EXPECT_EQ(rec.items().size(), store().item_count());
  const auto good = dir.write("good.csv", "item,feature\nn1," + store().features().id(1) + "\n");
  EXPECT_EQ(rec.add_items(good).added, 1);
}
