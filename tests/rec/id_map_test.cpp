#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/rec/id_map.hpp"

using aisle::Index;
using aisle::rec::IdMap;

TEST(RecIdMap, InsertNumbersNewIdsAndFindsOldOnes) {
  IdMap ids;
  EXPECT_FALSE(ids.find("a"));
  EXPECT_EQ(ids.insert("b"), 0);
  EXPECT_EQ(ids.insert("a"), 1);
  EXPECT_EQ(ids.insert("b"), 0);
  EXPECT_EQ(ids.insert(""), 2);  // the empty string is an id like any other
  EXPECT_EQ(ids.size(), 3);
  EXPECT_EQ(*ids.find("a"), 1);
  EXPECT_EQ(*ids.find(""), 2);
  EXPECT_FALSE(ids.find("c"));
  EXPECT_EQ(ids.id(0), "b");
}

TEST(RecIdMap, ManyIdsAreAllFoundThroughEveryGrowth) {
  IdMap grown;
  std::vector<std::string> all;
  for (int i = 0; i < 100000; ++i) {
    all.push_back("id-" + std::to_string(i * 7));
    ASSERT_EQ(grown.insert(all.back()), i);
  }
  const IdMap built(all);
  for (int i = 0; i < 100000; ++i) {
    ASSERT_EQ(*grown.find(all[static_cast<std::size_t>(i)]), i);
    ASSERT_EQ(*built.find(all[static_cast<std::size_t>(i)]), i);
  }
  for (int i = 0; i < 1000; ++i) {
    const auto absent = "id-" + std::to_string(i * 7 + 1);
    EXPECT_FALSE(grown.find(absent));
    EXPECT_FALSE(built.find(absent));
  }
}

TEST(RecIdMap, RefusesADuplicateNamingIt) {
  try {
    IdMap({"x", "y", "x"});
    FAIL() << "no error";
  } catch (const aisle::Error& e) {
    EXPECT_NE(std::string(e.what()).find("duplicate id 'x'"), std::string::npos);
  }
}

TEST(RecIdMap, SortByIdRenumbersInByteOrderAndStillFinds) {
  IdMap ids(std::vector<std::string>{"b", "\xc3\xa9", "B", "10", "9"});
  EXPECT_FALSE(ids.sorted_by_id());
  const auto new_index = ids.sort_by_id();
  EXPECT_EQ(ids.ids(), (std::vector<std::string>{"10", "9", "B", "b", "\xc3\xa9"}));
  EXPECT_EQ(new_index, (std::vector<Index>{3, 4, 2, 0, 1}));
  EXPECT_TRUE(ids.sorted_by_id());
  for (Index i = 0; i < ids.size(); ++i) EXPECT_EQ(*ids.find(ids.id(i)), i);
}
