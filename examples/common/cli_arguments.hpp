#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// The command-line parser of the example programs (aisle-classify,
// aisle-recommend, aisle-serve): "--key value" or "--key=value" options and
// "--flag" switches.
namespace aisle_cli {

// A bad command line: main prints its message on one line and exits with 2.
struct UsageError {
  std::string message;
};

// The options and switches of one subcommand, checked against the ones it
// knows: unknown options, missing values, repeats, a value given to a switch
// and stray words are UsageErrors naming them.
class Arguments {
 public:
  Arguments(std::span<const std::string> words, const std::set<std::string>& value_options,
            const std::set<std::string>& flag_options);
  // argv[first..argc).
  Arguments(int argc, char** argv, int first, const std::set<std::string>& value_options,
            const std::set<std::string>& flag_options);

  bool flag(const std::string& name) const { return flags_.count(name) > 0; }
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  // The value, or "--name is required".
  std::string required(const std::string& name) const;
  std::string value_or(const std::string& name, const std::string& fallback) const;
  // A whole number in [min_value, max_value], or fallback when absent.
  long long integer(const std::string& name, long long fallback, long long min_value,
                    long long max_value = std::numeric_limits<long long>::max()) const;
  double number(const std::string& name, double fallback) const;

 private:
  void take(std::span<const std::string> words, const std::set<std::string>& value_options,
            const std::set<std::string>& flag_options);

  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
};

// True when words ask for help (--help or -h anywhere).
bool wants_help(std::span<const std::string> words);

// "a,b,c" -> {"a", "b", "c"}; empty parts are dropped.
std::vector<std::string> split_list(std::string_view text);

}  // namespace aisle_cli
