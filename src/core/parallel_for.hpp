#pragma once

// The one way aisle runs a loop on several threads outside the backend's
// kernels. Each helper binds aisle's thread count to the calling thread
// first (OpenMP keeps it per calling thread, so a server's request thread
// would otherwise start from the environment's default) and then runs the
// loop on an OpenMP team. Denormal flushing belongs to detail::ComputeScope,
// which the compute entry points (fit, predict) hold for their whole call.
//
// Bodies must not throw: an exception cannot leave an OpenMP region. Work
// that can fail runs each iteration through IterationErrors.

#include <omp.h>

#include <algorithm>
#include <exception>
#include <vector>

#include "aisle/core/tensor.hpp"
#include "core/thread_binding.hpp"
#include "core/work_share.hpp"

namespace aisle::detail {

// How a loop's iterations are dealt to the threads.
struct LoopShape {
  // Iterations of uneven cost (histories of different lengths, rows of a
  // triangle): threads take `chunk` at a time as they finish. Otherwise each
  // thread gets one contiguous block, decided up front.
  bool uneven = false;
  Index chunk = 1;
  // False runs the loop on the calling thread: for work too small to pay
  // for waking a team.
  bool parallel = true;
};

// body(state, i) for every i in [0, count), where each thread makes its own
// state once with make_state(): scratch buffers reused across iterations.
template <class MakeState, class Body>
void parallel_for_with_state(Index count, const LoopShape& shape, MakeState&& make_state, Body&& body) {
  bind_thread_count();
  const Index chunk = std::max<Index>(1, shape.chunk);
#pragma omp parallel if (shape.parallel)
  {
    auto state = make_state();
    if (shape.uneven) {
#pragma omp for schedule(dynamic, chunk)
      for (Index i = 0; i < count; ++i) body(state, i);
    } else {
#pragma omp for schedule(static)
      for (Index i = 0; i < count; ++i) body(state, i);
    }
  }
}

// body(i) for every i in [0, count).
template <class Body>
void parallel_for(Index count, const LoopShape& shape, Body&& body) {
  struct NoState {};
  parallel_for_with_state(count, shape, [] { return NoState{}; }, [&](NoState&, Index i) { body(i); });
}

// Whether predicate(i) holds for every i in [0, count); every i is tested.
template <class Predicate>
bool parallel_all_of(Index count, const LoopShape& shape, Predicate&& predicate) {
  bind_thread_count();
  bool all = true;
#pragma omp parallel for schedule(static) reduction(&& : all) if (shape.parallel)
  for (Index i = 0; i < count; ++i) all = predicate(i) && all;
  return all;
}

// Runs body() on every thread of a team (or once on the calling thread when
// !parallel): for work split by elements rather than by iterations, where
// each thread takes this_threads_share() of every array and walks them
// without waiting on the others.
template <class Body>
void parallel_team(bool parallel, Body&& body) {
  bind_thread_count();
#pragma omp parallel if (parallel)
  body();
}

// The exceptions of a parallel loop's iterations, kept per iteration and
// rethrown after the loop: the one of the lowest iteration, which a serial
// loop would have thrown first (a file's first bad line, the first query).
class IterationErrors {
 public:
  explicit IterationErrors(Index count) : errors_(static_cast<std::size_t>(count)) {}
  template <class Body>
  void run(Index i, Body&& body) noexcept {
    try {
      body();
    } catch (...) {
      errors_[static_cast<std::size_t>(i)] = std::current_exception();
    }
  }
  void rethrow_first() const {
    for (const auto& error : errors_)
      if (error) std::rethrow_exception(error);
  }

 private:
  std::vector<std::exception_ptr> errors_;
};

// The calling thread's contiguous part of count elements within its team
// (all of them outside a team).
inline Range this_threads_share(Index count) {
  return contiguous_share(count, omp_get_thread_num(), omp_get_num_threads());
}

}  // namespace aisle::detail
