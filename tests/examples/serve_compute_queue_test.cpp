#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "aisle/core/error.hpp"
#include "compute_queue.hpp"

using serve::ComputeQueue;

TEST(ComputeQueue, ReturnsResultsAndRethrowsOnTheCaller) {
  ComputeQueue queue(2);
  EXPECT_EQ(queue.run([] { return 6 * 7; }), 42);
  EXPECT_EQ(queue.run([] { return std::string("on a queue thread"); }), "on a queue thread");
  EXPECT_THROW(queue.run([]() -> int { throw std::runtime_error("bad query"); }), std::runtime_error);
  EXPECT_EQ(queue.run([] { return 1; }), 1);  // a failure does not cost the queue a thread
}

TEST(ComputeQueue, RunsWorkOffTheCallersThread) {
  ComputeQueue queue(1);
  const auto caller = std::this_thread::get_id();
  EXPECT_NE(queue.run([] { return std::this_thread::get_id(); }), caller);
}

TEST(ComputeQueue, OneThreadRunsWorkInArrivalOrder) {
  ComputeQueue queue(1);
  std::atomic<bool> started{false}, release{false};
  std::vector<int> order;  // written only by the queue's one thread
  // The first job holds the only thread while the others queue up behind it.
  std::thread first([&] {
    queue.run([&] {
      started = true;
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      order.push_back(0);
      return 0;
    });
  });
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::vector<std::thread> others;
  for (int i = 1; i <= 4; ++i) {
    others.emplace_back([&queue, &order, i] {
      queue.run([&order, i] {
        order.push_back(i);
        return i;
      });
    });
    // Queued one after another: the next caller starts once this one waits.
    while (queue.queued() != static_cast<std::size_t>(i)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  release = true;
  first.join();
  for (auto& t : others) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(ComputeQueue, ManyCallersGetTheirOwnResults) {
  ComputeQueue queue(2);
  std::vector<std::thread> callers;
  std::atomic<int> wrong{0};
  for (int c = 0; c < 16; ++c)
    callers.emplace_back([&, c] {
      for (int i = 0; i < 200; ++i)
        if (queue.run([c, i] { return c * 1000 + i; }) != c * 1000 + i) ++wrong;
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(wrong, 0);
}

TEST(ComputeQueue, RefusesNoThreads) { EXPECT_THROW(ComputeQueue(0), aisle::Error); }
