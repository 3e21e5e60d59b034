#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "commands.hpp"

namespace recommend_cli {
namespace {

// Command-line option -> (model option key, integer or not).
struct ModelFlag {
  const char* flag;
  const char* key;
  bool integer;
};
// Command-line switch -> model option set to true.
constexpr std::pair<const char*, const char*> kModelSwitches[] = {{"validate", "validate"}};
constexpr ModelFlag kModelFlags[] = {
    {"l2", "l2", false},           {"neighbours", "neighbours", true}, {"epochs", "epochs", true},
    {"hidden", "hidden", true},    {"learning-rate", "learning_rate", false},
    {"dropout", "dropout", false}, {"batch-size", "batch_size", true},  {"seed", "seed", true},
    {"target-decay", "target_decay", false}, {"input-decay", "input_decay", false},
    {"cuts-per-row", "cuts_per_row", true},
};

}  // namespace

std::set<std::string> model_switches() {
  std::set<std::string> names;
  for (const auto& [flag, key] : kModelSwitches) names.insert(flag);
  return names;
}

std::set<std::string> data_options() { return {"data", "sep", "min-rating"}; }

std::set<std::string> model_options() {
  std::set<std::string> names{"model"};
  for (const auto& f : kModelFlags) names.insert(f.flag);
  return names;
}

aisle::rec::Interactions read_data(const Arguments& args) {
  aisle::rec::InteractionsFormat format;
  const auto sep = args.value_or("sep", ",");
  if (sep.size() != 1) throw UsageError{"--sep expects one character, got '" + sep + "'"};
  format.separator = sep == "\\t" ? '\t' : sep[0];
  if (args.has("min-rating")) format.min_rating = static_cast<float>(args.number("min-rating", 0));
  return aisle::rec::read_dataset(args.required("data"), format);
}

std::unique_ptr<aisle::rec::Model> make_model_from(const Arguments& args) {
  nlohmann::json options = nlohmann::json::object();
  for (const auto& f : kModelFlags) {
    if (!args.has(f.flag)) continue;
    if (f.integer) {
      options[f.key] = args.integer(f.flag, 0, 0);
    } else {
      options[f.key] = args.number(f.flag, 0);
    }
  }
  for (const auto& [flag, key] : kModelSwitches) {
    if (args.flag(flag)) options[key] = true;
  }
  return aisle::rec::make_model(args.required("model"), options);
}

std::function<void(const std::string&)> progress_printer(const Arguments& args) {
  if (!args.flag("progress") && !isatty(STDERR_FILENO)) return {};
  const auto start = std::chrono::steady_clock::now();
  return [start](const std::string& line) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "[%7.1fs] ", seconds);
    std::cerr << stamp << line << std::endl;
  };
}

}  // namespace recommend_cli
