#pragma once

#include <cstdint>

namespace aisle::test_support {

// Heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc,
// and so operator new, which allocates through malloc) made in this process
// since it started. Counted by interposing glibc's allocator in the binaries
// that link the aisle_malloc_counter target (aisle-allocation-tests,
// aisle-bench); not built with the sanitizers, which interpose it themselves.
std::uint64_t heap_allocations();

}  // namespace aisle::test_support
