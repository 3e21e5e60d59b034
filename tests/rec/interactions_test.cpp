#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/rec/interactions.hpp"
#include "support/interactions_csv.hpp"
#include "support/test_files.hpp"

using aisle::Index;
using namespace aisle::rec;

namespace {

std::vector<std::string> history_ids(const Interactions& data, const std::string& user) {
  std::vector<std::string> out;
  for (const Index i : data.history(*data.users().find(user))) out.push_back(data.items().id(i));
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const aisle::Error& e) {
    return e.what();
  }
  return "no error";
}

// A shop's own export: tabs, its own column names, ratings of 4 and up kept.
InteractionsFormat tab_separated_export() {
  InteractionsFormat format;
  format.separator = '\t';
  format.user_column = "shopper";
  format.item_column = "sku";
  format.timestamp_column = "when";
  format.rating_column = "stars";
  format.min_rating = 4.0f;
  return format;
}

}  // namespace

TEST(RecInteractions, OrdersByTimestampThenFileOrderAndKeepsFirstOccurrence) {
  aisle::test_support::TempDir dir;
  const auto path = dir.write("interactions.csv",
                              "user,item,timestamp\n"
                              "u1,b,20\n"
                              "u1,a,10\n"
                              "u2,x,5\n"
                              "u1,c,20\n"   // same time as b: after b (file order)
                              "u1,a,30\n"   // repeat of (u1, a): dropped
                              "u1,d,15\n");
  const auto data = read_interactions(path);
  EXPECT_EQ(data.user_count(), 2);
  EXPECT_EQ(data.item_count(), 5);
  EXPECT_EQ(history_ids(data, "u1"), (std::vector<std::string>{"a", "d", "b", "c"}));
  EXPECT_EQ(history_ids(data, "u2"), (std::vector<std::string>{"x"}));
  const auto times = data.timestamps(*data.users().find("u1"));
  EXPECT_EQ(std::vector<std::int64_t>(times.begin(), times.end()), (std::vector<std::int64_t>{10, 15, 20, 20}));
  EXPECT_EQ(data.interaction_count(), 5);
}

TEST(RecInteractions, IndicesFollowIdByteOrder) {
  aisle::test_support::TempDir dir;
  const auto path = dir.write("interactions.csv", "user,item,timestamp\nu,b,1\nu,B,2\nu,10,3\nu,9,4\nu,\xc3\xa9,5\n");
  const auto data = read_interactions(path);
  // Strings, not numbers: "10" < "9"; bytes, not locale: "B" < "b" < "\xc3\xa9".
  EXPECT_EQ(data.items().ids(), (std::vector<std::string>{"10", "9", "B", "b", "\xc3\xa9"}));
  EXPECT_TRUE(data.items().sorted_by_id());
}

TEST(RecInteractions, ConfigurableSeparatorColumnsAndMinRating) {
  aisle::test_support::TempDir dir;
  const auto path = dir.write("export.tsv",
                              "when\tstars\tshopper\tsku\r\n"
                              "3\t5\talice\tp1\r\n"
                              "1\t2\talice\tp2\r\n"
                              "\r\n"
                              "2\t4.5\tbob\t\"p,3\"\r\n");
  const auto format = tab_separated_export();
  const auto data = read_interactions(path, format);
  EXPECT_EQ(data.users().ids(), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(data.items().ids(), (std::vector<std::string>{"p,3", "p1"}));  // p2 rated 2: dropped
}

TEST(RecInteractions, QuotedFieldsUnescape) {
  aisle::test_support::TempDir dir;
  const auto path = dir.write("i.csv", "user,item,timestamp\n\"say \"\"hi\"\"\",\"a\",1\n");
  const auto data = read_interactions(path);
  EXPECT_EQ(data.users().id(0), "say \"hi\"");
}

TEST(RecInteractions, ErrorsNameFileAndLine) {
  aisle::test_support::TempDir dir;
  const auto missing = dir.write("missing.csv", "user,item\nu,a\n");
  EXPECT_NE(error_of([&] { read_interactions(missing); }).find("missing.csv:1: no column 'timestamp'"),
            std::string::npos);
  const auto bad_time = dir.write("bad_time.csv", "user,item,timestamp\nu,a,1\nu,b,later\n");
  EXPECT_NE(error_of([&] { read_interactions(bad_time); }).find("bad_time.csv:3: timestamp 'later' is not an integer"),
            std::string::npos);
  const auto bad_rating = dir.write("bad_rating.csv", "user,item,timestamp,rating\nu,a,1,x\n");
  InteractionsFormat with_rating;
  with_rating.min_rating = 3.0f;
  EXPECT_NE(error_of([&] { read_interactions(bad_rating, with_rating); }).find("bad_rating.csv:2: rating 'x'"),
            std::string::npos);
  const auto fields = dir.write("fields.csv", "user,item,timestamp\nu,a,1\nu,b\n");
  EXPECT_NE(error_of([&] { read_interactions(fields); }).find("fields.csv:3: expected 3 fields, found 2"),
            std::string::npos);
  const auto empty = dir.write("empty.csv", "");
  EXPECT_NE(error_of([&] { read_interactions(empty); }).find("empty.csv: the file is empty"), std::string::npos);
  const auto header_only = dir.write("header.csv", "user,item,timestamp\n");
  EXPECT_NE(error_of([&] { read_interactions(header_only); }).find("header.csv:1: no interaction rows"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_interactions(dir / "absent.csv"); }).find("absent.csv: cannot open"),
            std::string::npos);
  const auto empty_item = dir.write("empty_item.csv", "user,item,timestamp\nu,,1\n");
  EXPECT_NE(error_of([&] { read_interactions(empty_item); }).find("empty_item.csv:2: empty item"), std::string::npos);
}

TEST(RecInteractions, ReadsDatasetFolderWithItemFeatures) {
  aisle::test_support::TempDir dir;
  dir.write("interactions.csv", "user,item,timestamp\nu,a,1\nu,b,2\nv,c,3\n");
  dir.write("items.csv", "item,feature\na,genre:x\nb,genre:y\na,genre:y\nzzz,genre:x\n");
  const auto data = read_dataset(dir.path());
  ASSERT_TRUE(data.has_features());
  EXPECT_EQ(data.features().ids(), (std::vector<std::string>{"genre:x", "genre:y"}));
  EXPECT_EQ(data.item_features()[*data.items().find("a")].size(), 2u);
  EXPECT_EQ(data.item_features()[*data.items().find("c")].size(), 0u);
  const auto m = data.matrix();
  EXPECT_EQ(m.rows(), 2);
  EXPECT_EQ(m.cols(), 3);
  EXPECT_EQ(m.nonZeros(), 3);
}

TEST(RecInteractions, RenamedItemFeaturesMergeAndStaySorted) {
  aisle::test_support::TempDir dir;
  dir.write("interactions.csv", "user,item,timestamp\nu,a,1\nu,b,2\nv,c,3\n");
  dir.write("items.csv", "item,feature\na,image:7\na,image:3\nb,image:3\nb,brand:q\n");
  auto data = read_dataset(dir.path());
  // image:7 and image:3 are both a "Bag"; brand:q keeps its name.
  std::vector<std::string> names;
  for (const auto& name : data.features().ids()) names.push_back(name.starts_with("image:") ? "class:Bag" : name);
  rename_item_features(data, names);
  EXPECT_EQ(data.features().ids(), (std::vector<std::string>{"brand:q", "class:Bag"}));
  const auto features_of = [&](const char* item) {
    const auto row = data.item_features()[*data.items().find(item)];
    return std::vector<Index>(row.begin(), row.end());
  };
  EXPECT_EQ(features_of("a"), (std::vector<Index>{1}));  // two images, one class: once
  EXPECT_EQ(features_of("b"), (std::vector<Index>{0, 1}));
  EXPECT_EQ(features_of("c"), (std::vector<Index>{}));
  EXPECT_THROW(rename_item_features(data, std::vector<std::string>(2)), aisle::Error);
}

TEST(RecInteractions, ItemFeaturePairsInFileOrderAndEmptyFieldsNamed) {
  aisle::test_support::TempDir dir;
  const auto good = dir.write("good.csv", "item,feature\nn1,image:4\nn0,genre:x\nn1,genre:x\n");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(read_item_feature_pairs(good),
            (Pairs{{"n1", "image:4"}, {"n0", "genre:x"}, {"n1", "genre:x"}}));
  const auto bad = dir.write("bad.csv", "item,feature\nn1,image:4\nn2,\n");
  try {
    read_item_feature_pairs(bad);
    FAIL() << "an empty feature was accepted";
  } catch (const aisle::Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:3"), std::string::npos) << e.what();
  }
}

namespace {

// A file that exercises every path of the reader many times over: a BOM,
// CRLF and LF line ends, blank lines, quoted ids with separators and
// escaped quotes, repeated (user, item) pairs, rows of a user out of time
// order and spread over the file.
std::string awkward_csv(int rows) {
  std::string csv = "\xEF\xBB\xBFuser,item,timestamp\r\n";
  for (int r = 0; r < rows; ++r) {
    // Appended rather than concatenated: GCC 12 reads "u" + std::string as a
    // memcpy of unbounded size here and, with warnings as errors, stops.
    std::string user("u");
    user.append(std::to_string((r * 7919) % 97));
    if (r % 11 == 0) user.assign("\"q,\"\"").append(std::to_string(r % 5)).append("\"");
    csv.append(user).append(",i").append(std::to_string((r * 31) % 53)).append(",");
    csv.append(std::to_string(1000 - (r * 13) % 200)).append(r % 3 == 0 ? "\r\n" : "\n");
    if (r % 17 == 0) csv.append("\n");
  }
  return csv;
}

void expect_same(const Interactions& a, const Interactions& b) {
  EXPECT_EQ(a.users().ids(), b.users().ids());
  EXPECT_EQ(a.items().ids(), b.items().ids());
  EXPECT_EQ(a.histories().offsets(), b.histories().offsets());
  EXPECT_EQ(a.histories().items(), b.histories().items());
  for (Index u = 0; u < a.user_count() && u < b.user_count(); ++u) {
    const auto ta = a.timestamps(u), tb = b.timestamps(u);
    EXPECT_TRUE(std::equal(ta.begin(), ta.end(), tb.begin(), tb.end())) << "user " << a.users().id(u);
  }
}

}  // namespace

TEST(RecInteractions, ParsingInSeveralPartsEqualsOne) {
  aisle::test_support::TempDir dir;
  const auto path = dir.write("interactions.csv", awkward_csv(3000));
  const auto whole = read_interactions(path, {}, 1);
  ASSERT_EQ(whole.user_count(), 97 + 5);
  EXPECT_EQ(whole.users().id(0), "q,\"0");
  for (const int parts : {2, 3, 8, 5000}) {
    SCOPED_TRACE(parts);
    expect_same(read_interactions(path, {}, parts), whole);
  }
}

TEST(RecInteractions, EveryExistingFormatReadsTheSameInParts) {
  aisle::test_support::TempDir dir;
  const auto path = dir.write("export.tsv",
                              "when\tstars\tshopper\tsku\r\n3\t5\talice\tp1\r\n1\t2\talice\tp2\r\n\r\n"
                              "2\t4.5\tbob\t\"p,3\"\r\n4\t4\tbob\tp1\n5\t5\tcarol\tp2\n");
  const auto format = tab_separated_export();
  const auto whole = read_interactions(path, format, 1);
  EXPECT_EQ(whole.interaction_count(), 4);
  for (const int parts : {2, 4, 7}) expect_same(read_interactions(path, format, parts), whole);
}

TEST(RecInteractions, InPartsTheFirstErrorInTheFileIsReportedWithItsLine) {
  aisle::test_support::TempDir dir;
  std::string csv = "user,item,timestamp\n";
  for (int r = 0; r < 400; ++r) csv.append("u").append(std::to_string(r)).append(",i,").append(std::to_string(r)).append("\n");
  std::string late_error = csv;
  late_error.append("u,i,late\n");  // line 402, in the last part
  std::string two_errors = "user,item,timestamp\nu,i,1\nu,i,early\n";
  two_errors.append(late_error.substr(std::string("user,item,timestamp\n").size()));
  const auto late = dir.write("late.csv", late_error);
  const auto both = dir.write("both.csv", two_errors);
  for (const int parts : {1, 2, 5}) {
    SCOPED_TRACE(parts);
    EXPECT_NE(error_of([&] { read_interactions(late, {}, parts); }).find("late.csv:402: timestamp 'late'"),
              std::string::npos);
    EXPECT_NE(error_of([&] { read_interactions(both, {}, parts); }).find("both.csv:3: timestamp 'early'"),
              std::string::npos);
  }
  InteractionsFormat all_dropped;
  all_dropped.rating_column = "timestamp";
  all_dropped.min_rating = 1e9f;
  const auto no_rows = dir.write("no_rows.csv", csv);
  EXPECT_NE(error_of([&] { read_interactions(no_rows, all_dropped, 3); }).find("no_rows.csv:401: no interaction rows"),
            std::string::npos);
}
