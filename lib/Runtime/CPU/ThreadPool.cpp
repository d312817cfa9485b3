//===- ThreadPool.cpp - Fork-join parallel loops for CPU kernels ----------===//

#include "ThreadPool.h"

#include <algorithm>
#include <chrono>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace dsp {
namespace runtime {
namespace cpu {

namespace {
// Set on pool threads and on a caller while it runs a loop, so a kernel that
// nests parallel loops runs the inner one serially instead of deadlocking.
thread_local bool insideParallelLoop = false;

/// How long a worker waits for the next loop, and the caller for the
/// workers to finish, before sleeping.
constexpr std::chrono::microseconds kSpin{100};

/// Tells the core that this thread spins, which saves power and yields the
/// core's resources to its sibling hyperthread.
inline void spinPause() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}
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

/// Spins until `ready()` or kSpin has passed; returns ready().
template <typename Ready> static bool spinUntil(Ready ready) {
  auto deadline = std::chrono::steady_clock::now() + kSpin;
  while (!ready()) {
    // Reading the clock costs more than a check: look at it now and then.
    for (int i = 0; i < 64; ++i) {
      if (ready())
        return true;
      spinPause();
    }
    if (std::chrono::steady_clock::now() > deadline)
      return ready();
  }
  return true;
}

void ThreadPool::runChunks(unsigned worker) {
  while (true) {
    int64_t chunk = nextChunk_.fetch_add(1, std::memory_order_relaxed);
    if (chunk >= numChunks_)
      return;
    int64_t begin = count_ * chunk / numChunks_;
    int64_t end = count_ * (chunk + 1) / numChunks_;
    (*body_)(begin, end, worker);
  }
}

void ThreadPool::workerLoop(unsigned worker) {
  insideParallelLoop = true;
  uint64_t seen = 0;
  auto hasNews = [&] {
    return stopping_.load(std::memory_order_acquire) ||
           generation_.load(std::memory_order_acquire) != seen;
  };
  while (true) {
    if (!spinUntil(hasNews)) {
      std::unique_lock<std::mutex> lock(mutex_);
      ++sleepingWorkers_;
      wake_.wait(lock, hasNews);
      --sleepingWorkers_;
    }
    if (stopping_.load(std::memory_order_acquire))
      return;
    seen = generation_.load(std::memory_order_acquire);
    runChunks(worker);
    if (busyWorkers_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      // The caller may be asleep: notify under the lock it checks under.
      std::lock_guard<std::mutex> lock(mutex_);
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
  body_ = &body;
  count_ = count;
  // A few chunks per thread balance uneven work without much contention.
  numChunks_ = std::min<int64_t>(maxChunks, 4 * int64_t(size()));
  nextChunk_.store(0, std::memory_order_relaxed);
  busyWorkers_.store(static_cast<unsigned>(workers_.size()),
                     std::memory_order_relaxed);
  bool anyAsleep;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
    anyAsleep = sleepingWorkers_ > 0;
  }
  if (anyAsleep)
    wake_.notify_all();
  runChunks(0);
  auto allDone = [&] {
    return busyWorkers_.load(std::memory_order_acquire) == 0;
  };
  if (!spinUntil(allDone)) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, allDone);
  }
  body_ = nullptr;
  insideParallelLoop = false;
}

} // namespace cpu
} // namespace runtime
} // namespace dsp
