// Where a training step's time goes, and how much it varies from step to
// step: times the forward, the loss, the backward and the optimizer step of
// every step of the classic 784-128-128-10 model (Adam, batches of real
// Fashion-MNIST rows, or of noise without the data set) and prints the
// fastest, 10th, 50th and 90th percentile of each. On a shared machine the
// median sits above the fastest step by what the neighbours take.
//
// usage: aisle-step-profile [--steps N] [--batch B] [--data DIR] [--json]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "classic_workload.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kDefaultData = "/usr/share/datasets/fashion-mnist";

struct Options {
  long steps = 3000;
  aisle::Index batch = 128;
  std::string data = kDefaultData;
  bool json = false;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "aisle-step-profile: " << message << "\n";
  std::exit(2);
}

long positive(const std::string& flag, const char* text) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value <= 0 || value > 10'000'000)
    usage_error(flag + " takes a positive whole number, not '" + text + "'");
  return value;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--json") {
      options.json = true;
    } else if ((arg == "--steps" || arg == "--batch" || arg == "--data") && !has_value) {
      usage_error(arg + " needs a value");
    } else if (arg == "--steps") {
      options.steps = positive(arg, argv[++i]);
    } else if (arg == "--batch") {
      options.batch = positive(arg, argv[++i]);
    } else if (arg == "--data") {
      options.data = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      std::cout << "usage: aisle-step-profile [--steps N] [--batch B] [--data DIR] [--json]\n";
      std::exit(0);
    } else {
      usage_error("unknown argument '" + arg + "' (see --help)");
    }
  }
  return options;
}

aisle::io::LabeledImages training_rows(const Options& options) {
  if (std::filesystem::exists(options.data)) return aisle::bench::training_rows(options.data.c_str());
  if (options.data != kDefaultData) usage_error("no Fashion-MNIST folder at '" + options.data + "'");
  return aisle::bench::training_rows(nullptr);  // no data set installed: noise of the same shape
}

struct Percentiles {
  double fastest, p10, median, p90;
};

Percentiles percentiles(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  const auto at = [&](double q) { return us[static_cast<std::size_t>(q * static_cast<double>(us.size() - 1))]; };
  return {us.front(), at(0.1), at(0.5), at(0.9)};
}

double microseconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::micro>(to - from).count();
}

}  // namespace

int main(int argc, char** argv) try {
  const Options options = parse(argc, argv);
  const aisle::io::LabeledImages data = training_rows(options);
  if (data.images.rows() < options.batch)
    usage_error("--batch " + std::to_string(options.batch) + " exceeds the " + std::to_string(data.images.rows()) +
                " training rows");

  aisle::Sequential model = aisle::bench::classic_model();
  const aisle::bench::Batches batches = aisle::bench::training_batches(data, options.batch);
  const auto batch_count = static_cast<long>(batches.x.size());
  aisle::Workspace ws = model.make_workspace();
  aisle::Gradients grads = model.make_gradients();
  const char* names[] = {"forward", "loss", "backward", "optimizer", "step"};
  std::vector<std::vector<double>> times(std::size(names));
  const long warm_up = batch_count;
  for (long s = 0; s < options.steps + warm_up; ++s) {
    const auto b = static_cast<std::size_t>(s % batch_count);
    const auto t0 = Clock::now();
    model.forward(batches.x[b], ws);
    const auto t1 = Clock::now();
    (void)model.loss(ws, batches.y[b]);
    const auto t2 = Clock::now();
    model.backward(ws, batches.y[b], grads);
    const auto t3 = Clock::now();
    model.apply_gradients(grads);
    const auto t4 = Clock::now();
    if (s < warm_up) continue;
    const double phase[] = {microseconds(t0, t1), microseconds(t1, t2), microseconds(t2, t3), microseconds(t3, t4),
                            microseconds(t0, t4)};
    for (std::size_t p = 0; p < std::size(names); ++p) times[p].push_back(phase[p]);
  }

  const Percentiles step = percentiles(times.back());
  const auto samples_per_s = [&](double us) { return static_cast<double>(options.batch) / us * 1e6; };
  if (options.json) {
    nlohmann::json out = {{"steps", options.steps}, {"batch", options.batch}, {"threads", aisle::num_threads()}};
    for (std::size_t p = 0; p < std::size(names); ++p) {
      const Percentiles q = percentiles(times[p]);
      out["us"][names[p]] = {{"fastest", q.fastest}, {"p10", q.p10}, {"median", q.median}, {"p90", q.p90}};
    }
    out["median_samples_per_s"] = samples_per_s(step.median);
    out["median_gflops"] = samples_per_s(step.median) * aisle::bench::kTrainFlop * 1e-9;
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::printf("%ld steps of batch %ld on %d threads (microseconds)\n", options.steps,
              static_cast<long>(options.batch), aisle::num_threads());
  std::printf("%-10s %9s %9s %9s %9s\n", "phase", "fastest", "p10", "median", "p90");
  for (std::size_t p = 0; p < std::size(names); ++p) {
    const Percentiles q = percentiles(times[p]);
    std::printf("%-10s %9.1f %9.1f %9.1f %9.1f\n", names[p], q.fastest, q.p10, q.median, q.p90);
  }
  std::printf("median step: %.0f samples/s, %.1f GFLOP/s of matrix products; fastest step: %.0f samples/s\n",
              samples_per_s(step.median), samples_per_s(step.median) * aisle::bench::kTrainFlop * 1e-9,
              samples_per_s(step.fastest));
  return 0;
} catch (const std::exception& e) {
  std::cerr << "aisle-step-profile: " << e.what() << "\n";
  return 2;
}
