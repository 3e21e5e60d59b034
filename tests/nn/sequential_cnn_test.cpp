// A small convolutional network in Sequential: the whole model's gradients
// against finite differences on every backend, a save/load round trip bit
// for bit, and eight threads predicting what one does.

#include <functional>
#include <thread>

#include "aisle/nn/conv2d.hpp"
#include "aisle/nn/flatten.hpp"
#include "aisle/nn/max_pool2d.hpp"
#include "support/backends.hpp"
#include "support/sequential_helpers.hpp"

namespace aisle {
namespace {

using namespace test_support;

// 6x6x2 images -> conv 3 filters 3x3 same, ReLU -> max pool 2 -> conv 2
// filters 2x2 valid -> flatten -> dense 3 softmax.
Sequential tiny_cnn(std::uint64_t seed, BackendKind kind) {
  Sequential model({.seed = seed, .backend = kind});
  const Conv2D first({.input = {6, 6, 2}, .filters = 3, .kernel = 3, .activation = Activation::relu});
  const MaxPool2D pool({.input = first.output_shape(), .pool = 2});
  model.add(first);
  model.add(pool);
  model.add(Conv2D({.input = pool.output_shape(), .filters = 2, .kernel = 2, .padding = Padding::valid}));
  model.add(Flatten());
  model.add(Dense(3, Activation::softmax));
  model.compile(Adam(), SparseCategoricalCrossentropy(), {Metric::accuracy});
  return model;
}

Labels labels_for(Index n) {
  Labels y(n);
  for (Index i = 0; i < n; ++i) y(i) = static_cast<int>(i % 3);
  return y;
}

class SequentialCnn : public ::testing::TestWithParam<BackendKind> {};

TEST_P(SequentialCnn, WholeModelGradientsMatchFiniteDifferences) {
  Sequential model = tiny_cnn(7, GetParam());
  Matrix x = random_matrix(4, 72, 61);
  const Targets y(labels_for(4));
  Workspace ws = model.make_workspace();
  Gradients grads = model.make_gradients();
  model.forward(x, ws);
  model.backward(ws, y, grads, true);
  const Matrix dx = ws.input_gradient();
  auto probe = std::make_shared<Workspace>(model.make_workspace());
  const auto objective = [&] {
    model.forward(x, *probe);
    std::size_t signature = 0;
    for (const LayerState& state : probe->layers) signature = sign_signature(state.output, signature);
    return PiecewiseValue{static_cast<double>(model.loss(*probe, y)), signature};
  };
  const auto params = model.parameters();
  Index skipped = 0;
  for (std::size_t i = 0; i < params.size(); ++i)
    expect_gradient_matches(grads.tensors[i], numeric_gradient_off_kinks(*params[i], objective, 1e-2f, grads.tensors[i], skipped),
                            2e-3, ("parameter " + std::to_string(i)).c_str());
  // A smaller step for the input: a pixel moved by 1e-2 can change which one
  // a pooling window takes, a kink the ReLU sign signature does not see.
  expect_gradient_matches(dx, numeric_gradient_off_kinks(x, objective, 1e-3f, dx, skipped), 2e-3, "input");
}

INSTANTIATE_TEST_SUITE_P(Backends, SequentialCnn, all_backends());

TEST(SequentialCnn, SaveLoadRoundTripGivesBitIdenticalPredictions) {
  Sequential model = tiny_cnn(8, BackendKind::native);
  const Matrix x = random_matrix(30, 72, 62);
  model.fit(x, labels_for(30), {.epochs = 2, .batch_size = 8});
  const auto path = temp_path("cnn.model");
  model.save(path);
  Sequential loaded = Sequential::load(path);
  std::filesystem::remove(path);
  loaded.set_backend(model.backend_kind());
  ASSERT_EQ(loaded.layer_count(), model.layer_count());
  for (std::size_t i = 0; i < model.layer_count(); ++i) EXPECT_EQ(loaded.layer(i).config(), model.layer(i).config());
  EXPECT_TRUE(same_bits(loaded.predict(x), model.predict(x)));
}

TEST(SequentialCnn, PredictFromEightThreadsEqualsSerial) {
  Sequential model = tiny_cnn(9, BackendKind::native);
  const Matrix x = random_matrix(200, 72, 63);
  model.fit(x, labels_for(200), {.epochs = 1, .batch_size = 32});
  const Sequential& frozen = model;
  const Matrix serial = frozen.predict(x);
  std::vector<Matrix> results(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 3; ++repeat) results[static_cast<std::size_t>(t)] = frozen.predict(x, 1 + 17 * t);
    });
  for (auto& thread : threads) thread.join();
  for (const Matrix& r : results) expect_close(r, serial, 1e-5, "threaded predict", 1e-6);
}

}  // namespace
}  // namespace aisle
