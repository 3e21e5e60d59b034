// aisle's kernels, the classic 784-128-128-10 model and the convolutional
// network of aisle-classify --arch cnn under Google Benchmark.
// Every benchmark reports GFLOP/s (matrix-product FLOP) and allocations per
// iteration, for every backend (backend:2 native, 0 oneDNN, 1 Eigen). Input
// rows come from Fashion-MNIST when AISLE_BENCH_DATA names its folder, else
// from seeded noise of the same shape.
//
//   build/bin/aisle-bench --benchmark_filter=TrainStep
//   AISLE_NUM_THREADS=1 build/bin/aisle-bench --benchmark_filter=Predict

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <exception>
#include <iostream>

#include "classic_workload.hpp"
#include "classifier.hpp"
#include "malloc_counter.hpp"

namespace aisle {
namespace {

using bench::classic_model;
using bench::kForwardFlop;
using bench::kTrainFlop;

const io::LabeledImages& sample_data() {
  static const io::LabeledImages data = bench::training_rows(std::getenv("AISLE_BENCH_DATA"));
  return data;
}

void report(benchmark::State& state, double flop_per_iteration, std::uint64_t allocations_before,
            double samples_per_iteration) {
  const double iterations = static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] =
      benchmark::Counter(flop_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["samples/s"] =
      benchmark::Counter(samples_per_iteration, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["allocs/iter"] = static_cast<double>(test_support::heap_allocations() - allocations_before) / iterations;
}

// The classic model's first layer, 784 -> 128 with ReLU.
Dense first_classic_layer() {
  Dense dense(128, Activation::relu, 784);
  Rng rng(1);
  dense.build(784, rng);
  return dense;
}

BackendKind kind_of(const benchmark::State& state) { return static_cast<BackendKind>(state.range(0)); }

void BM_DenseForward(benchmark::State& state) {
  const Backend& kernels = backend(kind_of(state));
  const Index batch = state.range(1);
  const Dense dense = first_classic_layer();
  const auto x = sample_data().images.topRows(batch);
  LayerState layer_state;
  dense.forward(kernels, x, layer_state);
  const auto before = test_support::heap_allocations();
  for (auto _ : state) {
    dense.forward(kernels, x, layer_state);
    benchmark::DoNotOptimize(layer_state.output.data());
  }
  report(state, 2.0 * batch * 784 * 128, before, static_cast<double>(batch));
}

void BM_DenseBackward(benchmark::State& state) {
  const Backend& kernels = backend(kind_of(state));
  const Index batch = state.range(1);
  const Dense dense = first_classic_layer();
  const auto x = sample_data().images.topRows(batch);
  LayerState layer_state;
  dense.forward(kernels, x, layer_state);
  const Matrix upstream = Matrix::Constant(batch, 128, 0.01f);
  std::vector<Matrix> grads(2);
  layer_state.grad_output = upstream;
  dense.backward(kernels, x, layer_state, grads);
  const auto before = test_support::heap_allocations();
  for (auto _ : state) {
    layer_state.grad_output = upstream;
    dense.backward(kernels, x, layer_state, grads);
    benchmark::DoNotOptimize(grads[0].data());
  }
  // Weight gradient and input gradient.
  report(state, 4.0 * batch * 784 * 128, before, static_cast<double>(batch));
}

void BM_TrainStep(benchmark::State& state) {
  const Index batch = state.range(1);
  Sequential model = classic_model(kind_of(state));
  const bench::Batches batches = bench::training_batches(sample_data(), batch);
  const std::vector<Matrix>& xs = batches.x;
  const std::vector<Targets>& ys = batches.y;
  for (std::size_t i = 0; i < xs.size(); ++i) model.train_on_batch(xs[i], ys[i]);
  const auto before = test_support::heap_allocations();
  std::size_t next = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(model.train_on_batch(xs[next], ys[next]));
    next = (next + 1) % xs.size();
  }
  report(state, kTrainFlop * static_cast<double>(batch), before, static_cast<double>(batch));
}

// A training step of aisle-classify's CNN (conv 32 3x3 - pool - conv 64 3x3 -
// pool - dense 128 - dropout - dense 10), as --arch cnn trains it.
void BM_CnnTrainStep(benchmark::State& state) {
  const Index batch = state.range(1);
  Sequential model = classify::build_cnn_model(1, kind_of(state), 1e-3f);
  const bench::Batches batches = bench::training_batches(sample_data(), batch);
  for (std::size_t i = 0; i < std::min<std::size_t>(batches.x.size(), 4); ++i)
    model.train_on_batch(batches.x[i], batches.y[i]);
  const auto before = test_support::heap_allocations();
  std::size_t next = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(model.train_on_batch(batches.x[next], batches.y[next]));
    next = (next + 1) % batches.x.size();
  }
  report(state, bench::kCnnTrainFlop * static_cast<double>(batch), before, static_cast<double>(batch));
}

void BM_Predict(benchmark::State& state) {
  const Index batch = state.range(1);
  const Sequential model = classic_model(kind_of(state));
  const Matrix x = sample_data().images.topRows(batch);
  Workspace ws = model.make_workspace();
  Matrix out;
  model.predict(x, out, ws);
  const auto before = test_support::heap_allocations();
  for (auto _ : state) {
    model.predict(x, out, ws);
    benchmark::DoNotOptimize(out.data());
  }
  report(state, kForwardFlop * static_cast<double>(batch), before, static_cast<double>(batch));
}

void BM_AdamStep(benchmark::State& state) {
  Sequential model = classic_model(BackendKind::native);
  Gradients grads = model.make_gradients();
  for (auto& g : grads.tensors) g.setConstant(0.001f);
  model.apply_gradients(grads);
  const auto before = test_support::heap_allocations();
  for (auto _ : state) model.apply_gradients(grads);
  report(state, 0.0, before, 0.0);
  state.counters["params"] = static_cast<double>(model.parameter_count());
}

constexpr auto kOneDnn = static_cast<long>(BackendKind::onednn);
constexpr auto kEigen = static_cast<long>(BackendKind::eigen);
constexpr auto kNative = static_cast<long>(BackendKind::native);

void backend_and_batches(benchmark::internal::Benchmark* b, std::initializer_list<long> batches) {
  b->ArgNames({"backend", "batch"});
  for (long kind : {kNative, kOneDnn, kEigen})
    for (long batch : batches) b->Args({kind, batch});
  b->UseRealTime();
}

BENCHMARK(BM_DenseForward)->Apply([](auto* b) { backend_and_batches(b, {1, 32, 128, 256}); });
BENCHMARK(BM_DenseBackward)->Apply([](auto* b) { backend_and_batches(b, {1, 32, 128, 256}); });
BENCHMARK(BM_TrainStep)->Apply([](auto* b) { backend_and_batches(b, {32, 128, 256}); });
BENCHMARK(BM_CnnTrainStep)->Apply([](auto* b) { backend_and_batches(b, {128}); });
BENCHMARK(BM_AdamStep)->UseRealTime();
BENCHMARK(BM_Predict)->Apply([](auto* b) { backend_and_batches(b, {1, 256}); });

}  // namespace
}  // namespace aisle

int main(int argc, char** argv) {
  // Load the data before any benchmark runs, so that a bad AISLE_BENCH_DATA
  // is one readable line and exit code 2, not an abort mid-run.
  try {
    aisle::sample_data();
  } catch (const std::exception& e) {
    std::cerr << "aisle-bench: " << e.what() << '\n';
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
