// Sequential across threads: the same seed, data and threads give the same bits; concurrent predicts
// equal serial ones; calls inside the caller's OpenMP region.

#include <omp.h>

#include <thread>

#include "support/sequential_helpers.hpp"

namespace aisle {
namespace {

using namespace test_support;

TEST(Sequential, SameSeedDataAndThreadsGiveBitIdenticalWeights) {
  const auto data = test_support::separable_classes(500, 784, 10, 9);
  auto train = [&] {
    Sequential model = classic_model(11);
    model.fit(data.x, data.y, {.epochs = 2, .batch_size = 64, .seed = 3});
    return model;
  };
  const Sequential a = train(), b = train();
  const auto pa = a.parameters(), pb = b.parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i)
    EXPECT_EQ(0, std::memcmp(pa[i]->data(), pb[i]->data(), sizeof(float) * pa[i]->size())) << "parameter " << i;
  const Sequential c = classic_model(12);
  EXPECT_NE(*a.parameters()[0], *c.parameters()[0]);
}

TEST(Sequential, PredictFromEightThreadsEqualsSerial) {
  const auto data = test_support::separable_classes(400, 784, 10, 13);
  Sequential model = classic_model(5);
  model.fit(data.x, data.y, {.epochs = 1, .batch_size = 64});
  const Sequential& frozen = model;
  const Matrix serial = frozen.predict(data.x);
  std::vector<Matrix> results(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 5; ++repeat) results[t] = frozen.predict(data.x, 1 + 37 * t);
    });
  for (auto& thread : threads) thread.join();
  for (const Matrix& r : results) test_support::expect_close(r, serial, 1e-5, "threaded predict", 1e-6);
}

// A caller's own OpenMP region: the library's parallel regions inside it run
// on one thread each (nested parallelism is off by default), which must
// still finish, with the same results. (Before its GEMM let any thread pack
// any group, this hung: each thread waited for the others' packing.)
TEST(Sequential, PredictAndTrainInsideTheCallersOpenMpRegion) {
  const auto data = test_support::separable_classes(200, 784, 10, 14);
  Sequential model = classic_model(6), twin = classic_model(6);
  const Matrix serial = std::as_const(model).predict(data.x);
  std::vector<Matrix> inside(2);
#pragma omp parallel num_threads(2)
  inside[static_cast<std::size_t>(omp_get_thread_num())] = std::as_const(model).predict(data.x);
  for (const Matrix& m : inside) test_support::expect_close(m, serial, 1e-5, "predict inside a parallel region", 1e-6);
  const Targets y(data.y);
  model.train_on_batch(data.x, y);
#pragma omp parallel num_threads(2)
#pragma omp single
  twin.train_on_batch(data.x, y);
  test_support::expect_close(*twin.parameters()[0], *model.parameters()[0], 1e-5, "training inside a parallel region", 1e-6);
}

}  // namespace
}  // namespace aisle
