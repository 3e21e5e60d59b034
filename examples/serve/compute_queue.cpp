#include "compute_queue.hpp"

#include "aisle/core/error.hpp"

namespace serve {

ComputeQueue::ComputeQueue(int threads) {
  if (threads < 1) throw aisle::Error("ComputeQueue: needs at least one thread, got " + std::to_string(threads));
  workers_.reserve(static_cast<std::size_t>(threads));
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { serve_jobs(); });
}

ComputeQueue::~ComputeQueue() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  job_queued_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ComputeQueue::run_and_wait(std::function<void()> work) {
  Job job{std::move(work)};
  {
    const std::lock_guard lock(mutex_);
    jobs_.push_back(&job);
  }
  job_queued_.notify_one();
  job.done.acquire();
}

std::size_t ComputeQueue::queued() const {
  const std::lock_guard lock(mutex_);
  return jobs_.size();
}

void ComputeQueue::serve_jobs() {
  for (;;) {
    Job* job = nullptr;
    {
      std::unique_lock lock(mutex_);
      job_queued_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing is left to run
      job = jobs_.front();
      jobs_.pop_front();
    }
    job->work();
    job->done.release();
  }
}

}  // namespace serve
