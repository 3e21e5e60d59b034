#pragma once

#include <cstddef>

namespace aisle::detail {

// Asks the kernel to back the 2 MB-aligned part of [data, data + bytes) with
// 2 MB pages (Linux transparent huge pages, which kernels configured in
// madvise mode give only where asked): call it before the memory is first
// written. Advice only: elsewhere, or when the kernel declines, nothing
// changes.
void advise_huge_pages(void* data, std::size_t bytes);

}  // namespace aisle::detail
