#include "aisle/core/memory.hpp"

#include <gtest/gtest.h>

#include "aisle/core/error.hpp"

namespace aisle {
namespace {

TEST(Memory, FormatsBytesInDecimalUnits) {
  EXPECT_EQ(format_bytes(812), "812 bytes");
  EXPECT_EQ(format_bytes(1'460'000'000), "1.46 GB");
  EXPECT_EQ(format_bytes(40'000'000'000), "40.0 GB");
  EXPECT_EQ(format_bytes(512'000'000), "512 MB");
}

TEST(Memory, TheSystemSaysSomethingPlausible) {
  set_memory_limit(std::nullopt);
  const auto available = available_memory();
  ASSERT_TRUE(available) << "neither /proc/meminfo nor the cgroup could be read";
  EXPECT_GT(*available, 16u << 20);
}

TEST(Memory, RequireMemoryRefusesOverTheLimitNamingBothSizes) {
  set_memory_limit(1'000'000);
  EXPECT_NO_THROW(require_memory(1'000'000, "x", "y", "z"));
  try {
    require_memory(2'500'000, "ease on 790 items", "two matrices", "try itemknn");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "ease on 790 items needs 2.50 MB (two matrices), 1.00 MB is available; try itemknn");
  }
  set_memory_limit(std::nullopt);
}

}  // namespace
}  // namespace aisle
