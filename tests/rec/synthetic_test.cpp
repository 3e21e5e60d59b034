#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include "aisle/core/error.hpp"
#include "aisle/rec/synthetic.hpp"
#include "support/test_files.hpp"

using namespace aisle::rec;

namespace {

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::map<std::string, int> rows_per_user(const SyntheticStore& store) {
  std::map<std::string, int> rows;
  for (const auto& row : store.interactions) ++rows[row.user];
  return rows;
}

void expect_same_rows(const SyntheticStore& a, const SyntheticStore& b) {
  ASSERT_EQ(a.interactions.size(), b.interactions.size());
  for (std::size_t i = 0; i < a.interactions.size(); ++i) {
    EXPECT_EQ(a.interactions[i].item, b.interactions[i].item);
    EXPECT_EQ(a.interactions[i].timestamp, b.interactions[i].timestamp);
  }
}

}  // namespace

TEST(RecSynthetic, DeterministicFromSeed) {
  SyntheticOptions options;
  options.users = 50;
  const auto a = make_synthetic_store(options);
  const auto b = make_synthetic_store(options);
  expect_same_rows(a, b);
  options.seed = 8;
  const auto c = make_synthetic_store(options);
  bool differs = c.interactions.size() != a.interactions.size();
  for (std::size_t i = 0; !differs && i < a.interactions.size(); ++i) differs = a.interactions[i].item != c.interactions[i].item;
  EXPECT_TRUE(differs);
  EXPECT_EQ(a.features.size(), 500u);
}

TEST(RecSynthetic, AFixedTotalGivesExactlyThatManyRowsAndEveryShopperSome) {
  SyntheticOptions options;
  options.users = 101;  // odd: the last shopper has no partner to split with
  options.items = 300;
  options.interactions = 1234;
  const auto store = make_synthetic_store(options);
  EXPECT_EQ(store.interactions.size(), 1234u);
  const auto rows = rows_per_user(store);
  ASSERT_EQ(rows.size(), 101u);
  int fewest = 1 << 30, most = 0;
  for (const auto& [user, n] : rows) fewest = std::min(fewest, n), most = std::max(most, n);
  EXPECT_GE(fewest, 1);
  EXPECT_LE(most, 2 * (1234 / 101 + 1));
  EXPECT_GT(most - fewest, 5);  // activity varies
  for (std::size_t r = 1; r < store.interactions.size(); ++r) {
    const auto& a = store.interactions[r - 1];
    const auto& b = store.interactions[r];
    if (a.user == b.user) {
      EXPECT_LT(a.timestamp, b.timestamp);
    }
  }
  options.interactions = options.users;  // one each
  const auto minimal = rows_per_user(make_synthetic_store(options));
  EXPECT_EQ(minimal.size(), 101u);
  for (const auto& [user, n] : minimal) EXPECT_EQ(n, 1);
  options.interactions = options.users - 1;
  EXPECT_THROW(make_synthetic_store(options), aisle::Error);
}

TEST(RecSynthetic, StreamingWriteEqualsTheStoreWrittenWhole) {
  aisle::test_support::TempDir dir;
  for (const aisle::Index interactions : {aisle::Index{0}, aisle::Index{777}}) {
    SyntheticOptions options;
    options.users = 40;
    options.items = 60;
    options.interactions = interactions;
    const auto store = make_synthetic_store(options);
    write_synthetic_store(dir / "whole", store, options);
    EXPECT_EQ(write_synthetic_store(dir / "streamed", options), store.interactions.size());
    for (const char* file : {"interactions.csv", "items.csv", "README.md"})
      EXPECT_EQ(file_text(dir / "streamed" / file), file_text(dir / "whole" / file)) << file;
    EXPECT_TRUE(file_text(dir / "whole" / "interactions.csv").starts_with("user,item,timestamp\nshopper-000000,item-"));
  }
}

TEST(RecSynthetic, ImagesStandInForCategoriesWithoutChangingTheRows) {
  SyntheticOptions plain;
  plain.users = 60;
  plain.items = 40;
  plain.categories = 4;
  SyntheticOptions pictured = plain;
  for (int n = 0; n < 30; ++n) pictured.image_labels.push_back(static_cast<std::uint8_t>((n * 7) % 5));
  const auto a = make_synthetic_store(plain);
  const auto b = make_synthetic_store(pictured);
  expect_same_rows(a, b);
  ASSERT_EQ(a.features.size(), b.features.size());
  std::set<std::string> images;
  for (std::size_t i = 0; i < a.features.size(); ++i) {
    EXPECT_EQ(a.features[i].first, b.features[i].first);
    // "category:cNN" -> NN; "image:<n>" -> n, an image labelled NN.
    const int category = std::stoi(a.features[i].second.substr(std::string("category:c").size()));
    ASSERT_EQ(b.features[i].second.rfind("image:", 0), 0u) << b.features[i].second;
    const int image = std::stoi(b.features[i].second.substr(std::string("image:").size()));
    ASSERT_GE(image, 0);
    ASSERT_LT(image, 30);
    EXPECT_EQ(pictured.image_labels[static_cast<std::size_t>(image)], category) << b.features[i].second;
    images.insert(b.features[i].second);
  }
  EXPECT_GT(images.size(), 4u);  // not one photo per category

  pictured.categories = 6;  // the labels have no 5
  try {
    make_synthetic_store(pictured);
    FAIL() << "a category without an image was accepted";
  } catch (const aisle::Error& e) {
    EXPECT_NE(std::string(e.what()).find("category 5 of 6 has no image"), std::string::npos) << e.what();
  }
}
