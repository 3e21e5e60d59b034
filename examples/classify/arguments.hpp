#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace classify {

// Bad command-line use: the program says it in one line and exits with 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string_view name;  // without the leading "--"
  bool takes_value = true;
};

// The options of one subcommand: "--name value", "--name=value" or a bare
// "--flag". Unknown options, missing values, repeats and stray words are
// UsageErrors that name the subcommand.
class Arguments {
 public:
  Arguments(std::string command, std::span<const std::string> args, std::span<const OptionSpec> specs);

  bool has(std::string_view name) const { return values_.count(name) != 0; }
  std::optional<std::string> text(std::string_view name) const;
  std::string text(std::string_view name, std::string fallback) const;
  std::int64_t integer(std::string_view name, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
  double real(std::string_view name, double fallback) const;

  // A UsageError for this subcommand.
  [[noreturn]] void fail(const std::string& what) const;

 private:
  const OptionSpec& spec_of(std::string_view name, std::span<const OptionSpec> specs) const;

  std::string command_;
  std::map<std::string, std::string, std::less<>> values_;
};

// True when args ask for help (--help or -h anywhere).
bool wants_help(std::span<const std::string> args);

}  // namespace classify
