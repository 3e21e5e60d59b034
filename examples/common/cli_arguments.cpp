#include "cli_arguments.hpp"

#include <algorithm>
#include <charconv>

namespace aisle_cli {

Arguments::Arguments(std::span<const std::string> words, const std::set<std::string>& value_options,
                     const std::set<std::string>& flag_options) {
  take(words, value_options, flag_options);
}

Arguments::Arguments(int argc, char** argv, int first, const std::set<std::string>& value_options,
                     const std::set<std::string>& flag_options) {
  const std::vector<std::string> words(argv + std::min(first, argc), argv + argc);
  take(words, value_options, flag_options);
}

void Arguments::take(std::span<const std::string> words, const std::set<std::string>& value_options,
                     const std::set<std::string>& flag_options) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (!word.starts_with("--") || word.size() == 2) throw UsageError{"unexpected argument '" + word + "'"};
    const auto equals = word.find('=');
    const std::string name = word.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
    if (values_.count(name) || flags_.count(name)) throw UsageError{"--" + name + " is given twice"};
    if (flag_options.count(name)) {
      if (equals != std::string::npos) throw UsageError{"--" + name + " takes no value"};
      flags_.insert(name);
    } else if (!value_options.count(name)) {
      throw UsageError{"unknown option --" + name};
    } else if (equals != std::string::npos) {
      values_.emplace(name, word.substr(equals + 1));
    } else if (i + 1 < words.size()) {
      values_.emplace(name, words[++i]);
    } else {
      throw UsageError{"--" + name + " needs a value"};
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
  if (!value) throw UsageError{"--" + name + " is required"};
  return *value;
}

std::string Arguments::value_or(const std::string& name, const std::string& fallback) const {
  return get(name).value_or(fallback);
}

long long Arguments::integer(const std::string& name, long long fallback, long long min_value,
                             long long max_value) const {
  const auto text = get(name);
  if (!text) return fallback;
  long long value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size())
    throw UsageError{"--" + name + " needs a whole number, not '" + *text + "'"};
  if (value < min_value || value > max_value) {
    if (max_value == std::numeric_limits<long long>::max())
      throw UsageError{"--" + name + " must be at least " + std::to_string(min_value) + ", not " + *text};
    throw UsageError{"--" + name + " must be between " + std::to_string(min_value) + " and " +
                     std::to_string(max_value) + ", not " + *text};
  }
  return value;
}

double Arguments::number(const std::string& name, double fallback) const {
  const auto text = get(name);
  if (!text) return fallback;
  double value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size())
    throw UsageError{"--" + name + " needs a number, not '" + *text + "'"};
  return value;
}

bool wants_help(std::span<const std::string> words) {
  return std::any_of(words.begin(), words.end(), [](const std::string& w) { return w == "--help" || w == "-h"; });
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
