#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <limits>

#include "commands.hpp"

namespace recommend_cli {
namespace {

using aisle::OptionInfo;

// A model option's command-line flag: its name with '-' for '_'.
std::string flag_of(const std::string& name) {
  std::string flag = name;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

// Every registered model's options, once each by name (models that share a
// name, like the neural models' seed, share its flag).
std::vector<OptionInfo> all_model_options() {
  std::vector<OptionInfo> all;
  const auto& registry = aisle::rec::model_registry();
  for (const auto& kind : registry.names()) {
    for (const auto& option : registry.options_of(kind)) {
      const auto same = std::find_if(all.begin(), all.end(), [&](const OptionInfo& o) { return o.name == option.name; });
      if (same == all.end()) all.push_back(option);
    }
  }
  return all;
}

// "1,10,100" -> [1, 10, 100].
nlohmann::json number_list(const Arguments& args, const std::string& flag) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& part : split_list(args.required(flag))) {
    try {
      std::size_t used = 0;
      const double value = std::stod(part, &used);
      if (used != part.size()) throw std::invalid_argument(part);
      list.push_back(value);
    } catch (const std::exception&) {
      throw UsageError{"--" + flag + " expects numbers separated by commas, got '" + args.required(flag) + "'"};
    }
  }
  return list;
}

// "ease,neural" -> ["ease", "neural"].
nlohmann::json word_list(const Arguments& args, const std::string& flag) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& part : split_list(args.required(flag))) list.push_back(part);
  return list;
}

}  // namespace

std::set<std::string> model_switches() {
  std::set<std::string> names;
  // --NAME turns a boolean option on, --no-NAME off (for those on by default).
  for (const auto& option : all_model_options())
    if (option.type == OptionInfo::Type::boolean) {
      names.insert(flag_of(option.name));
      names.insert("no-" + flag_of(option.name));
    }
  return names;
}

std::set<std::string> data_options() { return {"data", "sep", "min-rating", "image-classifier", "item-images"}; }

std::set<std::string> model_options() {
  std::set<std::string> names{"model"};
  for (const auto& option : all_model_options())
    if (option.type != OptionInfo::Type::boolean) names.insert(flag_of(option.name));
  return names;
}

std::string model_options_help() {
  std::string help;
  const auto& registry = aisle::rec::model_registry();
  for (const auto& kind : registry.names()) {
    help += "  " + kind + ":";
    const auto& options = registry.options_of(kind);
    if (options.empty()) help += " no options";
    help += "\n";
    for (const auto& option : options) {
      // Appended piece by piece: GCC 12 warns (-Wrestrict, falsely) on one long concatenation.
      std::string flag = "--";
      flag.append(flag_of(option.name));
      if (option.type == OptionInfo::Type::number_list || option.type == OptionInfo::Type::word_list) flag.append(" A,B,..");
      if (option.type == OptionInfo::Type::integer || option.type == OptionInfo::Type::number) flag.append(" V");
      if (option.type == OptionInfo::Type::boolean) flag.append(", --no-").append(flag_of(option.name));
      help.append("    ").append(flag).append(flag.size() < 24 ? 24 - flag.size() : 1, ' ');
      help.append(option.help).append("\n");
    }
  }
  return help;
}

char separator_from(const Arguments& args) {
  const auto sep = args.value_or("sep", ",");
  if (sep == "\\t" || sep == "tab") return '\t';
  if (sep.size() == 1) return sep[0];
  throw UsageError{std::string("--sep expects one character (or \\t), got '").append(sep).append("'")};
}

aisle::rec::Interactions read_data(const Arguments& args) {
  aisle::rec::InteractionsFormat format;
  format.separator = separator_from(args);
  if (args.has("min-rating")) format.min_rating = static_cast<float>(args.number("min-rating", 0));
  const std::filesystem::path folder = args.required("data");
  auto data = aisle::rec::read_dataset(folder, format);
  if (args.has("image-classifier") || args.has("item-images")) {
    aisle::rec::rename_item_features(data, image_features_from(args, folder).resolve(data.features().ids()));
  }
  return data;
}

ImageClassFeatures image_features_from(const Arguments& args, const std::filesystem::path& items_folder) {
  if (args.has("item-images") && !args.has("image-classifier"))
    throw UsageError{"--item-images goes with --image-classifier"};
  return ImageClassFeatures(args.required("image-classifier"),
                            args.value_or("item-images", (items_folder / kItemImagesFile).string()));
}

std::unique_ptr<aisle::rec::Model> make_model_from(const Arguments& args) {
  nlohmann::json options = nlohmann::json::object();
  for (const auto& option : all_model_options()) {
    const auto flag = flag_of(option.name);
    switch (option.type) {
      case OptionInfo::Type::boolean:
        if (args.flag(flag) && args.flag("no-" + flag))
          throw UsageError{"--" + flag + " and --no-" + flag + " contradict each other"};
        if (args.flag(flag)) options[option.name] = true;
        if (args.flag("no-" + flag)) options[option.name] = false;
        break;
      case OptionInfo::Type::integer:
        // The model checks the range (negatives takes -1)
        if (args.has(flag)) options[option.name] = args.integer(flag, 0, std::numeric_limits<long long>::min());
        break;
      case OptionInfo::Type::number:
        if (args.has(flag)) options[option.name] = args.number(flag, 0);
        break;
      case OptionInfo::Type::number_list:
        if (args.has(flag)) options[option.name] = number_list(args, flag);
        break;
      case OptionInfo::Type::word_list:
        if (args.has(flag)) options[option.name] = word_list(args, flag);
        break;
    }
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
