// Measures the machine's fused multiply-add peak in GFLOP/s on N threads
// (AISLE_NUM_THREADS or the first argument): independent FMA chains on the
// widest float vectors the compiler targets (-march=native). Prints one number.

#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

#if defined(__AVX512F__)
constexpr int kLanes = 16;
#elif defined(__AVX__)
constexpr int kLanes = 8;
#else
constexpr int kLanes = 4;
#endif
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));

// Enough independent chains to cover the FMA latency times the FMA ports.
constexpr int kChains = 16;
constexpr long kIterations = 20'000'000;

float run_chains(float seed) {
  Vec acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = Vec{} + seed * static_cast<float>(c + 1);
  const Vec a = Vec{} + 0.999999f, b = Vec{} + 1e-7f;
  for (long i = 0; i < kIterations; ++i)
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = acc[c] * a + b;
  float sum = 0;
  for (int c = 0; c < kChains; ++c)
    for (int l = 0; l < kLanes; ++l) sum += acc[c][l];
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 0;
  if (threads <= 0 && std::getenv("AISLE_NUM_THREADS")) threads = std::atoi(std::getenv("AISLE_NUM_THREADS"));
  if (threads <= 0) threads = omp_get_num_procs();
  float sink = 0;
  const auto start = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
  sink += run_chains(1.0f + static_cast<float>(omp_get_thread_num()));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double flop = 2.0 * kLanes * kChains * static_cast<double>(kIterations) * threads;
  std::printf("%.1f\n", flop / seconds * 1e-9);
  return sink == 12345.0f ? 1 : 0;
}
