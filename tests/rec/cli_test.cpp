#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "aisle/io/fashion_mnist.hpp"
#include "aisle/io/idx.hpp"
#include "classifier.hpp"
#include "support/interactions_csv.hpp"
#include "support/test_files.hpp"

namespace {

const std::string kBinary = AISLE_BINARY_DIR "/bin/aisle-recommend";

struct Run {
  int code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs aisle-recommend with args (a shell-quoted string), after environment
// assignments when given ("NAME=value"), and captures its output.
Run run(const aisle::test_support::TempDir& dir, const std::string& args, const std::string& environment = "") {
  const auto out = dir / "stdout.txt";
  const auto err = dir / "stderr.txt";
  const std::string command =
      environment + " '" + kBinary + "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
  const int status = std::system(command.c_str());
  Run r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

int lines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

class RecCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kBinary)) GTEST_SKIP() << kBinary << " is not built";
  }
  aisle::test_support::TempDir dir;
};

}  // namespace

TEST_F(RecCli, BadArgumentsExitWithTwoAndOneLine) {
  for (const std::string args :
       {"", "nonsense", "eval --protocol loo --model pop", "eval --data /nonexistent --protocol loo --model pop",
        "eval --data . --protocol kfold --model pop", "fit --data . --model pop", "recommend --model /nonexistent --user u",
        "eval --data . --protocol loo --model pop --frobnicate", "similar --model x --item y --k zero"}) {
    const auto r = run(dir, args);
    EXPECT_EQ(r.code, 2) << args;
    if (!args.empty()) {
      EXPECT_EQ(lines(r.err), 1) << args << ": " << r.err;
    }
  }
}

TEST_F(RecCli, FitWithAnHnswIndexSavesItBesideTheModelAndServesFromIt) {
  const auto data = dir / "shop";
  ASSERT_EQ(run(dir, "synth --out '" + data.string() + "' --users 200 --items 80 --seed 4").code, 0);
  const auto model = dir / "shop.model";
  auto r = run(dir, "fit --data '" + data.string() + "' --model neural --hidden 16 --epochs 1 --index hnsw "
                    "--index-links 8 --index-ef-search 100 --progress --out '" + model.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("hnsw index built"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "shop.model.hnsw"));
  r = run(dir, "recommend --model '" + model.string() + "' --user shopper-000003 --k 5 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["items"].size(), 5u) << r.out;
  r = run(dir, "fit --data '" + data.string() + "' --model neural --index annoy --out x");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--index takes none or hnsw"), std::string::npos) << r.err;
  r = run(dir, "fit --data '" + data.string() + "' --model ease --l2 10 --index hnsw --out '" + (dir / "e.model").string() + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not inner products"), std::string::npos) << r.err;
}

// Whole-number options reach the model as typed: a seed (unsigned), the
// sampled softmax's negatives (-1 allowed), and a bad value is the model's
// one-line refusal.
TEST_F(RecCli, NeuralTakesSeedAndNegatives) {
  const auto data = dir / "shop";
  ASSERT_EQ(run(dir, "synth --out '" + data.string() + "' --users 150 --items 60 --seed 4").code, 0);
  auto r = run(dir, "eval --data '" + data.string() + "' --protocol loo --model neural --hidden 8 --epochs 1 "
                    "--seed 3 --negatives 16 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto params = nlohmann::json::parse(r.out)["params"];
  EXPECT_EQ(params["seed"], 3) << r.out;
  EXPECT_EQ(params["negatives"], 16) << r.out;
  r = run(dir, "eval --data '" + data.string() + "' --protocol loo --model neural --negatives -1 --epochs 0 --json");
  EXPECT_EQ(r.code, 0) << r.err;
  r = run(dir, "eval --data '" + data.string() + "' --protocol loo --model neural --negatives -2");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("negatives >= -1"), std::string::npos) << r.err;
  r = run(dir, "eval --data '" + data.string() + "' --protocol loo --model neural --seed -1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not below 0"), std::string::npos) << r.err;
}

TEST_F(RecCli, SynthWritesAFixedNumberOfRowsAndStatsCountsThem) {
  const auto data = dir / "rows";
  auto r = run(dir, "synth --out '" + data.string() + "' --users 50 --items 2000 --interactions 1000");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(": 1000 interactions, 50 shoppers"), std::string::npos) << r.out;
  EXPECT_EQ(lines(slurp(data / "interactions.csv")), 1001);
  r = run(dir, "stats --data '" + data.string() + "' --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto stats = nlohmann::json::parse(r.out);
  EXPECT_EQ(stats["users"], 50);
  EXPECT_GT(stats["items"].get<int>(), 100);
  EXPECT_LE(stats["items"].get<int>(), 1000);
  EXPECT_LE(stats["interactions"].get<int>(), 1000);  // repeats of a (shopper, item) pair count once
  EXPECT_GT(stats["interactions"].get<int>(), 700);
  EXPECT_EQ(stats["features"], 12);
  r = run(dir, "synth --out '" + data.string() + "' --users 50 --interactions 49");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--interactions must be at least 50"), std::string::npos) << r.err;
}

TEST_F(RecCli, SynthFitEvalAndQueries) {
  const auto data = dir / "shop";
  ASSERT_EQ(run(dir, "synth --out '" + data.string() + "' --users 300 --items 80 --seed 3").code, 0);
  EXPECT_NE(slurp(data / "README.md").find("SYNTHETIC"), std::string::npos);

  auto r = run(dir, "eval --data '" + data.string() + "' --protocol loo --model ease --l2 20 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  for (const auto* key : {"dataset", "protocol", "model", "params", "users", "metrics", "fit_s", "query_ms"})
    EXPECT_TRUE(report.contains(key)) << key;
  EXPECT_TRUE(report["metrics"].contains("HR@10"));
  EXPECT_TRUE(report["metrics"].contains("NDCG@10"));
  EXPECT_EQ(report["dataset"], "shop");

  r = run(dir, "eval --data '" + data.string() + "' --protocol users --model itemknn --neighbours 20");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Recall@20 "), std::string::npos);
  EXPECT_NE(r.out.find("NDCG@100  "), std::string::npos);

  // cold: new items ranked from their features, with the protocol's metrics.
  r = run(dir, "eval --data '" + data.string() + "' --protocol cold --model featknn --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto cold = nlohmann::json::parse(r.out);
  EXPECT_EQ(cold["protocol"], "cold");
  EXPECT_GT(cold["users"].get<int>(), 0);
  EXPECT_TRUE(cold["metrics"].contains("Recall@20"));
  EXPECT_TRUE(cold["metrics"].contains("NDCG@20"));
  std::filesystem::remove(data / "items.csv");
  r = run(dir, "eval --data '" + data.string() + "' --protocol cold --model featpop");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("the cold protocol needs item features (items.csv)"), std::string::npos) << r.err;
  ASSERT_EQ(run(dir, "synth --out '" + data.string() + "' --users 300 --items 80 --seed 3").code, 0);

  // --progress: time-stamped lines on stderr, here the l2 tuning's.
  r = run(dir, "fit --data '" + data.string() + "' --model ease --progress --out '" + (dir / "tuned.aisle").string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("s] ease: l2 "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.rfind("[", 0), 0u) << r.err;

  const auto model = dir / "shop.aisle";
  r = run(dir, "fit --data '" + data.string() + "' --model ease --l2 20 --out '" + model.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string m = "--model '" + model.string() + "'";
  r = run(dir, "recommend " + m + " --history item-00001,item-00002,ghost --k 5");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out), 5);
  EXPECT_NE(r.err.find("ghost"), std::string::npos);
  r = run(dir, "recommend " + m + " --user shopper-000001 --k 3 --exclude item-00004 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["items"].size(), 3u);
  const auto allow = dir.write("allow.txt", "item-00007\n# comment\nitem-00009\n");
  r = run(dir, "recommend " + m + " --history item-00001 --allow '" + allow.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LE(lines(r.out), 2);
  r = run(dir, "similar " + m + " --item item-00001 --k 4");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out), 4);
  r = run(dir, "explain " + m + " --history item-00001,item-00002 --item item-00003 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["contributions"].size(), 2u);
  r = run(dir, "explain " + m + " --history item-00001,item-00002,ghost --item item-00003");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("item-00003 scores ", 0), 0u) << r.out;
  EXPECT_EQ(lines(r.out), 3) << r.out;  // the score, then one line per known history item
  EXPECT_NE(r.out.find("%\n"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("unknown items skipped: ghost"), std::string::npos) << r.err;

  // --feature keeps the items that have it, from the catalogue's items.csv;
  // with --allow, the items on both lists.
  std::set<std::string> in_category, other_items;
  std::istringstream catalogue(slurp(data / "items.csv"));
  std::string line;
  std::getline(catalogue, line);  // the header
  while (std::getline(catalogue, line))
    (line.ends_with(",category:c02") ? in_category : other_items).insert(line.substr(0, line.find(',')));
  ASSERT_GE(in_category.size(), 2u);
  in_category.erase("item-00001");
  r = run(dir, "recommend " + m + " --history item-00001 --feature category:c02 --k 80 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto by_feature = nlohmann::json::parse(r.out);
  std::set<std::string> recommended;
  for (const auto& entry : by_feature["items"]) recommended.insert(entry["item"].get<std::string>());
  EXPECT_EQ(recommended, in_category);
  const std::string one_of_them = *in_category.begin();
  const auto both = dir.write("both.txt", one_of_them + "\n" + *other_items.begin() + "\n");
  r = run(dir, "recommend " + m + " --history item-00005 --feature category:c02 --allow '" + both.string() + "' --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto allowed = nlohmann::json::parse(r.out)["items"];
  ASSERT_EQ(allowed.size(), 1u) << r.out;
  EXPECT_EQ(allowed[0]["item"], one_of_them);

  EXPECT_EQ(run(dir, "similar " + m + " --item ghost").code, 2);
  EXPECT_EQ(run(dir, "recommend " + m + " --user a --history b").code, 2);
}

// Model flags come from each model's option schema: --l2-grid takes a list,
// a flag of another model is refused by name, --help lists every model's.
// --sep '\t' reads tab-separated files.
TEST_F(RecCli, ModelFlagsFromTheOptionSchemasAndTabSeparatedData) {
  const auto data = dir / "tabs";
  std::filesystem::create_directories(data);
  std::string rows = "user\titem\ttimestamp\n";
  for (int u = 0; u < 40; ++u) {
    for (int i = 0; i < 6; ++i) {
      // Appended piece by piece: GCC 12 warns (-Wrestrict, falsely) on a long concatenation.
      rows.append("u").append(std::to_string(u)).append("\ti").append(std::to_string((u + i * 3) % 25));
      rows.append("\t").append(std::to_string(100 + i)).append("\n");
    }
  }
  dir.write("tabs/interactions.csv", rows);
  auto r = run(dir, "eval --data '" + data.string() + "' --sep '\\t' --protocol loo --model ease --l2-grid 5,50 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["params"]["l2_grid"], (nlohmann::json{5.0, 50.0}));
  EXPECT_TRUE(report["params"]["l2"] == 5.0 || report["params"]["l2"] == 50.0) << report["params"];

  r = run(dir, "eval --data '" + data.string() + "' --sep '\\t' --protocol loo --model ease --neighbours 3");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("ease model has no option 'neighbours'"), std::string::npos) << r.err;
  r = run(dir, "eval --data '" + data.string() + "' --sep '\\t' --protocol loo --model ease --l2-grid 5,x");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--l2-grid expects numbers separated by commas"), std::string::npos) << r.err;
  r = run(dir, "eval --data '" + data.string() + "' --sep ab --protocol loo --model pop");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--sep expects one character"), std::string::npos) << r.err;

  r = run(dir, "--help");
  EXPECT_EQ(r.code, 0);
  for (const char* flag : {"--l2-grid", "--neighbours", "--hidden", "--validate, --no-validate", "pop: no options"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;

  // A boolean on by default (the transformer's validate) is turned off by --no-NAME.
  const std::string transformer = "eval --data '" + data.string() +
                                  "' --sep '\\t' --protocol loo --json --model transformer --epochs 1 --dim 8 ";
  r = run(dir, transformer + "--no-validate");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["params"]["validate"], false);
  r = run(dir, transformer);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["params"]["validate"], true);
  r = run(dir, transformer + "--validate --no-validate");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--validate and --no-validate contradict each other"), std::string::npos) << r.err;
}

TEST_F(RecCli, AddItemsGrowsAModelFromAnItemsFile) {
  const auto data = dir / "shop";
  ASSERT_EQ(run(dir, "synth --out '" + data.string() + "' --users 200 --items 40 --seed 5").code, 0);
  const auto model = (dir / "knn.aisle").string(), grown = (dir / "grown.aisle").string();
  ASSERT_EQ(run(dir, "fit --data '" + data.string() + "' --model featknn --out '" + model + "'").code, 0);
  const auto items = dir.write("new.csv", "item,feature\nnew-1,category:c02\nnew-1,colour:teal\nitem-00001,category:c01\n");
  auto r = run(dir, "add-items --model '" + model + "' --items '" + items.string() + "' --out '" + grown + "' --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["added"], 1);
  EXPECT_EQ(report["items"], 41);
  EXPECT_EQ(report["unknown_features"], nlohmann::json::array({"colour:teal"}));
  EXPECT_EQ(report["known_items"], nlohmann::json::array({"item-00001"}));
  // The new item is recommended to a shopper of its category.
  r = run(dir, "recommend --model '" + grown + "' --history item-00001 --feature category:c02 --k 50 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"new-1\""), std::string::npos) << r.out;
  // A model that reads no features: exit 2, one line, no file written.
  ASSERT_EQ(run(dir, "fit --data '" + data.string() + "' --model pop --out '" + model + "'").code, 0);
  r = run(dir, "add-items --model '" + model + "' --items '" + items.string() + "' --out '" + (dir / "x.aisle").string() + "'");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("pop model: it reads no item features"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.aisle"));
}

namespace {

// A stand-in for Fashion-MNIST's test set (20 images, labels 0..9 twice) in
// dir/fashion, and an untrained classifier in dir/classifier.aisle: the test
// compares the CLI's resolved features with the classifier's own predictions.
struct FakePhotos {
  aisle::Matrix pixels;
  aisle::Sequential classifier;
};

FakePhotos write_fake_photos(const aisle::test_support::TempDir& dir) {
  FakePhotos photos{aisle::Matrix(20, aisle::io::kFashionMnistPixels), classify::build_classic_model(3, {}, 1e-3f)};
  aisle::Labels labels(20);
  for (aisle::Index n = 0; n < 20; ++n) {
    labels(n) = static_cast<int>(n % 10);
    for (aisle::Index p = 0; p < photos.pixels.cols(); ++p)
      photos.pixels(n, p) = static_cast<float>((n * 37 + p * 11 + (p / 28) * n) % 256) / 255.0f;
  }
  std::filesystem::create_directories(dir / "fashion");
  aisle::io::write_idx_images(dir / "fashion/t10k-images-idx3-ubyte", photos.pixels, 28, 28);
  aisle::io::write_idx_labels(dir / "fashion/t10k-labels-idx1-ubyte", labels);
  photos.classifier.save(dir / "classifier.aisle");
  return photos;
}

}  // namespace

TEST_F(RecCli, ImageFeaturesResolveToPredictedClasses) {
  const auto photos = write_fake_photos(dir);
  const auto data = dir / "shop", classifier = dir / "classifier.aisle";
  auto r = run(dir, "synth --images --fashion-mnist '" + (dir / "fashion").string() + "' --users 80 --items 30 --out '" +
                        data.string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  // The photos travel with the store, bit for bit (pixels are bytes / 255).
  const auto copied = aisle::io::read_idx_images(data / "item-images-idx3-ubyte.gz");
  EXPECT_TRUE(copied.pixels == photos.pixels);

  // The classes the classifier predicts for the photos items.csv names.
  const auto probabilities = classify::class_probabilities(photos.classifier, photos.pixels);
  std::set<std::string> classes;
  std::istringstream items(slurp(data / "items.csv"));
  std::string line, first_image;
  std::getline(items, line);  // header
  while (std::getline(items, line)) {
    const auto image = line.substr(line.find(',') + 1);
    ASSERT_EQ(image.rfind("image:", 0), 0u) << line;
    if (first_image.empty()) first_image = image;
    aisle::Index predicted = 0;
    probabilities.row(std::stoi(image.substr(6))).maxCoeff(&predicted);
    classes.insert(std::string(aisle::io::kFashionMnistClassNames[static_cast<std::size_t>(predicted)]));
  }
  const auto with_classifier = " --image-classifier '" + classifier.string() + "'";
  r = run(dir, "stats --data '" + data.string() + "' --json" + with_classifier);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["features"], classes.size());

  // A new product with a photo an item already has: its class is known.
  const auto model = (dir / "pop.aisle").string(), grown = (dir / "grown.aisle").string();
  ASSERT_EQ(run(dir, "fit --data '" + data.string() + "' --model featpop --out '" + model + "'" + with_classifier).code, 0);
  const auto new_items = dir.write("new.csv", "item,feature\nnew-1," + first_image + "\n");
  const auto photos_file = " --item-images '" + (data / "item-images-idx3-ubyte.gz").string() + "'";
  r = run(dir, "add-items --model '" + model + "' --items '" + new_items.string() + "' --out '" + grown + "' --json" +
                   with_classifier + photos_file);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["added"], 1);
  EXPECT_EQ(nlohmann::json::parse(r.out)["unknown_features"], nlohmann::json::array());

  // A photo the file does not have: exit 2, one line naming the feature.
  const auto bad_items = dir.write("bad.csv", "item,feature\nnew-2,image:20\n");
  r = run(dir, "add-items --model '" + model + "' --items '" + bad_items.string() + "' --out '" + grown + "'" +
                   with_classifier + photos_file);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("'image:20'"), std::string::npos) << r.err;
  r = run(dir, "stats --data '" + data.string() + "'" + photos_file);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--item-images goes with --image-classifier"), std::string::npos) << r.err;
}

TEST_F(RecCli, AutoAndBlendFromTheCommandLine) {
  const auto data = dir / "shop";
  ASSERT_EQ(run(dir, "synth --out '" + data.string() + "' --users 200 --items 60 --seed 5").code, 0);
  const std::string on_shop = "eval --data '" + data.string() + "' --protocol loo --json ";
  auto r = run(dir, on_shop + "--model auto --candidates pop,itemknn,ease");
  ASSERT_EQ(r.code, 0) << r.err;
  auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["model"], "auto");
  EXPECT_EQ(report["params"]["candidates"], (nlohmann::json{"pop", "itemknn", "ease"}));
  EXPECT_EQ(report["params"]["validation"].size(), 3u);
  EXPECT_TRUE(report["params"].contains("choice")) << report["params"];

  r = run(dir, on_shop + "--model auto --candidates pop,itemknn --no-blend");
  ASSERT_EQ(r.code, 0) << r.err;
  report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["params"]["choice"]["models"].size(), 1u);
  EXPECT_FALSE(report["params"].contains("blends"));

  r = run(dir, on_shop + "--model blend --models itemknn,ease --weights 0.25,0.75");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["params"]["models"], (nlohmann::json{"itemknn", "ease"}));

  r = run(dir, on_shop + "--model auto --candidates pop,nonesuch");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nonesuch"), std::string::npos) << r.err;
}

// EASE's items x items matrices are refused before they are allocated, with
// the bytes needed and the models that fit; auto skips EASE and goes on.
TEST_F(RecCli, EaseRefusesACatalogueThatCannotFitInMemory) {
  const auto data = dir / "shop";
  ASSERT_EQ(run(dir, "synth --out '" + data.string() + "' --users 200 --items 60 --seed 5").code, 0);
  const std::string on_shop = "eval --data '" + data.string() + "' --protocol loo --json ";
  auto r = run(dir, on_shop + "--model ease --l2 10", "AISLE_MEMORY_LIMIT=10K");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("ease on 60 items needs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("itemknn"), std::string::npos) << r.err;
  EXPECT_EQ(run(dir, on_shop + "--model ease --l2 10", "AISLE_MEMORY_LIMIT=1M").code, 0);

  r = run(dir, on_shop + "--model auto --candidates pop,itemknn,ease", "AISLE_MEMORY_LIMIT=10K");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto validation = nlohmann::json::parse(r.out)["params"]["validation"];
  ASSERT_EQ(validation.size(), 3u) << validation;
  EXPECT_EQ(validation[2]["model"], "ease");
  EXPECT_NE(validation[2].value("skipped", "").find("needs"), std::string::npos) << validation;

  r = run(dir, on_shop + "--model ease --l2 10", "AISLE_MEMORY_LIMIT=lots");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("AISLE_MEMORY_LIMIT"), std::string::npos) << r.err;
}
