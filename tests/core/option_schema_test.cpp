// OptionSchema: one definition reads JSON options strictly, writes them
// back, reads saved params with extra figures, and describes them.

#include <gtest/gtest.h>

#include "aisle/core/option_schema.hpp"
#include "support/test_files.hpp"

namespace aisle {
namespace {

struct Settings {
  int count = 3;
  std::uint64_t seed = 42;
  float rate = 0.5f;
  bool check = false;
  std::optional<float> limit;
  std::vector<float> grid = {1, 2};
};

// Built one add() at a time, as a schema assembled at run time would be.
OptionSchema<Settings> make_schema() {
  OptionSchema<Settings> settings("toy model");
  settings.add("count", &Settings::count, "how many");
  settings.add("seed", &Settings::seed, "the seed");
  settings.add("rate", &Settings::rate, "how fast");
  settings.add("check", &Settings::check, "whether to check");
  settings.add("limit", &Settings::limit, "an optional cap");
  settings.add("grid", &Settings::grid, "values to try");
  return settings;
}

const OptionSchema<Settings>& schema() {
  static const auto settings = make_schema();
  return settings;
}

TEST(OptionSchema, ReadsEveryKindOfValueOverTheDefaults) {
  const auto s = schema().read({{"count", 7}, {"rate", 2}, {"check", true}, {"limit", 1.5}, {"grid", {3, 4.5}}});
  EXPECT_EQ(s.count, 7);
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.rate, 2.0f);
  EXPECT_TRUE(s.check);
  EXPECT_EQ(s.limit, 1.5f);
  EXPECT_EQ(s.grid, (std::vector<float>{3.0f, 4.5f}));
  EXPECT_FALSE(schema().read(nlohmann::json::object()).limit.has_value());
}

TEST(OptionSchema, WritesWhatItReads) {
  Settings s;
  s.count = 9;
  s.limit = 4.0f;
  const auto json = schema().write(s);
  EXPECT_EQ(json, (nlohmann::json{{"count", 9}, {"seed", 42}, {"rate", 0.5}, {"check", false}, {"limit", 4.0},
                                  {"grid", {1.0, 2.0}}}));
  const auto again = schema().read(json);
  EXPECT_EQ(again.count, 9);
  EXPECT_EQ(again.limit, 4.0f);
  EXPECT_FALSE(schema().write(Settings{}).contains("limit"));  // unset optional: absent
}

TEST(OptionSchema, RefusesUnknownKeysAndValuesOfTheWrongKindNamingThem) {
  const auto message = [](const nlohmann::json& json) {
    return test_support::error_message<Error>([&] { schema().read(json); });
  };
  EXPECT_EQ(message({{"size", 1}}),
            "toy model has no option 'size' (it takes count, seed, rate, check, limit, grid)");
  EXPECT_EQ(message({{"count", 2.5}}), "toy model option 'count' expects a whole number, got 2.5");
  EXPECT_EQ(message({{"count", "many"}}), "toy model option 'count' expects a whole number, got \"many\"");
  EXPECT_EQ(message({{"seed", -1}}), "toy model option 'seed' expects a whole number not below 0, got -1");
  EXPECT_EQ(message({{"rate", "fast"}}), "toy model option 'rate' expects a number, got \"fast\"");
  EXPECT_EQ(message({{"check", "yes"}}), "toy model option 'check' expects true or false, got \"yes\"");
  EXPECT_EQ(message({{"grid", {1, "x"}}}), "toy model option 'grid' expects a list of numbers, got [1,\"x\"]");
  EXPECT_EQ(message(nlohmann::json::array()), "toy model options must be a JSON object, got []");
}

TEST(OptionSchema, SavedParamsKeepTheirFiguresOutAndOldFilesKeepDefaults) {
  Settings older;
  older.rate = 1.0f;
  const auto s = schema().read_saved({{"count", 5}, {"final_loss", 0.25}, {"epochs_trained", 3}}, older);
  EXPECT_EQ(s.count, 5);
  EXPECT_EQ(s.rate, 1.0f);
  EXPECT_THROW(schema().read_saved({{"count", "x"}}, {}), Error);
}

TEST(OptionSchema, DescribesEachOptionForCommandLines) {
  const auto infos = schema().describe();
  ASSERT_EQ(infos.size(), 6u);
  EXPECT_EQ(infos[0].name, "count");
  EXPECT_EQ(infos[0].type, OptionInfo::Type::integer);
  EXPECT_EQ(infos[1].type, OptionInfo::Type::integer);
  EXPECT_EQ(infos[2].type, OptionInfo::Type::number);
  EXPECT_EQ(infos[3].type, OptionInfo::Type::boolean);
  EXPECT_EQ(infos[4].type, OptionInfo::Type::number);
  EXPECT_EQ(infos[5].type, OptionInfo::Type::number_list);
  EXPECT_EQ(infos[5].help, "values to try");
}

}  // namespace
}  // namespace aisle
