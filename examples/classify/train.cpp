#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "aisle/core/error.hpp"
#include "aisle/core/threads.hpp"
#include "aisle/io/fashion_mnist.hpp"
#include "aisle/nn/callbacks.hpp"
#include "aisle/nn/learning_rate_schedule.hpp"
#include "classifier.hpp"
#include "commands.hpp"
#include "report.hpp"

namespace classify {
namespace {

// Fails before a long training run rather than after it.
void check_output_path(const std::filesystem::path& out) {
  std::error_code ec;
  if (std::filesystem::is_directory(out, ec))
    throw aisle::Error("cannot save the model to " + out.string() + ": it is a folder");
  const std::filesystem::path folder = out.has_parent_path() ? out.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(folder, ec))
    throw aisle::Error("cannot save the model to " + out.string() + ": folder " + folder.string() +
                       " does not exist");
}

void print_setup(std::ostream& out, const TrainOptions& options, const aisle::io::FashionMnist& data,
                 const aisle::Sequential& model) {
  const auto samples = data.train.images.rows();
  const auto held_out = static_cast<aisle::Index>(static_cast<double>(samples) * options.validation);
  out << "Fashion-MNIST from " << options.data.string() << ": " << samples - held_out << " training images, ";
  if (held_out > 0) out << held_out << " for validation, ";
  out << data.test.images.rows() << " test images\n"
      << "model " << (options.arch == "cnn" ? "cnn (conv32-pool-conv64-pool-128-dropout-10)" : "784-128-128-10") << ", "
      << model.parameter_count() << " parameters; Adam lr " << options.learning_rate
      << (options.lr_schedule == "linear" ? " decaying linearly" : "")
      << (options.arch == "cnn" ? ", convolutions in " + options.precision : "") << ", batch " << options.batch << ", " << options.epochs << " epochs, seed " << options.seed << "; backend "
      << aisle::to_string(model.backend_kind()) << ", " << aisle::num_threads() << " threads\n";
}

// oneDNN runs the CNN's convolutions with its own JIT primitives, 1.6x the
// speed of im2col on the native GEMM; an explicit choice wins.
std::optional<aisle::BackendKind> training_backend(const TrainOptions& options) {
  if (options.backend) return options.backend;
  const char* env = std::getenv("AISLE_BACKEND");
  if (options.arch == "cnn" && (env == nullptr || *env == '\0')) return aisle::BackendKind::onednn;
  return std::nullopt;
}

std::shared_ptr<aisle::Callback> progress_logger(std::ostream& out, bool json) {
  aisle::ProgressOptions progress;
  progress.style = json ? aisle::ProgressOptions::Style::json : aisle::ProgressOptions::Style::automatic;
  return std::make_shared<aisle::ProgressLogger>(out, progress);
}

}  // namespace

int run_train(const TrainOptions& options, std::ostream& out) {
  check_output_path(options.out);
  if (options.threads > 0) {
    aisle::set_num_threads(options.threads);
  } else {
    aisle::num_threads();  // a bad AISLE_NUM_THREADS fails here, before any output
  }
  const aisle::io::FashionMnist data = aisle::io::load_fashion_mnist(options.data);
  const auto backend = training_backend(options);
  aisle::Sequential model = options.arch == "cnn" ? build_cnn_model(options.seed, backend, options.learning_rate,
                                                                    options.precision == "bf16")
                                                  : build_classic_model(options.seed, backend, options.learning_rate);
  if (!options.json) print_setup(out, options, data, model);

  aisle::FitOptions fit;
  fit.epochs = options.epochs;
  fit.batch_size = options.batch;
  fit.seed = options.seed;
  fit.validation_split = options.validation;
  fit.callbacks.push_back(progress_logger(out, options.json));
  if (options.lr_schedule == "linear") fit.callbacks.push_back(std::make_shared<aisle::LinearLearningRateDecay>());

  TrainSummary summary;
  const auto start = std::chrono::steady_clock::now();
  summary.history = model.fit(data.train.images, data.train.labels, fit);
  summary.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  model.save(options.out);
  summary.model = options.out;
  summary.test = model.evaluate(data.test.images, data.test.labels);
  summary.test_samples = data.test.images.rows();

  if (options.json) {
    out << train_json(summary).dump() << std::endl;
  } else {
    print_train_text(out, summary);
  }
  return 0;
}

}  // namespace classify
