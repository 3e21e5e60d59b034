#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

// The command-line parser of the example programs (aisle-recommend,
// aisle-serve): "--key value" options and "--flag" switches.
namespace aisle_cli {

// A bad command line: main prints its message on one line and exits with 2.
struct UsageError {
  std::string message;
};

// "--key value" options and "--flag" switches of one subcommand, checked
// against the ones it knows.
class Arguments {
 public:
  Arguments(int argc, char** argv, int first, const std::set<std::string>& value_options,
            const std::set<std::string>& flag_options);

  bool flag(const std::string& name) const { return flags_.count(name) > 0; }
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::string required(const std::string& name) const;
  std::string value_or(const std::string& name, const std::string& fallback) const;
  long long integer(const std::string& name, long long fallback, long long min_value) const;
  double number(const std::string& name, double fallback) const;

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
};

// "a,b,c" -> {"a", "b", "c"}; empty parts are dropped.
std::vector<std::string> split_list(std::string_view text);

}  // namespace aisle_cli
