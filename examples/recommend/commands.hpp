#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cli_arguments.hpp"
#include "image_features.hpp"
#include "aisle/rec/interactions.hpp"
#include "aisle/rec/model_registry.hpp"

namespace recommend_cli {

using aisle_cli::Arguments;
using aisle_cli::split_list;
using aisle_cli::UsageError;

// Subcommands; each returns the exit code.
int run_fit(int argc, char** argv);
int run_eval(int argc, char** argv);
int run_recommend(int argc, char** argv);
int run_similar(int argc, char** argv);
int run_explain(int argc, char** argv);
int run_stats(int argc, char** argv);
int run_synth(int argc, char** argv);
int run_add_items(int argc, char** argv);

// Options shared by fit and eval.
std::set<std::string> data_options();     // --data --sep --min-rating --image-classifier --item-images
std::set<std::string> model_options();    // --model and every registered model's valued options
std::set<std::string> model_switches();   // every registered model's switches (--validate)
// Each registered model's options, a line each, for --help.
std::string model_options_help();
// The data set of --data, its image features resolved when --image-classifier is given.
aisle::rec::Interactions read_data(const Arguments& args);
// The resolver of --image-classifier and --item-images (by default the
// photos file in items_folder).
ImageClassFeatures image_features_from(const Arguments& args, const std::filesystem::path& items_folder);
// --sep: one character, or \t (tab); default ','.
char separator_from(const Arguments& args);
// The model named by --model with the settings given on the command line.
std::unique_ptr<aisle::rec::Model> make_model_from(const Arguments& args);
// Progress lines on stderr when it is a terminal or --progress is given.
std::function<void(const std::string&)> progress_printer(const Arguments& args);

}  // namespace recommend_cli
