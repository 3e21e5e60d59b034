// aisle-classify: trains, tests and applies the classic 784-128-128-10
// product-image classifier on Fashion-MNIST. See 'aisle-classify --help'.

#include <algorithm>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include "aisle/core/error.hpp"
#include "cli_arguments.hpp"
#include "commands.hpp"
#include "options.hpp"

namespace {

constexpr int kUsageExit = 2;

int print_help(std::string_view text) {
  std::cout << text;
  return 0;
}

int run(std::span<const std::string> args) {
  if (args.empty()) throw aisle_cli::UsageError{"missing command: train, eval, predict or embed (see aisle-classify --help)"};
  const std::string& command = args[0];
  const auto rest = args.subspan(1);
  if (command == "--help" || command == "-h" || command == "help") return print_help(classify::usage());
  if (command == "train") {
    if (aisle_cli::wants_help(rest)) return print_help(classify::train_help());
    return classify::run_train(classify::parse_train(rest), std::cout);
  }
  if (command == "eval") {
    if (aisle_cli::wants_help(rest)) return print_help(classify::eval_help());
    return classify::run_eval(classify::parse_eval(rest), std::cout);
  }
  if (command == "predict") {
    if (aisle_cli::wants_help(rest)) return print_help(classify::predict_help());
    return classify::run_predict(classify::parse_predict(rest), std::cout);
  }
  if (command == "embed") {
    if (aisle_cli::wants_help(rest)) return print_help(classify::embed_help());
    return classify::run_embed(classify::parse_embed(rest), std::cout);
  }
  throw aisle_cli::UsageError{"unknown command '" + command +
                              "': use train, eval, predict or embed (see aisle-classify --help)"};
}

// Errors are reported on one line, whatever their message holds.
int report_error(const std::string& message, int exit_code) {
  std::string line = message;
  std::replace(line.begin(), line.end(), '\n', ' ');
  std::cout.flush();
  std::cerr << "aisle-classify: " << line << std::endl;
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return run(args);
  } catch (const aisle_cli::UsageError& e) {
    return report_error(e.message, kUsageExit);
  } catch (const aisle::Error& e) {
    return report_error(e.what(), kUsageExit);
  } catch (const std::exception& e) {
    return report_error(std::string("internal error: ") + e.what(), 1);
  }
}
