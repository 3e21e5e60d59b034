#include "aisle/core/threads.hpp"

#include <omp.h>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <mutex>
#include <string>

#include "aisle/core/error.hpp"
#include "core/thread_binding.hpp"

namespace aisle {
namespace {

int default_thread_count() {
  if (const char* env = std::getenv("AISLE_NUM_THREADS"))
    return detail::cap_to_processors(detail::parse_thread_count(env, "AISLE_NUM_THREADS"));
  return omp_get_num_procs();
}

std::atomic<int> g_threads{0};
std::once_flag g_init;

void apply(int n) {
  g_threads = n;
  omp_set_num_threads(n);
  Eigen::setNbThreads(n);
}

}  // namespace

int num_threads() {
  std::call_once(g_init, [] {
    if (g_threads == 0) apply(default_thread_count());
  });
  return g_threads;
}

void set_num_threads(int n) {
  std::call_once(g_init, [] {});
  apply(n > 0 ? detail::cap_to_processors(n) : default_thread_count());
}

}  // namespace aisle

namespace aisle::detail {

int parse_thread_count(std::string_view text, std::string_view source) {
  int n = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, n);
  if (text.empty() || error != std::errc{} || stop != end || n <= 0)
    throw Error(std::string(source) + "='" + std::string(text) + "': expected a positive whole number of threads");
  return n;
}

int cap_to_processors(int requested) { return std::min(requested, omp_get_num_procs()); }

// OpenMP keeps its thread count per calling thread: a request thread of a
// server starts from the environment's default, not from set_num_threads().
void bind_thread_count() {
  const int n = num_threads();
  if (!omp_in_parallel() && omp_get_max_threads() != n) omp_set_num_threads(n);
}

namespace {

#if defined(__SSE__)
constexpr unsigned kFlushDenormals = 0x8040;  // FTZ (bit 15) | DAZ (bit 6)
unsigned read_control() { return _mm_getcsr(); }
void write_control(unsigned value) { _mm_setcsr(value); }
#else
constexpr unsigned kFlushDenormals = 0;
unsigned read_control() { return 0; }
void write_control(unsigned) {}
#endif

// libgomp keeps a worker team per calling thread; set the flags on this
// thread's workers once per team size.
void flush_denormals_on_workers(int threads) {
  thread_local int prepared_team = 0;
  if (kFlushDenormals == 0 || prepared_team == threads || omp_in_parallel()) return;
#pragma omp parallel num_threads(threads)
  write_control(read_control() | kFlushDenormals);
  prepared_team = threads;
}

}  // namespace

ComputeScope::ComputeScope() : saved_control_(read_control()) {
  bind_thread_count();
  write_control(saved_control_ | kFlushDenormals);
  flush_denormals_on_workers(num_threads());
}

ComputeScope::~ComputeScope() { write_control(saved_control_); }

}  // namespace aisle::detail
