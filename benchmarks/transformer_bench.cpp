// aisle's side of the transformer comparison (benchmarks/compare_transformer.py
// is PyTorch's): the `transformer` recommender on one interactions.csv.
//   - training: fits of one epoch each, from fresh weights (the same work as
//     PyTorch's epochs: every user with two or more items, batches by length,
//     cross-entropy over the whole catalogue at every position); the figure
//     is the median fit's sequences a second;
//   - predict-1: one history's scores over the catalogue (score_batch with a
//     single row), for --queries histories drawn with a fixed seed; the figure
//     is the median latency in microseconds.
// Prints one JSON object. Used by benchmarks/compare.sh.
//
// usage: aisle-transformer-bench --data DIR [--fits 3] [--queries 200] [--dim 64]
//                                [--blocks 2] [--heads 1] [--max-length 50] [--batch-size 128]
#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aisle/core/error.hpp"
#include "aisle/core/random.hpp"
#include "aisle/rec/interactions.hpp"
#include "aisle/rec/transformer.hpp"
#include "cli_arguments.hpp"

namespace {

using aisle::Index;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

aisle::rec::TransformerOptions options_from(const aisle_cli::Arguments& args) {
  aisle::rec::TransformerOptions options;
  options.dim = args.integer("dim", options.dim, 1);
  options.blocks = static_cast<int>(args.integer("blocks", options.blocks, 1, 64));
  options.heads = args.integer("heads", options.heads, 1);
  options.max_length = args.integer("max-length", options.max_length, 1);
  options.batch_size = args.integer("batch-size", options.batch_size, 1);
  options.epochs = 1;
  options.validate = false;  // one epoch, no validation probe
  return options;
}

Index sequences_an_epoch(const aisle::rec::Histories& rows) {
  Index count = 0;
  for (Index r = 0; r < rows.size(); ++r) count += rows[r].size() >= 2 ? 1 : 0;
  return count;
}

// Median seconds of `fits` one-epoch fits from fresh weights.
double median_epoch_seconds(const aisle::rec::Interactions& data, const aisle::rec::TransformerOptions& options,
                            int fits) {
  std::vector<double> seconds;
  for (int fit = 0; fit < fits; ++fit) {
    aisle::rec::TransformerModel model(options);
    const auto start = Clock::now();
    model.fit(data.histories(), data.item_count());
    seconds.push_back(seconds_since(start));
  }
  return median(seconds);
}

// Median microseconds of one history's scores over the catalogue.
double median_predict1_us(const aisle::rec::Interactions& data, const aisle::rec::TransformerOptions& options,
                          int queries) {
  aisle::rec::TransformerModel model(options);
  model.fit(data.histories(), data.item_count());
  aisle::Rng rng(7);
  aisle::Matrix scores;
  std::vector<double> micros;
  for (int q = 0; q < queries; ++q) {
    const auto user = static_cast<Index>(rng.below(static_cast<std::uint64_t>(data.user_count())));
    const auto history = data.history(user);
    const auto one = aisle::rec::Histories::from_arrays({0, static_cast<Index>(history.size())},
                                                        {history.begin(), history.end()}, data.item_count());
    const auto start = Clock::now();
    model.score_batch(one, scores);
    micros.push_back(seconds_since(start) * 1e6);
  }
  return median(micros);
}

int run(int argc, char** argv) {
  const aisle_cli::Arguments args(argc, argv, 1,
                                  {"data", "fits", "queries", "dim", "blocks", "heads", "max-length", "batch-size"}, {});
  const std::string data_dir = args.required("data");
  const int fits = static_cast<int>(args.integer("fits", 3, 1, 100));
  const int queries = static_cast<int>(args.integer("queries", 200, 1, 100000));
  const auto options = options_from(args);
  const auto data = aisle::rec::read_interactions(std::filesystem::path(data_dir) / "interactions.csv");
  const Index sequences = sequences_an_epoch(data.histories());
  const double epoch_s = median_epoch_seconds(data, options, fits);
  const double predict1_us = median_predict1_us(data, options, queries);
  std::cout << nlohmann::json{{"sequences", sequences},
                              {"items", data.item_count()},
                              {"epoch_s", epoch_s},
                              {"train_sequences_per_s", static_cast<double>(sequences) / epoch_s},
                              {"predict1_us", predict1_us}}
            << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const aisle_cli::UsageError& e) {
    std::cerr << "aisle-transformer-bench: " << e.message << "\n";
    return 2;
  } catch (const aisle::Error& e) {
    std::cerr << "aisle-transformer-bench: " << e.what() << "\n";
    return 2;
  }
}
