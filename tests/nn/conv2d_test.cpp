// Conv2D on every backend: outputs against a direct convolution written
// out in loops (double), gradients of the input, the weights and the bias
// against central differences, for 'same' and 'valid' padding, strides 1
// and 2 and several channels; the config's round trip; refusals.

#include <gtest/gtest.h>

#include <tuple>

#include "aisle/core/error.hpp"
#include "aisle/nn/conv2d.hpp"
#include "aisle/nn/sequential.hpp"
#include "support/backends.hpp"
#include "support/gradient_check.hpp"

namespace aisle {
namespace {

struct ConvCase {
  const char* name;
  Conv2DOptions options;
};

const ConvCase kCases[] = {
    {"same_stride1", {.input = {5, 6, 2}, .filters = 3, .kernel = 3, .stride = 1, .padding = Padding::same}},
    {"valid_stride1", {.input = {5, 6, 2}, .filters = 3, .kernel = 3, .stride = 1, .padding = Padding::valid}},
    {"same_stride2", {.input = {7, 6, 3}, .filters = 2, .kernel = 3, .stride = 2, .padding = Padding::same}},
    {"valid_stride2_even_kernel", {.input = {6, 7, 1}, .filters = 4, .kernel = 2, .stride = 2, .padding = Padding::valid}},
    {"same_even_kernel", {.input = {4, 5, 2}, .filters = 2, .kernel = 4, .stride = 1, .padding = Padding::same}},
};

Conv2D built(const Conv2DOptions& options, std::uint64_t seed = 3) {
  Conv2D conv(options);
  Rng rng(seed);
  conv.build(options.input.size(), rng);
  conv.parameters()[1] = test_support::random_matrix(1, options.filters, seed + 1, 0.5f);  // a non-zero bias
  return conv;
}

// The convolution by its definition, with TensorFlow's 'same' padding.
Matrix direct_convolution(const Conv2D& conv, const Matrix& x) {
  const auto& o = conv.options();
  const auto out = conv.output_shape();
  const Index k = o.kernel, c = o.input.channels;
  Index pad_top = 0, pad_left = 0;
  if (o.padding == Padding::same) {
    pad_top = std::max<Index>((out.height - 1) * o.stride + k - o.input.height, 0) / 2;
    pad_left = std::max<Index>((out.width - 1) * o.stride + k - o.input.width, 0) / 2;
  }
  Matrix y(x.rows(), out.size());
  for (Index b = 0; b < x.rows(); ++b)
    for (Index oy = 0; oy < out.height; ++oy)
      for (Index ox = 0; ox < out.width; ++ox)
        for (Index f = 0; f < o.filters; ++f) {
          double sum = conv.bias()(0, f);
          for (Index ky = 0; ky < k; ++ky)
            for (Index kx = 0; kx < k; ++kx) {
              const Index iy = oy * o.stride + ky - pad_top, ix = ox * o.stride + kx - pad_left;
              if (iy < 0 || iy >= o.input.height || ix < 0 || ix >= o.input.width) continue;
              for (Index ch = 0; ch < c; ++ch)
                sum += double{x(b, (iy * o.input.width + ix) * c + ch)} * conv.weight()((ky * k + kx) * c + ch, f);
            }
          if (o.activation == Activation::relu) sum = std::max(sum, 0.0);
          y(b, (oy * out.width + ox) * o.filters + f) = static_cast<float>(sum);
        }
  return y;
}

class Conv2DTest : public ::testing::TestWithParam<std::tuple<BackendKind, ConvCase>> {
 protected:
  const Backend& be() const { return backend(std::get<0>(GetParam())); }
  const Conv2DOptions& options() const { return std::get<1>(GetParam()).options; }
};

TEST_P(Conv2DTest, ForwardEqualsTheDirectConvolution) {
  for (const auto activation : {Activation::none, Activation::relu}) {
    auto o = options();
    o.activation = activation;
    const Conv2D conv = built(o);
    const Matrix x = test_support::random_matrix(3, o.input.size(), 11);
    LayerState state;
    conv.forward(be(), x, state);
    ASSERT_EQ(state.output.rows(), 3);
    ASSERT_EQ(state.output.cols(), conv.output_shape().size());
    test_support::expect_close(state.output, direct_convolution(conv, x), 1e-4, "conv2d output");
  }
}

TEST_P(Conv2DTest, GradientsMatchFiniteDifferences) {
  Conv2D conv = built(options());
  Matrix x = test_support::random_matrix(2, options().input.size(), 21);
  const Matrix r = test_support::random_matrix(2, conv.output_shape().size(), 22);
  LayerState scratch;
  const auto objective = [&] {
    conv.forward(be(), x, scratch);
    return test_support::weighted_sum(scratch.output, r);
  };
  LayerState state;
  conv.forward(be(), x, state);
  state.grad_output = r;
  std::vector<Matrix> grads(2);
  conv.backward(be(), x, state, grads);
  test_support::expect_gradient_matches(state.grad_input, test_support::numeric_gradient(x, objective, 1e-2f), 2e-3, "dx");
  test_support::expect_gradient_matches(grads[0], test_support::numeric_gradient(conv.parameters()[0], objective, 1e-2f),
                                        2e-3, "dweight");
  test_support::expect_gradient_matches(grads[1], test_support::numeric_gradient(conv.parameters()[1], objective, 1e-2f),
                                        2e-3, "dbias");
}

TEST_P(Conv2DTest, ReluGradientIsZeroWhereTheOutputIs) {
  auto o = options();
  o.activation = Activation::relu;
  const Conv2D conv = built(o);
  auto linear_options = o;
  linear_options.activation = Activation::none;
  Conv2D linear(linear_options);
  Rng rng(0);
  linear.build(o.input.size(), rng);
  linear.parameters()[0] = conv.weight();
  linear.parameters()[1] = conv.bias();
  const Matrix x = test_support::random_matrix(2, o.input.size(), 31);
  const Matrix r = test_support::random_matrix(2, conv.output_shape().size(), 32);
  LayerState relu_state, linear_state;
  conv.forward(be(), x, relu_state);
  linear.forward(be(), x, linear_state);
  relu_state.grad_output = r;
  linear_state.grad_output = (relu_state.output.array() > 0).select(r, 0.0f);  // ReLU's backward, by hand
  std::vector<Matrix> relu_grads(2), linear_grads(2);
  conv.backward(be(), x, relu_state, relu_grads);
  linear.backward(be(), x, linear_state, linear_grads);
  test_support::expect_close(relu_state.grad_input, linear_state.grad_input, 1e-5, "dx");
  test_support::expect_close(relu_grads[0], linear_grads[0], 1e-5, "dweight");
}

std::string case_name(const ::testing::TestParamInfo<std::tuple<BackendKind, ConvCase>>& info) {
  return std::string(to_string(std::get<0>(info.param))) + "_" + std::get<1>(info.param).name;
}

INSTANTIATE_TEST_SUITE_P(BackendsAndShapes, Conv2DTest,
                         ::testing::Combine(test_support::all_backends(), ::testing::ValuesIn(kCases)), case_name);

// At the CNN's own shapes (many channels: oneDNN's blocked JIT kernels, not
// the small cases' paths), every backend's forward and backward agree with
// Eigen's, for a batch of one and a batch of several, repeated calls on the
// same state included (plans and im2col matrices reused).
TEST(Conv2D, EveryBackendAgreesWithEigenAtTheCnnShapes) {
  const Conv2DOptions shapes[] = {
      {.input = {14, 14, 32}, .filters = 64, .kernel = 3, .padding = Padding::same, .activation = Activation::relu},
      {.input = {28, 28, 1}, .filters = 32, .kernel = 3, .padding = Padding::valid, .activation = Activation::relu}};
  for (const auto& options : shapes) {
    const Conv2D conv = built(options, 7);
    for (const Index batch : {Index{1}, Index{5}}) {
      const Matrix x = test_support::random_matrix(batch, options.input.size(), 51);
      const Matrix dy = test_support::random_matrix(batch, conv.output_shape().size(), 52);
      LayerState reference;
      std::vector<Matrix> reference_grads(2);
      conv.forward(backend(BackendKind::eigen), x, reference);
      reference.grad_output = dy;
      conv.backward(backend(BackendKind::eigen), x, reference, reference_grads);
      for (const BackendKind kind : {BackendKind::onednn, BackendKind::native}) {
        LayerState state;
        for (int call = 0; call < 2; ++call) {
          std::vector<Matrix> grads(2);
          conv.forward(backend(kind), x, state);
          state.grad_output = dy;
          conv.backward(backend(kind), x, state, grads);
          // Float sums in other orders: 2e-3 of the value, of 0.1 near zero.
          const std::string where = std::string(to_string(kind)) + " batch " + std::to_string(batch);
          test_support::expect_close(state.output, reference.output, 2e-3, (where + " output").c_str(), 0.1);
          test_support::expect_close(state.grad_input, reference.grad_input, 2e-3, (where + " dx").c_str(), 0.1);
          test_support::expect_close(grads[0], reference_grads[0], 2e-3, (where + " dweight").c_str(), 0.1);
          test_support::expect_close(grads[1], reference_grads[1], 2e-3, (where + " dbias").c_str(), 0.1);
        }
      }
    }
  }
}

// bf16 products round inputs, weights and output gradients to 8 bits of
// mantissa (a relative error of 2^-9 each) and sum in f32: the results stay
// within 1% of the f32 reference, as a whole (a Frobenius-norm ratio; single
// values that cancel to near zero move more). Backends without bf16 compute
// in f32 and pass trivially.
TEST(Conv2D, Bf16ProductsStayWithinAPercentOfF32OnEveryBackend) {
  // No ReLU: outputs near 0 that the rounding moves across it would change
  // which gradients pass, a difference of the activation, not the products.
  Conv2DOptions options{.input = {14, 14, 32}, .filters = 64, .kernel = 3};
  const Conv2D f32 = built(options, 9);
  options.bf16_products = true;
  Conv2D bf16 = built(options, 9);
  ASSERT_EQ(bf16.weight(), f32.weight());
  const Matrix x = test_support::random_matrix(4, options.input.size(), 61);
  const Matrix dy = test_support::random_matrix(4, f32.output_shape().size(), 62);
  LayerState reference;
  std::vector<Matrix> reference_grads(2);
  f32.forward(backend(BackendKind::eigen), x, reference);
  reference.grad_output = dy;
  f32.backward(backend(BackendKind::eigen), x, reference, reference_grads);
  const auto relative = [](const Matrix& a, const Matrix& b) { return (a - b).norm() / b.norm(); };
  for (const BackendKind kind : {BackendKind::onednn, BackendKind::native, BackendKind::eigen}) {
    LayerState state;
    std::vector<Matrix> grads(2);
    bf16.forward(backend(kind), x, state);
    state.grad_output = dy;
    bf16.backward(backend(kind), x, state, grads);
    EXPECT_LT(relative(state.output, reference.output), 1e-2) << to_string(kind);
    EXPECT_LT(relative(state.grad_input, reference.grad_input), 1e-2) << to_string(kind);
    EXPECT_LT(relative(grads[0], reference_grads[0]), 1e-2) << to_string(kind);
    EXPECT_LT(relative(grads[1], reference_grads[1]), 1e-2) << to_string(kind);
  }
}

TEST(Conv2D, PrecisionRoundTripsThroughTheConfig) {
  const Conv2D conv({.input = {8, 8, 4}, .filters = 16, .bf16_products = true});
  EXPECT_EQ(conv.config().at("precision"), "bf16");
  const auto restored = Layer::from_config(conv.config());
  EXPECT_TRUE(dynamic_cast<const Conv2D&>(*restored).options().bf16_products);
  auto older = conv.config();
  older.erase("precision");  // model files from before the option: f32
  EXPECT_FALSE(dynamic_cast<const Conv2D&>(*Layer::from_config(older)).options().bf16_products);
  older["precision"] = "fp8";
  EXPECT_THROW(Layer::from_config(older), Error);
}

TEST(Conv2D, ConfigRoundTripsThroughTheRegistry) {
  const Conv2D conv({.input = {28, 28, 1}, .filters = 32, .kernel = 5, .stride = 2, .padding = Padding::valid,
                     .activation = Activation::relu});
  const auto restored = Layer::from_config(conv.config());
  ASSERT_EQ(restored->kind(), "conv2d");
  const auto& back = dynamic_cast<const Conv2D&>(*restored);
  EXPECT_EQ(back.config(), conv.config());
  EXPECT_EQ(back.output_shape(), (ImageShape{12, 12, 32}));
  EXPECT_EQ(Conv2D({.input = {28, 28, 1}, .filters = 8}).output_shape(), (ImageShape{28, 28, 8}));
}

TEST(Conv2D, RefusesShapesThatMakeNoOutput) {
  EXPECT_THROW(Conv2D({.input = {2, 2, 1}, .kernel = 3, .padding = Padding::valid}), Error);
  EXPECT_THROW(Conv2D({.input = {0, 2, 1}}), Error);
  EXPECT_THROW(Conv2D({.input = {4, 4, 1}, .filters = 0}), Error);
  EXPECT_THROW(Conv2D({.input = {4, 4, 1}, .activation = Activation::softmax}), Error);
  EXPECT_THROW(Layer::from_config({{"type", "conv2d"}, {"input", {{"height", 4}, {"width", 4}}}, {"filters", 2}, {"kernel", 3}}),
               Error);
  EXPECT_THROW(Layer::from_config({{"type", "conv2d"},
                                   {"input", {{"height", 4}, {"width", 4}, {"channels", 1}}},
                                   {"filters", 2},
                                   {"kernel", 3},
                                   {"padding", "full"}}),
               Error);
  EXPECT_THROW(Conv2D({.input = {100000, 4, 1}}), Error);  // a model file's config asking for too much
  EXPECT_THROW(Conv2D({.input = {4096, 4096, 64}}), Error);
  EXPECT_THROW(Conv2D({.input = {4, 4, 4096}, .filters = 4096, .kernel = 7}), Error);
  Conv2D conv({.input = {4, 4, 1}, .filters = 2});
  Rng rng(0);
  EXPECT_THROW(conv.build(15, rng), Error);
}

}  // namespace
}  // namespace aisle
