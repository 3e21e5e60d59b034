// The parallel loop helpers: every iteration runs exactly once whatever the
// shape, per-thread state is never shared, a serial shape stays on the
// calling thread, and the team's shares cover the elements without overlap.

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "aisle/core/threads.hpp"
#include "core/parallel_for.hpp"

namespace aisle {
namespace {

class ParallelForTest : public ::testing::Test {
 protected:
  void SetUp() override { set_num_threads(4); }
  void TearDown() override { set_num_threads(0); }
};

std::vector<detail::LoopShape> every_shape() {
  return {{}, {.uneven = true, .chunk = 1}, {.uneven = true, .chunk = 7}, {.parallel = false},
          {.uneven = true, .chunk = 3, .parallel = false}};
}

TEST_F(ParallelForTest, EveryIterationRunsOnceWhateverTheShape) {
  for (const Index count : {0, 1, 5, 1000}) {
    for (const auto& shape : every_shape()) {
      std::vector<std::atomic<int>> visits(static_cast<std::size_t>(count));
      detail::parallel_for(count, shape, [&](Index i) { ++visits[static_cast<std::size_t>(i)]; });
      for (Index i = 0; i < count; ++i) ASSERT_EQ(visits[static_cast<std::size_t>(i)], 1) << i << " of " << count;
    }
  }
}

TEST_F(ParallelForTest, ASerialShapeRunsOnTheCallingThread) {
  const auto caller = std::this_thread::get_id();
  std::atomic<int> elsewhere{0};
  detail::parallel_for(100, {.parallel = false}, [&](Index) { elsewhere += std::this_thread::get_id() != caller; });
  EXPECT_EQ(elsewhere, 0);
}

TEST_F(ParallelForTest, ALargeLoopUsesTheThreadCount) {
  if (num_threads() < 2) GTEST_SKIP() << "one processor";
  std::mutex mutex;
  std::set<std::thread::id> threads;
  detail::parallel_for(64, {.uneven = true, .chunk = 1}, [&](Index) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const std::lock_guard lock(mutex);
    threads.insert(std::this_thread::get_id());
  });
  EXPECT_GT(threads.size(), 1u);
  EXPECT_LE(threads.size(), 4u);
}

TEST_F(ParallelForTest, EachThreadGetsItsOwnState) {
  for (const auto& shape : every_shape()) {
    std::atomic<int> states{0};
    std::vector<int> owner(500, -1);
    detail::parallel_for_with_state(
        500, shape, [&] { return states++; },
        [&](int state, Index i) { owner[static_cast<std::size_t>(i)] = state; });
    EXPECT_GE(states, 1);
    EXPECT_LE(states, 4);
    for (const int state : owner) ASSERT_TRUE(state >= 0 && state < states);
  }
}

TEST_F(ParallelForTest, StateIsReusedAcrossTheIterationsOfAThread) {
  std::atomic<Index> total{0};
  detail::parallel_for_with_state(
      1000, {.uneven = true, .chunk = 5}, [] { return std::vector<Index>{}; },
      [&](std::vector<Index>& seen, Index i) {
        seen.push_back(i);
        total += 1;
      });
  EXPECT_EQ(total, 1000);
}

TEST_F(ParallelForTest, AllOfTestsEveryIndex) {
  EXPECT_TRUE(detail::parallel_all_of(1000, {}, [](Index i) { return i < 1000; }));
  EXPECT_FALSE(detail::parallel_all_of(1000, {}, [](Index i) { return i != 999; }));
  EXPECT_FALSE(detail::parallel_all_of(1000, {.parallel = false}, [](Index i) { return i != 0; }));
  EXPECT_TRUE(detail::parallel_all_of(0, {}, [](Index) { return false; }));
}

TEST_F(ParallelForTest, TeamSharesCoverTheElementsOnce) {
  for (const bool parallel : {true, false}) {
    for (const Index count : {0, 3, 1001}) {
      std::vector<std::atomic<int>> covered(static_cast<std::size_t>(count));
      detail::parallel_team(parallel, [&] {
        const auto own = detail::this_threads_share(count);
        for (Index i = own.begin; i < own.end; ++i) ++covered[static_cast<std::size_t>(i)];
      });
      for (Index i = 0; i < count; ++i) ASSERT_EQ(covered[static_cast<std::size_t>(i)], 1) << i;
    }
  }
}

}  // namespace
}  // namespace aisle
