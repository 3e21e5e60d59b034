// Runs the aisle-classify executable as a user would and checks its exit
// codes and output, on a tiny Fashion-MNIST-shaped folder the tests write.

#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "aisle/io/fashion_mnist.hpp"
#include "aisle/io/idx.hpp"
#include "aisle/io/model_file.hpp"
#include "aisle/nn/adam.hpp"
#include "aisle/nn/cross_entropy.hpp"
#include "aisle/nn/dense.hpp"
#include "aisle/nn/sequential.hpp"
#include "support/test_files.hpp"

namespace aisle {
namespace {

using test_support::contains;
using test_support::TempDir;

const std::string kBinary = AISLE_BINARY_DIR "/bin/aisle-classify";

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string shell_quoted(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Synthetic product images: class k lights a 6x6 block in its own place, plus noise.
io::LabeledImages synthetic_images(Index count, std::uint32_t seed) {
  io::LabeledImages data;
  data.rows = data.cols = io::kFashionMnistSide;
  data.images = Matrix::Zero(count, io::kFashionMnistPixels);
  data.labels.resize(count);
  std::uint32_t state = seed;
  for (Index i = 0; i < count; ++i) {
    const int label = static_cast<int>(i % 10);
    data.labels(i) = label;
    for (Index p = 0; p < data.images.cols(); ++p) {
      state = state * 1664525u + 1013904223u;
      data.images(i, p) = static_cast<float>(state >> 24) / 255.0f * 0.3f;
    }
    const int top = 2 + 12 * (label / 5), left = 1 + 5 * (label % 5);
    for (int r = top; r < top + 6; ++r)
      for (int c = left; c < left + 5; ++c) data.images(i, r * io::kFashionMnistSide + c) = 1.0f;
  }
  return data;
}

void write_set(const std::filesystem::path& dir, const std::string& prefix, const io::LabeledImages& data) {
  io::write_idx_images(dir / (prefix + "-images-idx3-ubyte.gz"), data.images, data.rows, data.cols);
  io::write_idx_labels(dir / (prefix + "-labels-idx1-ubyte.gz"), data.labels);
}

// A model file of the right kind, untrained: 784 pixels to 10 classes, or other sizes.
void write_sequential_model(const std::filesystem::path& path, Index inputs = 784, Index outputs = 10) {
  Sequential model({.seed = 1});
  model.add(Dense(outputs, Activation::softmax, inputs));
  model.compile(Adam(), SparseCategoricalCrossentropy(), {Metric::accuracy});
  model.save(path);
}

class ClassifyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kBinary)) << kBinary << " is missing: build the aisle-classify target";
  }

  CliResult run(const std::vector<std::string>& args) const {
    // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string&&.
    std::ostringstream command;
    command << shell_quoted(kBinary);
    for (const std::string& arg : args) command << ' ' << shell_quoted(arg);
    command << " </dev/null >" << shell_quoted((dir_ / "stdout").string()) << " 2>"
            << shell_quoted((dir_ / "stderr").string());
    const int status = std::system(command.str().c_str());
    CliResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = read_text(dir_ / "stdout");
    result.err = read_text(dir_ / "stderr");
    return result;
  }

  // Exit code 2, nothing on stdout, one line on stderr holding `part`.
  void expect_usage_failure(const std::vector<std::string>& args, const std::string& part = "") const {
    std::string joined;
    for (const auto& a : args) joined += " " + a;
    SCOPED_TRACE("aisle-classify" + joined);
    const CliResult result = run(args);
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_EQ(result.out, "");
    ASSERT_EQ(lines_of(result.err).size(), 1u) << result.err;
    EXPECT_EQ(result.err.back(), '\n');
    EXPECT_EQ(result.err.rfind("aisle-classify: ", 0), 0u) << result.err;
    EXPECT_TRUE(contains(result.err, part)) << result.err << " lacks: " << part;
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  TempDir dir_;
};

TEST_F(ClassifyCliTest, HelpExitsZero) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"train", "--help"}, {"eval", "-h"}, {"predict", "--model", "m", "--help"}}) {
    const CliResult result = run(args);
    EXPECT_EQ(result.exit_code, 0) << args[0];
    EXPECT_TRUE(contains(result.out, "usage: aisle-classify")) << result.out;
    EXPECT_EQ(result.err, "");
  }
  EXPECT_TRUE(contains(run({"train", "--help"}).out, "--validation"));
}

TEST_F(ClassifyCliTest, BadArgumentsExitTwo) {
  const std::string out = path("model");
  expect_usage_failure({}, "missing command");
  expect_usage_failure({"fly"}, "unknown command 'fly'");
  expect_usage_failure({"train"}, "--out is required");
  expect_usage_failure({"train", "--out"}, "--out needs a value");
  expect_usage_failure({"train", "--out", out, "stray"}, "unexpected argument 'stray'");
  expect_usage_failure({"train", "--bogus", "--out", out}, "unknown option --bogus");
  expect_usage_failure({"train", "--epochs", "abc", "--out", out}, "--epochs needs a whole number, not 'abc'");
  expect_usage_failure({"train", "--epochs", "0", "--out", out}, "--epochs must be between 1");
  expect_usage_failure({"train", "--batch", "12x", "--out", out}, "--batch needs a whole number");
  expect_usage_failure({"train", "--lr", "-1", "--out", out}, "--lr must be a positive number");
  expect_usage_failure({"train", "--validation", "1", "--out", out}, "--validation");
  expect_usage_failure({"train", "--backend", "cuda", "--out", out}, "--backend must be native, onednn or eigen");
  expect_usage_failure({"train", "--arch", "resnet", "--out", out}, "--arch takes mlp or cnn, not 'resnet'");
  expect_usage_failure({"train", "--lr-schedule", "cosine", "--out", out}, "--lr-schedule takes constant or linear");
  expect_usage_failure({"train", "--arch", "cnn", "--precision", "fp8", "--out", out}, "--precision takes f32 or bf16");
  expect_usage_failure({"train", "--precision", "bf16", "--out", out}, "--precision goes with --arch cnn");
  expect_usage_failure({"train", "--json=yes", "--out", out}, "--json takes no value");
  expect_usage_failure({"train", "--seed", "1", "--seed", "2", "--out", out}, "--seed is given twice");
  expect_usage_failure({"eval"}, "--model is required");
  expect_usage_failure({"predict", "--model", out}, "either --index N or --image FILE.pgm");
  expect_usage_failure({"predict", "--model", out, "--index", "1", "--image", "a.pgm"}, "either --index");
  expect_usage_failure({"predict", "--model", out, "--index", "-1"}, "--index must be between 0");
  expect_usage_failure({"predict", "--model", out, "--image", "a.pgm", "--data", "d"}, "--data goes with --index");
}

TEST_F(ClassifyCliTest, MissingFilesExitTwo) {
  const std::string model = path("model");
  write_sequential_model(model);
  std::filesystem::create_directories(dir_ / "empty");
  expect_usage_failure({"eval", "--model", path("absent.model")}, "absent.model does not exist");
  expect_usage_failure({"predict", "--model", path("absent.model"), "--index", "0"}, "does not exist");
  expect_usage_failure({"eval", "--model", model, "--data", path("nowhere")}, "Fashion-MNIST folder");
  expect_usage_failure({"eval", "--model", model, "--data", path("empty")}, "t10k-images-idx3-ubyte.gz: no such file");
  expect_usage_failure({"predict", "--model", model, "--image", path("absent.pgm")}, "absent.pgm: no such file");
  expect_usage_failure({"train", "--data", path("nowhere"), "--out", path("m")}, "Fashion-MNIST folder");
  expect_usage_failure({"train", "--out", path("no/such/folder/m")}, "does not exist");
  expect_usage_failure({"train", "--out", dir_.path().string()}, "it is a folder");
}

TEST_F(ClassifyCliTest, ModelOfAnotherKindExitsTwo) {
  io::ModelFile recommender;
  recommender.kind = "rec.ease";
  recommender.header = {{"items", 3}};
  recommender.tensors.push_back({"weights", Matrix::Zero(3, 3)});
  io::write_model_file(path("ease.model"), recommender);
  test_support::write_text(dir_ / "notes.txt", "not a model\n");
  write_sequential_model(path("small.model"), 5, 3);

  expect_usage_failure({"eval", "--model", path("ease.model")}, "rec.ease");
  expect_usage_failure({"predict", "--model", path("ease.model"), "--index", "0"}, "rec.ease");
  expect_usage_failure({"eval", "--model", path("notes.txt")}, "notes.txt");
  expect_usage_failure({"eval", "--model", path("small.model")}, "not 784 pixels to the 10 Fashion-MNIST classes");
  expect_usage_failure({"eval", "--model", dir_.path().string()}, "is a directory");
}

class ClassifyCliEndToEndTest : public ClassifyCliTest {
 protected:
  void SetUp() override {
    ClassifyCliTest::SetUp();
    std::filesystem::create_directories(dir_ / "data");
    write_set(dir_ / "data", "train", synthetic_images(300, 7));
    test_set_ = synthetic_images(50, 99);
    write_set(dir_ / "data", "t10k", test_set_);
  }

  std::vector<std::string> train_args(const std::string& model) const {
    return {"train", "--data", path("data"), "--epochs", "3", "--batch", "32", "--lr", "0.01",
            "--seed", "5", "--threads", "1", "--out", model};
  }

  io::LabeledImages test_set_;
};

// Sets an environment variable for one scope (the children std::system
// starts inherit it), then puts back what was there.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnvironment() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_F(ClassifyCliEndToEndTest, BadThreadCountInTheEnvironmentIsAUsageError) {
  auto args = train_args(path("fm.model"));
  args.erase(args.end() - 4, args.end() - 2);  // no --threads: the environment decides
  for (const char* value : {"abc", "0", "2x"}) {
    const ScopedEnvironment threads("AISLE_NUM_THREADS", value);
    expect_usage_failure(args, std::string("AISLE_NUM_THREADS='") + value + "'");
    EXPECT_FALSE(std::filesystem::exists(path("fm.model")));
  }
}

TEST_F(ClassifyCliEndToEndTest, TrainJsonEvalPredict) {
  auto args = train_args(path("fm.model"));
  args.insert(args.end(), {"--validation", "0.1", "--json"});
  const CliResult trained = run(args);
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  EXPECT_EQ(trained.err, "");
  const auto lines = lines_of(trained.out);
  ASSERT_EQ(lines.size(), 4u) << trained.out;
  for (int epoch = 1; epoch <= 3; ++epoch) {
    const auto object = nlohmann::json::parse(lines[static_cast<std::size_t>(epoch - 1)]);
    EXPECT_EQ(object.at("epoch"), epoch);
    for (const char* field : {"loss", "accuracy", "val_loss", "val_accuracy", "samples_per_s", "seconds"})
      EXPECT_TRUE(object.contains(field) && object.at(field).is_number()) << field << " in " << lines[0];
  }
  const auto final = nlohmann::json::parse(lines.back());
  EXPECT_EQ(final.at("final"), true);
  EXPECT_EQ(final.at("epochs"), 3);
  EXPECT_EQ(final.at("test_samples"), 50);
  EXPECT_GE(final.at("test_accuracy").get<double>(), 0.9);
  EXPECT_GT(final.at("train_seconds").get<double>(), 0.0);
  ASSERT_TRUE(std::filesystem::exists(path("fm.model")));

  const CliResult evaluated = run({"eval", "--model", path("fm.model"), "--data", path("data"), "--json"});
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  const auto report = nlohmann::json::parse(evaluated.out);
  EXPECT_NEAR(report.at("accuracy").get<double>(), final.at("test_accuracy").get<double>(), 1e-5);
  EXPECT_NEAR(report.at("loss").get<double>(), final.at("test_loss").get<double>(), 1e-4);
  ASSERT_EQ(report.at("per_class").size(), 10u);
  EXPECT_EQ(report.at("per_class")[9].at("name"), "Ankle boot");
  EXPECT_EQ(report.at("per_class")[9].at("support"), 5);
  ASSERT_EQ(report.at("confusion").size(), 10u);
  int total = 0, correct = 0;
  for (std::size_t r = 0; r < 10; ++r) {
    ASSERT_EQ(report.at("confusion")[r].size(), 10u);
    for (std::size_t c = 0; c < 10; ++c) total += report.at("confusion")[r][c].get<int>();
    correct += report.at("confusion")[r][r].get<int>();
  }
  EXPECT_EQ(total, 50);
  EXPECT_NEAR(report.at("accuracy").get<double>(), correct / 50.0, 1e-6);

  const CliResult text = run({"eval", "--model", path("fm.model"), "--data", path("data")});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(contains(text.out, "T-shirt/top")) << text.out;
  EXPECT_TRUE(contains(text.out, "confusion matrix")) << text.out;

  const CliResult predicted =
      run({"predict", "--model", path("fm.model"), "--index", "13", "--data", path("data"), "--json"});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  const auto top = nlohmann::json::parse(predicted.out);
  EXPECT_EQ(top.at("label"), 3);
  EXPECT_EQ(top.at("label_name"), "Dress");
  ASSERT_EQ(top.at("top").size(), 3u);
  EXPECT_GE(top.at("top")[0].at("probability").get<double>(), top.at("top")[1].at("probability").get<double>());
  EXPECT_GE(top.at("top")[1].at("probability").get<double>(), top.at("top")[2].at("probability").get<double>());
  EXPECT_EQ(top.at("top")[0].at("class"), 3);

  expect_usage_failure({"predict", "--model", path("fm.model"), "--index", "50", "--data", path("data")},
                       "beyond the test set, which has 50 images");
}

// The convolutional network trains, saves, evaluates and predicts through
// the same commands; its model file names its layers.
TEST_F(ClassifyCliEndToEndTest, CnnTrainsEvaluatesAndPredicts) {
  auto args = train_args(path("cnn.model"));
  args.insert(args.end(), {"--arch", "cnn", "--json"});
  const CliResult trained = run(args);
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const auto final = nlohmann::json::parse(lines_of(trained.out).back());
  EXPECT_GE(final.at("test_accuracy").get<double>(), 0.9);
  const auto model = Sequential::load(path("cnn.model"));
  ASSERT_EQ(model.layer_count(), 8u);
  EXPECT_EQ(model.layer(0).kind(), "conv2d");
  EXPECT_EQ(model.layer(1).kind(), "max_pool2d");
  EXPECT_EQ(model.layer(4).kind(), "flatten");
  const CliResult evaluated = run({"eval", "--model", path("cnn.model"), "--data", path("data"), "--json"});
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  EXPECT_NEAR(nlohmann::json::parse(evaluated.out).at("accuracy").get<double>(), final.at("test_accuracy").get<double>(), 1e-5);
  const CliResult predicted = run({"predict", "--model", path("cnn.model"), "--index", "13", "--data", path("data"), "--json"});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  EXPECT_EQ(nlohmann::json::parse(predicted.out).at("top").size(), 3u);
}

// embed writes each image's penultimate-layer vector, exactly the values a
// forward pass leaves at the input of the last layer.
TEST_F(ClassifyCliEndToEndTest, EmbedWritesPenultimateVectors) {
  ASSERT_EQ(run(train_args(path("fm.model"))).exit_code, 0);
  const std::string images = path("data") + "/t10k-images-idx3-ubyte.gz";
  const CliResult embedded = run({"embed", "--model", path("fm.model"), "--images", images, "--out", path("v.csv"), "--json"});
  ASSERT_EQ(embedded.exit_code, 0) << embedded.err;
  const auto summary = nlohmann::json::parse(embedded.out);
  EXPECT_EQ(summary.at("images"), 50);
  EXPECT_EQ(summary.at("dimensions"), 128);

  const auto model = Sequential::load(path("fm.model"));
  auto ws = model.make_workspace();
  const Matrix pixels = io::read_idx_images(images).pixels;  // the file's bytes, not test_set_'s floats
  model.forward(pixels, ws);
  const Matrix& expected = ws.layers[model.layer_count() - 2].output;
  std::ifstream csv(path("v.csv"));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line.rfind("image,e0,e1,", 0), 0u) << line;
  Index row = 0;
  while (std::getline(csv, line)) {
    std::stringstream fields(line);
    std::string field;
    std::getline(fields, field, ',');
    EXPECT_EQ(std::stoll(field), row);
    for (Index c = 0; c < expected.cols(); ++c) {
      ASSERT_TRUE(std::getline(fields, field, ',')) << "row " << row;
      EXPECT_EQ(std::stof(field), expected(row, c)) << "row " << row << " column " << c;
    }
    ++row;
  }
  EXPECT_EQ(row, 50);

  expect_usage_failure({"embed", "--model", path("fm.model"), "--images", path("absent.gz"), "--out", path("x.csv")},
                       "absent.gz");
  expect_usage_failure({"embed", "--model", path("fm.model"), "--out", path("x.csv")}, "--images");
  EXPECT_FALSE(std::filesystem::exists(path("x.csv")));
}

TEST_F(ClassifyCliEndToEndTest, PlainLinesAndPgmPrediction) {
  const CliResult trained = run(train_args(path("fm.model")));
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  EXPECT_TRUE(contains(trained.out, "Epoch 1/3")) << trained.out;
  EXPECT_TRUE(contains(trained.out, "Epoch 3/3")) << trained.out;
  EXPECT_TRUE(contains(trained.out, "test accuracy")) << trained.out;
  EXPECT_FALSE(contains(trained.out, "\r")) << "no progress bar without a terminal";

  // Test image 7 (a Sneaker) as a P5 file.
  std::string pgm = "P5\n# test image 7\n28 28\n255\n";
  for (Index p = 0; p < io::kFashionMnistPixels; ++p)
    pgm += static_cast<char>(static_cast<unsigned char>(test_set_.images(7, p) * 255.0f + 0.5f));
  test_support::write_text(dir_ / "sneaker.pgm", pgm);
  const CliResult predicted = run({"predict", "--model", path("fm.model"), "--image", path("sneaker.pgm")});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  const auto lines = lines_of(predicted.out);
  ASSERT_EQ(lines.size(), 4u) << predicted.out;
  EXPECT_TRUE(contains(lines[0], "sneaker.pgm")) << predicted.out;
  EXPECT_TRUE(contains(lines[1], "1. Sneaker")) << predicted.out;
  EXPECT_TRUE(contains(lines[3], "3. ")) << predicted.out;

  test_support::write_text(dir_ / "big.pgm", "P5 29 28 255\n" + std::string(29 * 28, '\0'));
  expect_usage_failure({"predict", "--model", path("fm.model"), "--image", path("big.pgm")},
                       "the image is 29x28 pixels, expected 28x28");
}

}  // namespace
}  // namespace aisle
