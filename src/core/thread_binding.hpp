#pragma once

#include <string_view>

namespace aisle::detail {

// A thread count written as text (source names where it came from, e.g. the
// environment variable): a positive whole number, else aisle::Error.
int parse_thread_count(std::string_view text, std::string_view source);

// At most the processors this process may run on: more threads than cores
// only wait on each other, at every barrier of every parallel loop, and the
// loss grows with the excess (docs/performance.md).
int cap_to_processors(int requested);

// Applies aisle's thread count to the calling thread's OpenMP settings; call
// at the entry of work that runs parallel loops or oneDNN primitives.
void bind_thread_count();

// For the lifetime of a compute call: binds the thread count and sets
// flush-to-zero and denormals-are-zero on the calling thread (restored on
// exit) and on its OpenMP workers. Denormal floats, which softmax tails and
// vanishing gradients produce, cost a microcode assist per operation on
// many x86 cores and can slow a training step several times over.
class ComputeScope {
 public:
  ComputeScope();
  ~ComputeScope();
  ComputeScope(const ComputeScope&) = delete;
  ComputeScope& operator=(const ComputeScope&) = delete;

 private:
  unsigned saved_control_ = 0;
};

}  // namespace aisle::detail
