// Registries: names to factories, errors that list the known names, and a
// layer registered by a user that a saved model file can name.

#include <gtest/gtest.h>

#include "aisle/aisle.hpp"
#include "support/test_files.hpp"

namespace aisle {
namespace {

struct Shape {
  virtual ~Shape() = default;
  virtual int sides() const = 0;
};
struct Polygon final : Shape {
  explicit Polygon(int n) : n(n) {}
  int sides() const override { return n; }
  int n;
};

TEST(Registry, MakesByNameAndListsTheKnownNamesWhenOneIsMissing) {
  Registry<Shape, int> shapes("shape");
  shapes.add("polygon", [](int n) { return std::make_unique<Polygon>(n); });
  shapes.add("triangle", [](int) { return std::make_unique<Polygon>(3); });
  shapes.add("square", [](int) { return std::make_unique<Polygon>(4); });
  EXPECT_EQ(shapes.make("polygon", 7)->sides(), 7);
  EXPECT_EQ(shapes.make("square", 0)->sides(), 4);
  EXPECT_TRUE(shapes.contains("triangle"));
  EXPECT_FALSE(shapes.contains("circle"));
  EXPECT_EQ(shapes.names(), (std::vector<std::string>{"polygon", "square", "triangle"}));
  EXPECT_EQ(test_support::error_message<Error>([&] { shapes.make("circle", 1); }),
            "unknown shape 'circle' (expected polygon, square or triangle)");
  EXPECT_EQ(test_support::error_message<Error>([&] { shapes.add("square", [](int) { return nullptr; }); }),
            "a shape named 'square' is registered already");
}

TEST(Registry, BuiltInFamiliesKnowTheirTypes) {
  EXPECT_EQ(layer_registry().names(),
            (std::vector<std::string>{"conv2d", "dense", "dropout", "flatten", "gelu", "layer_norm", "max_pool2d", "relu",
                                      "softmax"}));
  EXPECT_EQ(loss_registry().names(),
            (std::vector<std::string>{"categorical_crossentropy", "mean_squared_error", "sparse_categorical_crossentropy"}));
  EXPECT_EQ(optimizer_registry().names(), (std::vector<std::string>{"adam", "sgd"}));
  auto kinds = rec::model_kinds();
  std::erase_if(kinds, [](const std::string& kind) { return kind.starts_with("test."); });  // other tests' own
  EXPECT_EQ(kinds, (std::vector<std::string>{"auto", "blend", "ease", "featknn", "featpop", "hybrid", "itemknn",
                                             "neural", "pop", "transformer"}));
  EXPECT_NE(test_support::error_message<Error>([] { Layer::from_config({{"type", "conv"}}); })
                .find("unknown layer 'conv' (expected conv2d, dense, dropout, flatten, gelu, layer_norm, max_pool2d, "
                      "relu or softmax)"),
            std::string::npos);
}

// y = x * factor, the factor saved in the layer's config.
class Scale final : public Layer {
 public:
  explicit Scale(float factor) : factor_(factor) {}
  std::string kind() const override { return "test_scale"; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Scale>(*this); }
  nlohmann::json config() const override { return {{"type", kind()}, {"factor", factor_}}; }

 private:
  Index output_size_for(Index input_size) const override { return input_size; }
  void forward_impl(const Backend&, ConstMatrixRef x, LayerState& state) const override { state.output = factor_ * x; }
  void backward_impl(const Backend&, ConstMatrixRef, LayerState& state, std::span<Matrix>,
                     const BackwardPlan& plan) const override {
    if (plan.need_input_gradient) state.grad_input = factor_ * state.grad_output;
  }
  float factor_;
};

TEST(Registry, AModelWithARegisteredLayerOfItsOwnSavesAndLoads) {
  if (!layer_registry().contains("test_scale"))
    layer_registry().add("test_scale", [](const nlohmann::json& config) {
      return std::make_unique<Scale>(config.at("factor").get<float>());
    });
  Sequential model({.seed = 3});
  model.add(Dense(4, Activation::relu, 3));
  model.add(Scale(2.5f));
  model.add(Dense(2, Activation::softmax));
  model.compile(Adam(), SparseCategoricalCrossentropy());
  const Matrix x = Matrix::Random(5, 3);
  const test_support::TempDir dir;
  model.save(dir / "scaled.model");
  const Sequential loaded = Sequential::load(dir / "scaled.model");
  EXPECT_EQ(loaded.layer(1).config(), model.layer(1).config());
  EXPECT_EQ(loaded.predict(x), model.predict(x));
}

}  // namespace
}  // namespace aisle
