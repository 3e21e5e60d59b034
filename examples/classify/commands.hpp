#pragma once

#include <iosfwd>

#include "options.hpp"

// The subcommands. Each writes its results to out and returns the exit code;
// bad input is thrown (aisle::Error or UsageError) for main to report.
namespace classify {

int run_train(const TrainOptions& options, std::ostream& out);
int run_eval(const EvalOptions& options, std::ostream& out);
int run_predict(const PredictOptions& options, std::ostream& out);
int run_embed(const EmbedOptions& options, std::ostream& out);

}  // namespace classify
