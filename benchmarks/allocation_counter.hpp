#pragma once

#include <cstdint>

namespace aisle::bench {

// Heap allocations made by this process so far (global operator new).
std::uint64_t allocations();

}  // namespace aisle::bench
