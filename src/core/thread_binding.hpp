#pragma once

namespace aisle::detail {

// Applies aisle's thread count to the calling thread's OpenMP settings; call
// at the entry of work that runs parallel loops or oneDNN primitives.
void bind_thread_count();

}  // namespace aisle::detail
