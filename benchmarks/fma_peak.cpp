// Measures the machine's fused multiply-add peak in GFLOP/s on N threads
// (the first argument, else aisle's own count: AISLE_NUM_THREADS capped at the
// processors, else every processor): each
// thread runs independent FMA chains on the widest float vectors the CPU has
// (AVX-512 or AVX2, chosen at run time, since oneDNN's JIT does the same).
// Prints one number: the best of a few timed runs. With --slices N, instead
// times N slices of about a millisecond on every thread and prints the
// spread of their rates (fastest, 10th, 50th, 90th, 99th percentile): how
// steady the cores' arithmetic is on a shared machine. With --avx2, 256-bit
// vectors even where AVX-512 is available: the peak of code that does not use
// the 512-bit units (for comparing with figures quoted for such code).

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "aisle/core/error.hpp"
#include "aisle/core/threads.hpp"

namespace {

constexpr long kIterations = 20'000'000;
constexpr long kSliceIterations = 500'000;  // about 1 ms of AVX2 chains at 3 GHz

// FMA chains on Lanes-wide vectors: Chains cover the FMA latency times the
// FMA ports while the accumulators and the two constants stay in registers
// (16 ymm, 32 zmm): spilling one would halve the rate. Inlined into the
// wrappers below, which pick the instruction set (a * b + c contracts to an
// FMA: -ffp-contract=fast). Returns the FLOP it executed.
template <int Lanes>
struct FloatVector;
template <>
struct FloatVector<8> {
  typedef float type __attribute__((vector_size(32)));
};
template <>
struct FloatVector<16> {
  typedef float type __attribute__((vector_size(64)));
};

template <int Lanes, int Chains>
[[gnu::always_inline]] inline double chains_flop(float seed, long iterations) {
  using Vec = typename FloatVector<Lanes>::type;
  Vec acc[Chains];
  for (int c = 0; c < Chains; ++c) acc[c] = Vec{} + seed * static_cast<float>(c + 1);
  const Vec a = Vec{} + 0.999999f, b = Vec{} + 1e-7f;
  for (long i = 0; i < iterations; ++i)
#pragma GCC unroll 32
    for (int c = 0; c < Chains; ++c) acc[c] = acc[c] * a + b;
  Vec sum = acc[0];
  for (int c = 1; c < Chains; ++c) sum += acc[c];
  volatile float sink = sum[0];  // keeps the chains alive
  (void)sink;
  return 2.0 * Lanes * Chains * static_cast<double>(iterations);
}

__attribute__((target("avx512f"))) double avx512_flop(float seed, long iterations) {
  return chains_flop<16, 24>(seed, iterations);
}
__attribute__((target("avx2,fma"))) double avx2_flop(float seed, long iterations) {
  return chains_flop<8, 12>(seed, iterations);
}

bool force_avx2 = false;

double run_chains(float seed, long iterations = kIterations) {
  if (!force_avx2 && __builtin_cpu_supports("avx512f")) return avx512_flop(seed, iterations);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return avx2_flop(seed, iterations);
  std::fprintf(stderr, "aisle-fma-peak: this CPU has neither AVX-512 nor AVX2+FMA\n");
  std::exit(2);
}

double measure_gflops(int threads) {
  double flop = 0;
  const auto start = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : flop)
  flop += run_chains(1.0f + static_cast<float>(omp_get_thread_num()));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return flop / seconds * 1e-9;
}

}  // namespace

// GFLOP/s of each of `slices` slices on every thread, all threads pooled.
std::vector<double> slice_rates(int threads, long slices) {
  std::vector<double> rates(static_cast<std::size_t>(threads * slices));
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    for (long s = 0; s < slices; ++s) {
      const auto start = std::chrono::steady_clock::now();
      const double flop = run_chains(1.0f + static_cast<float>(t), kSliceIterations);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      rates[static_cast<std::size_t>(t * slices + s)] = flop / seconds * 1e-9;
    }
  }
  return rates;
}

void print_slice_spread(int threads, long slices) {
  std::vector<double> rates = slice_rates(threads, slices);
  std::sort(rates.begin(), rates.end(), std::greater<>());
  const auto at = [&](double q) { return rates[static_cast<std::size_t>(q * static_cast<double>(rates.size() - 1))]; };
  std::printf("GFLOP/s per thread over %ld slices on each of %d threads: fastest %.1f, p10 %.1f, median %.1f, "
              "p90 %.1f, p99 %.1f\n",
              slices, threads, rates.front(), at(0.1), at(0.5), at(0.9), at(0.99));
}

// text as a positive whole number, or 0 when it is anything else.
long positive_or_zero(const char* text) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  return end != text && *end == '\0' && value > 0 ? value : 0;
}

[[noreturn]] void usage_error(const char* what, const char* text) {
  std::fprintf(stderr, "aisle-fma-peak: %s '%s' (usage: aisle-fma-peak [THREADS] [--slices N] [--avx2])\n", what, text);
  std::exit(2);
}

// AISLE_NUM_THREADS or the processors, read by the rule aisle's kernels use.
int threads_aisle_uses() {
  try {
    return aisle::num_threads();
  } catch (const aisle::Error& e) {
    std::fprintf(stderr, "aisle-fma-peak: %s\n", e.what());
    std::exit(2);
  }
}

int main(int argc, char** argv) {
  int threads = 0;
  long slices = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--avx2") == 0) {
      force_avx2 = true;
    } else if (std::strcmp(argv[i], "--slices") == 0) {
      const char* count = i + 1 < argc ? argv[++i] : "";
      if ((slices = positive_or_zero(count)) == 0) usage_error("--slices takes a positive whole number, not", count);
    } else if ((threads = static_cast<int>(positive_or_zero(argv[i]))) == 0) {
      usage_error("unexpected argument", argv[i]);
    }
  }
  if (threads == 0) threads = threads_aisle_uses();
  if (slices > 0) {
    print_slice_spread(threads, slices);
    return 0;
  }
  double best = 0;
  for (int run = 0; run < 3; ++run) best = std::max(best, measure_gflops(threads));
  std::printf("%.1f\n", best);
  return 0;
}
