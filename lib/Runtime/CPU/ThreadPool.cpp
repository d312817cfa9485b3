//===- ThreadPool.cpp - Fork-join parallel loops for CPU kernels ----------===//

#include "ThreadPool.h"

#include <algorithm>
#include <string>

namespace dsp {
namespace runtime {
namespace cpu {

namespace {
// Set on pool threads and on a caller while it runs a loop, so a kernel that
// nests parallel loops runs the inner one serially instead of deadlocking.
thread_local bool insideParallelLoop = false;
} // namespace

Status ThreadPool::start(unsigned threads) {
  try {
    workers_.reserve(threads);
    for (unsigned worker = 1; worker < threads; ++worker)
      workers_.emplace_back([this, worker] { workerLoop(worker); });
  } catch (const std::exception &exception) {
    // A thread limit or memory: what failed is thread size() + 1.
    std::string message = "cannot start thread " + std::to_string(size() + 1) +
                          " of " + std::to_string(threads) + ": " +
                          exception.what();
    stop();
    return Status::error(message);
  }
  return Status::success();
}

void ThreadPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread &thread : workers_)
    thread.join();
  workers_.clear();
}

ThreadPool::~ThreadPool() { stop(); }

void ThreadPool::runChunks(unsigned worker) {
  while (true) {
    int64_t chunk;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (nextChunk_ >= numChunks_)
        return;
      chunk = nextChunk_++;
    }
    int64_t begin = count_ * chunk / numChunks_;
    int64_t end = count_ * (chunk + 1) / numChunks_;
    (*body_)(begin, end, worker);
  }
}

void ThreadPool::workerLoop(unsigned worker) {
  insideParallelLoop = true;
  uint64_t seen = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_)
        return;
      seen = generation_;
    }
    runChunks(worker);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busyWorkers_ == 0)
        done_.notify_one();
    }
  }
}

void ThreadPool::parallelFor(int64_t count, int64_t grain, const Body &body) {
  if (count <= 0)
    return;
  int64_t maxChunks = count / std::max<int64_t>(grain, 1);
  if (workers_.empty() || insideParallelLoop || maxChunks < 2) {
    body(0, count, 0);
    return;
  }
  insideParallelLoop = true;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    body_ = &body;
    count_ = count;
    // A few chunks per thread balance uneven work without much locking.
    numChunks_ = std::min<int64_t>(maxChunks, 4 * int64_t(size()));
    nextChunk_ = 0;
    busyWorkers_ = static_cast<unsigned>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  runChunks(0);
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return busyWorkers_ == 0; });
    body_ = nullptr;
  }
  insideParallelLoop = false;
}

} // namespace cpu
} // namespace runtime
} // namespace dsp
