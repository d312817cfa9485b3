//===- ThreadPool.h - Fork-join parallel loops for CPU kernels --*- C++ -*-===//

#ifndef DSP_RUNTIME_CPU_THREADPOOL_H
#define DSP_RUNTIME_CPU_THREADPOOL_H

#include "dsp/Runtime/Status.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dsp {
namespace runtime {
namespace cpu {

/// A fixed set of worker threads owned by one session. The calling thread
/// takes part in every loop, so a pool of size N starts N - 1 threads.
/// Until start() succeeds, loops run serially on the caller.
///
/// A program runs hundreds of loops of a few microseconds each, one after
/// the other, so waking sleeping threads for each would cost as much as the
/// work: workers and the caller spin for a while on the loop's
/// counters before they sleep (kSpin in ThreadPool.cpp).
class ThreadPool {
public:
  /// Body of a parallel loop: items [begin, end), run by worker `worker` in
  /// [0, size()), which indexes per-worker scratch memory.
  using Body = std::function<void(int64_t begin, int64_t end, unsigned worker)>;

  ThreadPool() = default;
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  /// Starts the workers of a pool of `threads`. If the system refuses a
  /// thread, stops those already started and returns the error.
  Status start(unsigned threads);

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }

  /// Runs `body` over [0, count) split into chunks of at least `grain`
  /// items and returns when all are done. Nested calls run serially.
  void parallelFor(int64_t count, int64_t grain, const Body &body);

private:
  void stop();
  void workerLoop(unsigned worker);
  /// Runs chunks of loop `loop` until none is left to claim.
  void runChunks(unsigned worker, uint64_t loop);

  std::vector<std::thread> workers_;
  // Guards sleeping and waking; the state below is atomic so that spinning
  // threads read it without the lock.
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::atomic<bool> stopping_{false};
  unsigned sleepingWorkers_ = 0;

  // The current loop. A thread claims a chunk by advancing `claim_`, the
  // loop's number (low 32 bits) shifted up 32 bits plus the next chunk, so
  // that a thread late for a finished loop claims nothing of the next. The
  // caller waits for `finishedChunks_` only, not for every thread to come.
  std::atomic<uint64_t> loop_{0};
  std::atomic<uint64_t> claim_{0};
  std::atomic<const Body *> body_{nullptr};
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> numChunks_{0};
  std::atomic<int64_t> finishedChunks_{0};
};

} // namespace cpu
} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_CPU_THREADPOOL_H
