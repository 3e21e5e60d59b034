#pragma once

#include "aisle/core/tensor.hpp"

namespace aisle::detail {

struct Range {
  Index begin = 0, end = 0;
};

// [begin, end) of count items for thread t of threads, in contiguous shares.
// The GEMM shares out a weight gradient's rows this way and Adam a tensor's
// elements, so that a thread's share of Adam lies where its share of the
// gradient did.
inline Range contiguous_share(Index count, int t, int threads) {
  return {count * t / threads, count * (t + 1) / threads};
}

}  // namespace aisle::detail
