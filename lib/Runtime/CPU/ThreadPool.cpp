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

/// The claim word of chunk `chunk` of loop `loop`.
static uint64_t claimWord(uint64_t loop, int64_t chunk) {
  return (loop << 32) | static_cast<uint32_t>(chunk);
}

void ThreadPool::runChunks(unsigned worker, uint64_t loop) {
  uint64_t claim = claim_.load(std::memory_order_acquire);
  while (true) {
    int64_t chunk = static_cast<uint32_t>(claim);
    if (claim >> 32 != (loop & 0xffffffffu) ||
        chunk >= numChunks_.load(std::memory_order_relaxed))
      return;
    if (!claim_.compare_exchange_weak(claim, claim + 1,
                                      std::memory_order_acq_rel))
      continue;
    // The loop cannot end, nor its fields change, before this chunk is done.
    int64_t count = count_.load(std::memory_order_relaxed);
    int64_t chunks = numChunks_.load(std::memory_order_relaxed);
    (*body_.load(std::memory_order_relaxed))(
        count * chunk / chunks, count * (chunk + 1) / chunks, worker);
    if (finishedChunks_.fetch_add(1, std::memory_order_acq_rel) + 1 == chunks) {
      // The caller may be asleep: notify under the lock it checks under.
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
      return;
    }
    claim = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::workerLoop(unsigned worker) {
  insideParallelLoop = true;
  uint64_t seen = 0;
  auto hasNews = [&] {
    return stopping_.load(std::memory_order_acquire) ||
           loop_.load(std::memory_order_acquire) != seen;
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
    seen = loop_.load(std::memory_order_acquire);
    runChunks(worker, seen);
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
  // A few chunks per thread balance uneven work without much contention.
  const int64_t chunks = std::min<int64_t>(maxChunks, 4 * int64_t(size()));
  body_.store(&body, std::memory_order_relaxed);
  count_.store(count, std::memory_order_relaxed);
  numChunks_.store(chunks, std::memory_order_relaxed);
  finishedChunks_.store(0, std::memory_order_relaxed);
  const uint64_t loop = loop_.load(std::memory_order_relaxed) + 1;
  claim_.store(claimWord(loop, 0), std::memory_order_release);
  bool anyAsleep;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    loop_.store(loop, std::memory_order_release);
    anyAsleep = sleepingWorkers_ > 0;
  }
  if (anyAsleep)
    wake_.notify_all();
  runChunks(0, loop);
  auto allDone = [&] {
    return finishedChunks_.load(std::memory_order_acquire) == chunks;
  };
  if (!spinUntil(allDone)) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, allDone);
  }
  insideParallelLoop = false;
}

} // namespace cpu
} // namespace runtime
} // namespace dsp
