#include "cli_arguments.hpp"

#include <charconv>

namespace aisle_cli {

Arguments::Arguments(int argc, char** argv, int first, const std::set<std::string>& value_options,
                     const std::set<std::string>& flag_options) {
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!arg.starts_with("--")) throw UsageError{"unexpected argument '" + arg + "'"};
    const auto name = arg.substr(2);
    if (flag_options.count(name)) {
      flags_.insert(name);
    } else if (value_options.count(name)) {
      if (i + 1 >= argc) throw UsageError{"option --" + name + " needs a value"};
      if (!values_.emplace(name, argv[++i]).second) throw UsageError{"option --" + name + " given twice"};
    } else {
      throw UsageError{"unknown option --" + name};
    }
  }
}

std::optional<std::string> Arguments::get(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Arguments::required(const std::string& name) const {
  const auto value = get(name);
  if (!value) throw UsageError{"missing --" + name};
  return *value;
}

std::string Arguments::value_or(const std::string& name, const std::string& fallback) const {
  return get(name).value_or(fallback);
}

long long Arguments::integer(const std::string& name, long long fallback, long long min_value) const {
  const auto text = get(name);
  if (!text) return fallback;
  long long value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size())
    throw UsageError{"--" + name + " expects an integer, got '" + *text + "'"};
  if (value < min_value) throw UsageError{"--" + name + " must be at least " + std::to_string(min_value)};
  return value;
}

double Arguments::number(const std::string& name, double fallback) const {
  const auto text = get(name);
  if (!text) return fallback;
  double value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size())
    throw UsageError{"--" + name + " expects a number, got '" + *text + "'"};
  return value;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto part = text.substr(0, comma);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace aisle_cli
