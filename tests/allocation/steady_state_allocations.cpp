// Heap allocations in the steady state, malloc included (not only operator
// new). The native backend makes none: not in a training step, not in a
// batched or single-sample predict. With the other backends single-sample
// predict makes none, and batched calls allocate only inside the
// matrix-product kernels: Eigen takes its packing buffers (one per operand)
// from malloc when they exceed its stack limit, and oneDNN 2.6 allocates
// inside each primitive execution (see aisle-bench's allocs/iter). aisle's
// own code around them allocates nothing once warm.

#include <gtest/gtest.h>

#include "aisle/aisle.hpp"
#include "support/classic_model.hpp"
#include "support/malloc_counter.hpp"
#include "support/synthetic.hpp"

namespace aisle {
namespace {

// Steps counted after the warm-up.
constexpr std::uint64_t kSteps = 5;

template <class Step>
std::uint64_t allocations_of(const Step& step) {
  for (int i = 0; i < 3; ++i) step();  // warm-up: buffers, primitives, thread teams
  const auto before = test_support::heap_allocations();
  for (std::uint64_t i = 0; i < kSteps; ++i) step();
  return test_support::heap_allocations() - before;
}

TEST(SteadyStateAllocations, CounterSeesAllocations) {
  const auto before = test_support::heap_allocations();
  auto* p = new Matrix(64, 64);
  delete p;
  EXPECT_GE(test_support::heap_allocations() - before, 2u);  // the object and its storage
}

// With the Eigen backend the only allocations are Eigen's packing buffers, at
// most two per matrix product (the packed left and right operands; which of
// them outgrow Eigen's 128 KiB stack limit depends on its blocking for the
// CPU: 8 a step with AVX2, 10 with AVX-512): a step has 8 products (3 forward,
// 3 weight gradients, 2 input gradients), a predict 3. Anything aisle
// allocated on top would exceed that.
TEST(SteadyStateAllocations, EigenBatchesAllocateOnlyInMatrixProducts) {
  const auto data = test_support::separable_classes(128, 784, 10, 5);
  Sequential model = test_support::classic_model(3, BackendKind::eigen);
  const Targets y(data.y);
  constexpr std::uint64_t kStepProducts = 8, kPredictProducts = 3, kBuffersPerProduct = 2;
  EXPECT_LE(allocations_of([&] { model.train_on_batch(data.x, y); }),
            kSteps * kStepProducts * kBuffersPerProduct);
  Workspace ws = model.make_workspace();
  Matrix out;
  EXPECT_LE(allocations_of([&] { model.predict(data.x, out, ws); }),
            kSteps * kPredictProducts * kBuffersPerProduct);
}

TEST(SteadyStateAllocations, NativeTrainingStepAndPredictAllocateNothing) {
  const auto data = test_support::separable_classes(128, 784, 10, 5);
  Sequential model = test_support::classic_model(3, BackendKind::native);
  const Targets y(data.y);
  EXPECT_EQ(allocations_of([&] { model.train_on_batch(data.x, y); }), 0u);
  Workspace ws = model.make_workspace();
  Matrix out;
  EXPECT_EQ(allocations_of([&] { model.predict(data.x, out, ws); }), 0u);
}

TEST(SteadyStateAllocations, SingleSamplePredictWithEveryBackend) {
  const auto data = test_support::separable_classes(1, 784, 10, 6);
  for (BackendKind backend : {BackendKind::eigen, BackendKind::onednn, BackendKind::native}) {
    const Sequential model = test_support::classic_model(3, backend);
    Workspace ws = model.make_workspace();
    Matrix out;
    EXPECT_EQ(allocations_of([&] { model.predict(data.x, out, ws); }), 0u) << to_string(backend);
  }
}

}  // namespace
}  // namespace aisle
