#include "arguments.hpp"

#include <algorithm>
#include <charconv>

namespace classify {

Arguments::Arguments(std::string command, std::span<const std::string> args, std::span<const OptionSpec> specs)
    : command_(std::move(command)) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) fail("unexpected argument '" + arg + "'");
    const std::size_t equals = arg.find('=');
    const std::string name = arg.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
    const OptionSpec& spec = spec_of(name, specs);
    if (values_.count(name) != 0) fail("--" + name + " is given twice");
    if (!spec.takes_value) {
      if (equals != std::string::npos) fail("--" + name + " takes no value");
      values_[name] = "";
    } else if (equals != std::string::npos) {
      values_[name] = arg.substr(equals + 1);
    } else if (i + 1 < args.size()) {
      values_[name] = args[++i];
    } else {
      fail("--" + name + " needs a value");
    }
  }
}

const OptionSpec& Arguments::spec_of(std::string_view name, std::span<const OptionSpec> specs) const {
  const auto it = std::find_if(specs.begin(), specs.end(), [&](const OptionSpec& s) { return s.name == name; });
  if (it == specs.end()) fail("unknown option --" + std::string(name));
  return *it;
}

void Arguments::fail(const std::string& what) const {
  throw UsageError(command_ + ": " + what + " (see aisle-classify " + command_ + " --help)");
}

std::optional<std::string> Arguments::text(std::string_view name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Arguments::text(std::string_view name, std::string fallback) const {
  return text(name).value_or(std::move(fallback));
}

std::int64_t Arguments::integer(std::string_view name, std::int64_t fallback, std::int64_t min,
                                std::int64_t max) const {
  const auto value = text(name);
  if (!value) return fallback;
  std::int64_t number = 0;
  const auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), number);
  if (error != std::errc() || end != value->data() + value->size() || value->empty())
    fail("--" + std::string(name) + " needs a whole number, not '" + *value + "'");
  if (number < min || number > max)
    fail("--" + std::string(name) + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
         ", not " + *value);
  return number;
}

double Arguments::real(std::string_view name, double fallback) const {
  const auto value = text(name);
  if (!value) return fallback;
  double number = 0;
  const auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), number);
  if (error != std::errc() || end != value->data() + value->size() || value->empty())
    fail("--" + std::string(name) + " needs a number, not '" + *value + "'");
  return number;
}

bool wants_help(std::span<const std::string> args) {
  return std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; });
}

}  // namespace classify
