// aisle-recommend: fit, evaluate and query recommendation models from the
// command line. Bad arguments or files: one line on stderr, exit code 2.

#include <exception>
#include <iostream>
#include <string>

#include "aisle/core/error.hpp"
#include "commands.hpp"

namespace {

constexpr const char* kUsage =
    "usage: aisle-recommend COMMAND [options]\n"
    "  fit       --data DIR --model KIND [model options] --out MODEL [--progress]\n"
    "            (KIND: pop, itemknn, ease, neural, transformer, hybrid, featpop, featknn, blend, auto)\n"
    "            [--no-user-data: keep no user id or history in MODEL; serve it with aisle-serve --events]\n"
    "            [--validation loo|users]  (the shape of the split that tunes ease's l2)\n"
    "            [--index hnsw [--index-links 32] [--index-ef-construction 128] [--index-ef-search 48]]\n"
    "            (an approximate index over the neural model's item vectors, saved as MODEL.hnsw)\n"
    "  eval      --data DIR --protocol loo|users|cold --model KIND [model options] [--json]\n"
    "            (cold: new items from their features; needs items.csv)\n"
    "  recommend --model MODEL (--user U | --history a,b,c) [--k 10] [--exclude x,y] [--allow FILE]\n"
    "            [--feature category:x] [--json]\n"
    "  similar   --model MODEL --item X [--k 10] [--json]\n"
    "  explain   --model MODEL --history a,b,c --item X [--json]\n"
    "  add-items --model MODEL --items new.csv --out MODEL2 [--sep C] [--json]\n"
    "            [--image-classifier CLS [--item-images FILE]]\n"
    "            (new products from an items.csv of item,feature rows, scored from their features\n"
    "            without refitting: hybrid, featknn, featpop)\n"
    "  stats     --data DIR [--json]  (counts, and how fast the data set reads)\n"
    "  synth     --out DIR [--seed 7] [--users 2000] [--items 500] [--categories 12]\n"
    "            [--interactions N]  (synthetic data; N rows in all, else 2-40 per shopper)\n"
    "            [--images [--fashion-mnist DIR]]  (a product photo each, a Fashion-MNIST test image of\n"
    "            its category, as the feature image:<n>; the category withheld; 10 categories)\n"
    "data options: --sep C (default ,; \\t for tabs), --min-rating R,\n"
    "  --image-classifier CLS (image:<n> features become the class that CLS, a model of\n"
    "  aisle-classify train, predicts for image n of --item-images FILE, by default\n"
    "  item-images-idx3-ubyte.gz beside items.csv)\n"
    "model options, by model:\n";

int dispatch(const std::string& command, int argc, char** argv) {
  using namespace recommend_cli;
  if (command == "fit") return run_fit(argc, argv);
  if (command == "eval") return run_eval(argc, argv);
  if (command == "recommend") return run_recommend(argc, argv);
  if (command == "similar") return run_similar(argc, argv);
  if (command == "explain") return run_explain(argc, argv);
  if (command == "stats") return run_stats(argc, argv);
  if (command == "synth") return run_synth(argc, argv);
  if (command == "add-items") return run_add_items(argc, argv);
  throw UsageError{"unknown command '" + command + "' (fit, eval, recommend, similar, explain, stats, synth, add-items)"};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage << recommend_cli::model_options_help();
    return 2;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage << recommend_cli::model_options_help();
    return 0;
  }
  try {
    return dispatch(command, argc, argv);
  } catch (const recommend_cli::UsageError& e) {
    std::cerr << "aisle-recommend " << command << ": " << e.message << " (see aisle-recommend --help)\n";
  } catch (const aisle::Error& e) {
    std::cerr << "aisle-recommend " << command << ": " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "aisle-recommend " << command << ": unexpected failure: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
