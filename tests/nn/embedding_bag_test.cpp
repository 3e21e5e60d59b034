// EmbeddingBag: forward equals the dense product of the weighted multi-hot
// matrix with E (plus b, through the activation); gradients against finite
// differences on every backend, repeated ids included; bad bags refused.

#include <gtest/gtest.h>

#include "aisle/nn/embedding_bag.hpp"
#include "support/backends.hpp"
#include "support/gradient_check.hpp"
#include "support/test_files.hpp"

namespace aisle {
namespace {

// Three bags over 6 ids; the last holds id 4 twice.
struct SmallBags {
  std::vector<Index> offsets{0, 2, 3, 6};
  std::vector<Index> ids{1, 4, 0, 4, 5, 4};
  std::vector<float> weights{0.5f, -1.0f, 2.0f, 0.25f, 1.5f, 0.75f};
  WeightedBags view() const { return {offsets, ids, weights}; }
  // The same bags as a dense [bags x ids] matrix.
  Matrix dense(Index rows) const {
    Matrix x = Matrix::Zero(static_cast<Index>(offsets.size()) - 1, rows);
    for (std::size_t r = 0; r + 1 < offsets.size(); ++r)
      for (auto i = offsets[r]; i < offsets[r + 1]; ++i)
        x(static_cast<Index>(r), ids[static_cast<std::size_t>(i)]) += weights[static_cast<std::size_t>(i)];
    return x;
  }
};

class EmbeddingBagTest : public ::testing::TestWithParam<BackendKind> {};

TEST_P(EmbeddingBagTest, ForwardIsTheWeightedMultiHotTimesEPlusB) {
  const SmallBags bags;
  Rng rng(5);
  for (const auto activation : {Activation::none, Activation::relu}) {
    EmbeddingBag layer({.rows = 6, .dim = 4, .activation = activation}, rng);
    layer.parameters()[1] = test_support::random_matrix(1, 4, 9);
    LayerState state;
    layer.forward(backend(GetParam()), bags.view(), state);
    Matrix expected = (bags.dense(6) * layer.weight()).rowwise() + layer.bias().row(0);
    if (activation == Activation::relu) expected = expected.cwiseMax(0.0f);
    test_support::expect_close(state.output, expected, 1e-5, "forward");
  }
}

TEST_P(EmbeddingBagTest, GradientsMatchFiniteDifferences) {
  const SmallBags bags;
  Rng rng(6);
  EmbeddingBag layer({.rows = 6, .dim = 5, .activation = Activation::relu}, rng);
  layer.parameters()[1] = test_support::random_matrix(1, 5, 10, 0.5f);
  const Matrix r = test_support::random_matrix(3, 5, 11);
  const Backend& be = backend(GetParam());
  LayerState probe;
  auto objective = [&] {
    layer.forward(be, bags.view(), probe);
    return test_support::PiecewiseValue{test_support::weighted_sum(probe.output, r),
                                        test_support::sign_signature(probe.pre_activation)};
  };
  LayerState state;
  layer.forward(be, bags.view(), state);
  state.grad_output = r;
  std::vector<Matrix> grads(2);
  layer.backward(be, bags.view(), state, grads);
  for (std::size_t p = 0; p < 2; ++p) {
    Index skipped = 0;
    const Matrix numeric =
        test_support::numeric_gradient_off_kinks(layer.parameters()[p], objective, 1e-2f, grads[p], skipped);
    test_support::expect_gradient_matches(grads[p], numeric, 1e-3, p == 0 ? "dE" : "db");
  }
  // Rows no bag holds get no gradient, and clear_gradient zeroes the others.
  EXPECT_TRUE(grads[0].row(2).isZero() && grads[0].row(3).isZero());
  EmbeddingBag::clear_gradient(bags.view(), grads[0]);
  EXPECT_TRUE(grads[0].isZero());
}

INSTANTIATE_TEST_SUITE_P(Backends, EmbeddingBagTest, test_support::all_backends());

TEST(EmbeddingBag, RefusesBadBagsAndShapesNamingThem) {
  Rng rng(1);
  const EmbeddingBag layer({.rows = 6, .dim = 2}, rng);
  const Backend& be = backend(BackendKind::eigen);
  LayerState state;
  const auto message = [&](std::vector<Index> offsets, std::vector<Index> ids, std::vector<float> weights) {
    return test_support::error_message<Error>([&] { layer.forward(be, {offsets, ids, weights}, state); });
  };
  EXPECT_EQ(message({0, 1}, {6}, {1.0f}), "EmbeddingBag: id 6 outside 0..5");
  EXPECT_EQ(message({0, 1}, {-1}, {1.0f}), "EmbeddingBag: id -1 outside 0..5");
  EXPECT_EQ(message({0, 2}, {1, 2}, {1.0f}), "EmbeddingBag: 2 ids but 1 weights");
  EXPECT_EQ(message({0, 3}, {1, 2}, {1.0f, 1.0f}), "EmbeddingBag: bag offsets must rise from 0 to the number of ids");
  EXPECT_THROW(EmbeddingBag({.rows = 0, .dim = 2}, rng), Error);
  EXPECT_THROW(EmbeddingBag({.rows = 3, .dim = 2, .activation = Activation::softmax}, rng), Error);
  EXPECT_THROW(EmbeddingBag(Matrix::Zero(3, 2), Matrix::Zero(1, 3), Activation::none), Error);
}

TEST(EmbeddingBag, ForwardFromManyThreadsEqualsSerial) {
  Rng rng(2);
  const EmbeddingBag layer({.rows = 50, .dim = 16, .activation = Activation::relu}, rng);
  std::vector<Index> offsets{0}, ids;
  std::vector<float> weights;
  for (Index b = 0; b < 40; ++b) {
    for (Index i = 0; i <= b % 7; ++i) {
      ids.push_back((b * 13 + i * 7) % 50);
      weights.push_back(0.1f * static_cast<float>(i + 1));
    }
    offsets.push_back(static_cast<Index>(ids.size()));
  }
  const WeightedBags bags{offsets, ids, weights};
  const Backend& be = backend(BackendKind::native);
  LayerState serial;
  layer.forward(be, bags, serial);
  std::vector<std::thread> threads;
  std::vector<Matrix> outputs(8);
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      LayerState mine;
      layer.forward(be, bags, mine);
      outputs[static_cast<std::size_t>(t)] = mine.output;
    });
  for (auto& t : threads) t.join();
  for (const auto& output : outputs) EXPECT_EQ(output, serial.output);
}

}  // namespace
}  // namespace aisle
