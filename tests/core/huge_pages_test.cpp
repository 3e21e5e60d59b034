// advise_huge_pages is advice: whatever the kernel makes of it, memory keeps
// its contents, before and after it is written, aligned or not.

#include "core/huge_pages.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <numeric>
#include <vector>

namespace aisle::detail {
namespace {

TEST(HugePages, AdviceKeepsContentsAndLaterWrites) {
  constexpr std::size_t kFloats = (std::size_t{6} << 20) / sizeof(float);  // 6 MB: at least two whole huge pages
  std::vector<float> data(kFloats);
  std::iota(data.begin(), data.end(), 0.0f);
  advise_huge_pages(data.data() + 1, (kFloats - 1) * sizeof(float));  // an unaligned start
  for (std::size_t i = 0; i < kFloats; i += 4099) ASSERT_EQ(data[i], static_cast<float>(i)) << i;
  for (std::size_t i = 0; i < kFloats; ++i) data[i] = static_cast<float>(kFloats - i);
  for (std::size_t i = 0; i < kFloats; i += 4099) ASSERT_EQ(data[i], static_cast<float>(kFloats - i)) << i;
}

TEST(HugePages, SmallAndEmptyRangesAreLeftAlone) {
  std::vector<float> small(100, 1.5f);
  advise_huge_pages(small.data(), small.size() * sizeof(float));
  advise_huge_pages(small.data(), 0);
  advise_huge_pages(nullptr, 0);
  for (float x : small) ASSERT_EQ(x, 1.5f);
}

}  // namespace
}  // namespace aisle::detail
