#pragma once

// A first-in, first-out pool of compute threads. Connection threads (one per
// keep-alive connection in httplib) hand a request's model work to it and
// wait: the work runs on as many threads as there are cores, in the order it
// arrived, instead of on every connection's thread at once. With 64
// connections on 2 cores the scheduler would otherwise time-slice 64 runnable
// threads, and a request's latency would depend on its luck with the
// scheduler rather than on its place in the queue.

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <semaphore>
#include <thread>
#include <type_traits>
#include <vector>

namespace serve {

class ComputeQueue {
 public:
  explicit ComputeQueue(int threads);
  ~ComputeQueue();  // finishes the queued work, then joins
  ComputeQueue(const ComputeQueue&) = delete;
  ComputeQueue& operator=(const ComputeQueue&) = delete;

  // Runs work on one of the queue's threads once the work queued before it
  // has started, and returns its result; an exception it throws is rethrown
  // here, on the caller's thread.
  template <class Work>
  std::invoke_result_t<Work&> run(Work&& work) {
    std::optional<std::invoke_result_t<Work&>> result;
    std::exception_ptr failure;
    run_and_wait([&] {
      try {
        result.emplace(work());
      } catch (...) {
        failure = std::current_exception();
      }
    });
    if (failure) std::rethrow_exception(failure);
    return std::move(*result);
  }

  // Work waiting for a thread now (not counting the work running).
  std::size_t queued() const;

 private:
  struct Job {
    std::function<void()> work;  // never throws: run() catches for it
    std::binary_semaphore done{0};
  };

  void run_and_wait(std::function<void()> work);
  void serve_jobs();

  mutable std::mutex mutex_;
  std::condition_variable job_queued_;
  std::deque<Job*> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace serve
