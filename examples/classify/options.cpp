#include "options.hpp"

#include <set>
#include <cmath>
#include <limits>

#include "aisle/io/fashion_mnist.hpp"
#include "classifier.hpp"
#include "cli_arguments.hpp"

namespace classify {
namespace {

using aisle_cli::Arguments;
using aisle_cli::UsageError;

const std::set<std::string> kTrainOptions = {"data", "epochs", "batch", "lr",      "seed",
                                             "validation", "backend", "threads", "out", "arch", "lr-schedule", "precision"};
const std::set<std::string> kEvalOptions = {"model", "data"};
const std::set<std::string> kPredictOptions = {"model", "index", "image", "data"};
const std::set<std::string> kEmbedOptions = {"model", "images", "out"};
const std::set<std::string> kSwitches = {"json"};

[[noreturn]] void fail(const std::string& what) { throw UsageError{what}; }

// parse() of command's words, its UsageErrors naming the command and its help.
template <class Parse>
auto parsing(const std::string& command, Parse&& parse) {
  try {
    return parse();
  } catch (const UsageError& e) {
    throw UsageError{command + ": " + e.message + " (see aisle-classify " + command + " --help)"};
  }
}

std::filesystem::path required_path(const Arguments& args, const std::string& name) {
  const auto value = args.required(name);
  if (value.empty()) fail("--" + name + " needs a path");
  return value;
}

std::filesystem::path data_dir(const Arguments& args) {
  const std::string dir = args.value_or("data", aisle::io::kFashionMnistDefaultDir);
  if (dir.empty()) fail("--data needs a path");
  return dir;
}

float positive_real(const Arguments& args, const std::string& name, double fallback) {
  const double value = args.number(name, fallback);
  if (!std::isfinite(value) || value <= 0 || value > std::numeric_limits<float>::max())
    fail("--" + name + " must be a positive number");
  return static_cast<float>(value);
}

float validation_fraction(const Arguments& args, double fallback) {
  const double value = args.number("validation", fallback);
  if (!(value >= 0 && value < 1)) fail("--validation must be at least 0 and below 1");
  return static_cast<float>(value);
}

std::optional<aisle::BackendKind> backend_choice(const Arguments& args) {
  const auto name = args.get("backend");
  if (!name) return std::nullopt;
  if (*name != "native" && *name != "onednn" && *name != "eigen")
    fail("--backend must be native, onednn or eigen, not '" + *name + "'");
  return aisle::backend_kind_from_string(*name);
}

}  // namespace

TrainOptions parse_train(std::span<const std::string> words) {
  return parsing("train", [&] {
    const Arguments args(words, kTrainOptions, kSwitches);
    TrainOptions options;
    options.data = data_dir(args);
    options.epochs = static_cast<int>(args.integer("epochs", options.epochs, 1, 100000));
    options.batch = args.integer("batch", options.batch, 1, 1 << 20);
    options.seed = static_cast<std::uint64_t>(args.integer("seed", static_cast<long long>(options.seed), 0));
    options.validation = validation_fraction(args, options.validation);
    options.backend = backend_choice(args);
    options.threads = static_cast<int>(args.integer("threads", 0, 0, 4096));
    options.json = args.flag("json");
    options.out = required_path(args, "out");
    options.arch = args.value_or("arch", options.arch);
    if (options.arch != "mlp" && options.arch != "cnn") fail("--arch takes mlp or cnn, not '" + options.arch + "'");
    options.learning_rate =
        positive_real(args, "lr", options.arch == "cnn" ? kCnnLearningRate : kClassicLearningRate);
    options.lr_schedule = args.value_or("lr-schedule", options.arch == "cnn" ? "linear" : "constant");
    if (options.lr_schedule != "constant" && options.lr_schedule != "linear")
      fail("--lr-schedule takes constant or linear, not '" + options.lr_schedule + "'");
    if (options.arch != "cnn" && args.has("precision")) fail("--precision goes with --arch cnn");
    options.precision = args.value_or("precision", aisle::native_bf16() ? "bf16" : "f32");
    if (options.precision != "f32" && options.precision != "bf16")
      fail("--precision takes f32 or bf16, not '" + options.precision + "'");
    return options;
  });
}

EvalOptions parse_eval(std::span<const std::string> words) {
  return parsing("eval", [&] {
    const Arguments args(words, kEvalOptions, kSwitches);
    EvalOptions options;
    options.model = required_path(args, "model");
    options.data = data_dir(args);
    options.json = args.flag("json");
    return options;
  });
}

PredictOptions parse_predict(std::span<const std::string> words) {
  return parsing("predict", [&] {
    const Arguments args(words, kPredictOptions, kSwitches);
    PredictOptions options;
    options.model = required_path(args, "model");
    if (args.has("index") == args.has("image")) fail("give either --index N or --image FILE.pgm");
    if (args.has("index")) options.index = args.integer("index", 0, 0, std::numeric_limits<std::int32_t>::max());
    if (args.has("image")) {
      options.image = required_path(args, "image");
      if (args.has("data")) fail("--data goes with --index, not with --image");
    }
    options.data = data_dir(args);
    options.json = args.flag("json");
    return options;
  });
}

EmbedOptions parse_embed(std::span<const std::string> words) {
  return parsing("embed", [&] {
    const Arguments args(words, kEmbedOptions, kSwitches);
    EmbedOptions options;
    options.model = required_path(args, "model");
    options.images = required_path(args, "images");
    options.out = required_path(args, "out");
    options.json = args.flag("json");
    return options;
  });
}

std::string_view usage() {
  return R"(usage: aisle-classify <command> [options]

Tags product images with the 10 Fashion-MNIST classes using the classic
784-128-128-10 network (ReLU, ReLU, softmax; Adam; sparse categorical
cross-entropy).

commands:
  train     train a model on the Fashion-MNIST training set and save it
  eval      test a saved model on the 10,000 test images
  predict   the 3 most likely classes of one image
  embed     each image's vector from the layer before the last (for recommenders)

'aisle-classify <command> --help' tells more. Exit codes: 0 success,
2 bad arguments, missing or unreadable files, a model of another kind.
)";
}

std::string_view train_help() {
  return R"(usage: aisle-classify train [options] --out MODEL

Trains a product-image classifier and saves it to MODEL; then reports its
accuracy on the test set.

options:
  --arch mlp|cnn      mlp (default): the classic 784-128-128-10 network;
                      cnn: conv 32 3x3 - max pool 2 - conv 64 3x3 - max pool 2 -
                      dense 128 - dropout 0.3 - dense 10 (ReLU, 'same' padding)
  --data DIR          Fashion-MNIST folder (default /usr/share/datasets/fashion-mnist)
  --epochs N          passes over the training set (default 10)
  --batch N           samples per Adam step (default 128)
  --lr X              Adam learning rate (default 0.001 for mlp, 0.002 for cnn)
  --lr-schedule S     constant, or linear: epoch e of E at rate * (E - e + 1) / E
                      (default linear for cnn, constant for mlp)
  --precision P       cnn: f32, or bf16: convolution products in bfloat16 with
                      f32 sums, twice as fast on the onednn backend (default
                      bf16 where the CPU has AVX-512 BF16, else f32)
  --seed S            seed of the initial weights and the shuffling (default 42)
  --validation F      fraction of the training images held out to report
                      val_loss and val_accuracy each epoch, taken from the end
                      of the set, e.g. 0.1 (default 0: train on all 60,000)
  --backend NAME      native, onednn or eigen (default $AISLE_BACKEND, else onednn
                      for cnn, whose convolution primitives train it fastest,
                      else native)
  --threads N         threads for the kernels (default: all cores, or $AISLE_NUM_THREADS)
  --json              one JSON object per epoch on stdout (epoch, loss, accuracy,
                      val_loss, val_accuracy, samples_per_s, seconds), then a
                      final one ("final": true) with the test results
  --out MODEL         where to save the model (required)

Progress: a live bar on a terminal, one line per epoch otherwise.
)";
}

std::string_view eval_help() {
  return R"(usage: aisle-classify eval --model MODEL [--data DIR] [--json]

Tests MODEL on the 10,000 Fashion-MNIST test images: accuracy and loss,
precision, recall and F1 per class, and the confusion matrix (rows: true
class, columns: predicted class).

options:
  --model MODEL       a model saved by 'aisle-classify train' (required)
  --data DIR          Fashion-MNIST folder (default /usr/share/datasets/fashion-mnist)
  --json              one JSON object: accuracy, loss, per_class, confusion
)";
}

std::string_view predict_help() {
  return R"(usage: aisle-classify predict --model MODEL (--index N [--data DIR] | --image FILE.pgm) [--json]

Prints the 3 most likely classes of one image with their probabilities.

options:
  --model MODEL       a model saved by 'aisle-classify train' (required)
  --index N           image N (from 0) of the Fashion-MNIST test set
  --data DIR          Fashion-MNIST folder (default /usr/share/datasets/fashion-mnist)
  --image FILE.pgm    a 28x28 greyscale PGM (P2 or P5); like Fashion-MNIST's
                      images it should show a light product on a dark background
  --json              one JSON object: top (class, name, probability), and the
                      true label for --index
)";
}

std::string_view embed_help() {
  return R"(usage: aisle-classify embed --model MODEL --images FILE --out FILE.csv [--json]

Writes each image's vector from the network's penultimate layer (the input of
its last layer: 128 values for both architectures), an image embedding that
places products that look alike near each other.

options:
  --model MODEL       a model saved by 'aisle-classify train' (required)
  --images FILE       an IDX image file of 28x28 images, gzip-compressed or not
                      (Fashion-MNIST's t10k-images-idx3-ubyte.gz, for one)
  --out FILE.csv      the vectors: a header 'image,e0,e1,...', then one row per
                      image (its index from 0); written whole or not at all
  --json              the summary as one JSON object
)";
}

}  // namespace classify
