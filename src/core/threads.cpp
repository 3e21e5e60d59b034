#include "aisle/core/threads.hpp"

#include <omp.h>

#include <Eigen/Core>
#include <atomic>
#include <cstdlib>
#include <mutex>

namespace aisle {
namespace {

int default_thread_count() {
  if (const char* env = std::getenv("AISLE_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
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
  apply(n > 0 ? n : default_thread_count());
}

}  // namespace aisle

namespace aisle::detail {

// OpenMP keeps its thread count per calling thread: a request thread of a
// server starts from the environment's default, not from set_num_threads().
void bind_thread_count() {
  const int n = num_threads();
  if (!omp_in_parallel() && omp_get_max_threads() != n) omp_set_num_threads(n);
}

}  // namespace aisle::detail
