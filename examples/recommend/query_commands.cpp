// recommend, similar and explain: the commands that query a saved model.

#include <fstream>
#include <iostream>

#include "aisle/core/error.hpp"
#include "aisle/rec/recommender.hpp"
#include "commands.hpp"

namespace recommend_cli {
namespace {

// One item id a line; blank lines and lines starting with '#' are skipped.
std::vector<std::string> read_id_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw aisle::Error(path + ": cannot open the file");
  std::vector<std::string> ids;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    ids.push_back(line);
  }
  return ids;
}

void print_notes(const aisle::rec::Recommendations& r) {
  if (!r.unknown_items.empty()) {
    std::cerr << "note: unknown items skipped:";
    for (const auto& id : r.unknown_items) std::cerr << " " << id;
    std::cerr << "\n";
  }
  if (r.popularity_fallback) std::cerr << "note: nothing known about this query; showing popular items\n";
}

int print(const aisle::rec::Recommendations& r, bool json) {
  if (json) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& s : r.items) items.push_back({{"item", s.item}, {"score", s.score}});
    std::cout << nlohmann::json{{"items", items},
                                {"unknown_items", r.unknown_items},
                                {"popularity_fallback", r.popularity_fallback}}
                     .dump()
              << "\n";
    return 0;
  }
  print_notes(r);
  for (const auto& s : r.items) std::cout << s.item << "\t" << s.score << "\n";
  return 0;
}

aisle::rec::Filter filter_from(const Arguments& args, const aisle::rec::Recommender& recommender) {
  aisle::rec::Filter filter;
  filter.deny = split_list(args.value_or("exclude", ""));
  if (args.has("allow")) filter.allow = read_id_list(args.required("allow"));
  if (args.has("feature")) recommender.restrict_to_feature(filter, args.required("feature"));
  return filter;
}

}  // namespace

int run_recommend(int argc, char** argv) {
  const Arguments args(argc, argv, 2, {"model", "user", "history", "k", "exclude", "allow", "feature"}, {"json"});
  if (args.has("user") == args.has("history")) throw UsageError{"give exactly one of --user and --history"};
  const auto k = args.integer("k", 10, 1);
  const auto recommender = aisle::rec::Recommender::load(args.required("model"));
  const auto filter = filter_from(args, recommender);
  if (args.has("user")) return print(recommender.recommend(args.required("user"), k, filter), args.flag("json"));
  const auto history = split_list(args.required("history"));
  return print(recommender.recommend(history, k, filter), args.flag("json"));
}

int run_similar(int argc, char** argv) {
  const Arguments args(argc, argv, 2, {"model", "item", "k", "exclude", "allow", "feature"}, {"json"});
  const auto k = args.integer("k", 10, 1);
  const auto item = args.required("item");
  const auto recommender = aisle::rec::Recommender::load(args.required("model"));
  const auto result = recommender.similar_items(item, k, filter_from(args, recommender));
  if (!result.unknown_items.empty()) throw aisle::Error("unknown item '" + item + "'");
  return print(result, args.flag("json"));
}

int run_explain(int argc, char** argv) {
  const Arguments args(argc, argv, 2, {"model", "history", "item"}, {"json"});
  const auto item = args.required("item");
  const auto history = split_list(args.required("history"));
  const auto recommender = aisle::rec::Recommender::load(args.required("model"));
  const auto e = recommender.explain(history, item);
  if (std::find(e.unknown_items.begin(), e.unknown_items.end(), item) != e.unknown_items.end())
    throw aisle::Error("unknown item '" + item + "'");
  if (args.flag("json")) {
    nlohmann::json parts = nlohmann::json::array();
    for (const auto& c : e.contributions) parts.push_back({{"item", c.item}, {"value", c.value}, {"share", c.share}});
    std::cout << nlohmann::json{{"item", e.item}, {"score", e.score}, {"contributions", parts},
                                {"unknown_items", e.unknown_items}}
                     .dump()
              << "\n";
    return 0;
  }
  if (!e.unknown_items.empty()) {
    std::cerr << "note: unknown items skipped:";
    for (const auto& id : e.unknown_items) std::cerr << " " << id;
    std::cerr << "\n";
  }
  std::cout << e.item << " scores " << e.score << "; contributions of the history:\n";
  for (const auto& c : e.contributions)
    std::cout << "  " << c.item << "\t" << c.value << "\t" << static_cast<int>(std::lround(100 * c.share)) << "%\n";
  return 0;
}

}  // namespace recommend_cli
