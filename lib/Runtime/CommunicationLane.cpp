//===- CommunicationLane.cpp - Where async collectives run ----------------===//
//
// The lane that runs each task as it starts (the default of a backend
// without one of its own) and the lane of a thread, on which a host backend
// overlaps a collective with the kernels the session runs meanwhile.
//
//===----------------------------------------------------------------------===//

#include "dsp/Runtime/Backend.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace dsp {
namespace runtime {

namespace {

class InlineLane : public CommunicationLane {
public:
  explicit InlineLane(size_t slots) : results_(slots) {}

  Status start(size_t slot, std::function<Status()> task) override {
    results_[slot] = task();
    return Status::success();
  }

  Status wait(size_t slot) override { return results_[slot]; }

private:
  std::vector<Status> results_;
};

class ThreadLane : public CommunicationLane {
public:
  explicit ThreadLane(size_t slots)
      : results_(slots), done_(slots, true), thread_([this] { serve(); }) {}

  ~ThreadLane() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  Status start(size_t slot, std::function<Status()> task) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_[slot] = false;
      queue_.push_back({slot, std::move(task)});
    }
    changed_.notify_all();
    return Status::success();
  }

  Status wait(size_t slot) override {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return done_[slot]; });
    return results_[slot];
  }

private:
  struct Task {
    size_t slot;
    std::function<Status()> run;
  };

  void serve() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      // Queued tasks run even when stopping: the session waits for every
      // task it started before it lets their buffers go.
      if (queue_.empty())
        return;
      Task task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      Status status = task.run();
      lock.lock();
      results_[task.slot] = status;
      done_[task.slot] = true;
      changed_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Task> queue_;
  std::vector<Status> results_;
  std::vector<bool> done_;
  bool stopping_ = false;
  // Last: it starts serving once everything above is constructed.
  std::thread thread_;
};

} // namespace

Status
Backend::createCommunicationLane(size_t slots,
                                 std::unique_ptr<CommunicationLane> &lane) {
  lane = std::make_unique<InlineLane>(slots);
  return Status::success();
}

Status createThreadLane(size_t slots,
                        std::unique_ptr<CommunicationLane> &lane) {
  try {
    lane = std::make_unique<ThreadLane>(slots);
  } catch (const std::exception &exception) {
    // A thread limit or memory.
    return Status::error(std::string("cannot start a lane's thread: ") +
                         exception.what());
  }
  return Status::success();
}

} // namespace runtime
} // namespace dsp
