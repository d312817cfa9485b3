//===- Backend.h - Device abstraction used by the executor ------*- C++ -*-===//
//
// The executor (Session) only talks to this interface: it asks a backend for
// memory, for the device address of the weights and for one Kernel per
// instruction, then runs the kernels in program order. A backend owns its
// execution stream: Kernel::run enqueues work on it (the CPU backend runs it
// immediately on the session's thread pool) and synchronize() waits for all
// enqueued work. Collectives are kernels that reach the rank's communicator
// through the backend, so the executor does not know about them.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_BACKEND_H
#define DSP_RUNTIME_BACKEND_H

#include "dsp/Format/OpRegistry.h"
#include "dsp/Format/ProgramFile.h"
#include "dsp/Runtime/Status.h"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dsp {
namespace runtime {

class Communicator;

/// Device addresses of one instruction's operands, in instruction order.
struct KernelArgs {
  const void *const *inputs;
  /// The first output: every op but `kernel` has exactly one.
  void *output;
  /// Every output, `output` first.
  void *const *outputs;
  /// At least Kernel::workspaceBytes() of device scratch memory.
  void *workspace;
};

/// One instruction compiled for a backend. Shapes and attributes are fixed
/// at creation, so run() only needs addresses.
class Kernel {
public:
  virtual ~Kernel() = default;
  /// Scratch memory run() needs; the session allocates the maximum over all
  /// kernels once.
  virtual size_t workspaceBytes() const { return 0; }
  /// Enqueues the instruction on the backend's stream. Data-dependent
  /// failures (an index out of range) are reported here.
  virtual Status run(const KernelArgs &args) = 0;
  /// Which of the backend's ways to run the op this kernel takes, where it
  /// has more than one (the cuda backend's attention: cuDNN, or its own
  /// kernel and why not cuDNN); empty otherwise. The statistics count them.
  virtual std::string implementation() const { return {}; }
};

/// Where a backend runs the collectives of a program that starts some
/// asynchronously (`async` = 1), so that they overlap the instructions
/// after them until their `wait`. The session hands the lane every
/// collective of such a program, in program order, so that one thread or
/// stream at a time reaches the communicator.
class CommunicationLane {
public:
  virtual ~CommunicationLane() = default;
  /// Runs `task` (which runs one collective kernel) on the lane after the
  /// backend's work enqueued so far, and returns without waiting for it.
  /// `slot` names it in wait(); a slot is not started again before its
  /// wait.
  virtual Status start(size_t slot, std::function<Status()> task) = 0;
  /// Orders the backend's later work after the task of `slot`: a host lane
  /// waits for it; returns the task's status.
  virtual Status wait(size_t slot) = 0;
};

/// A lane of its own thread, for a backend whose kernels run on the
/// calling thread: its tasks run there in order.
Status createThreadLane(size_t slots, std::unique_ptr<CommunicationLane> &lane);

struct BackendOptions {
  /// Threads the backend may use for this session (>= 1).
  unsigned threads = 1;
  /// The rank's communicator, used by collective kernels; never null.
  Communicator *communicator = nullptr;
  /// The GPU a GPU backend runs on (CUDA device ordinal).
  int device = 0;
};

class Backend {
public:
  virtual ~Backend() = default;
  virtual const char *name() const = 0;

  virtual Status allocate(size_t bytes, void **buffer) = 0;
  virtual void deallocate(void *buffer) = 0;
  virtual Status copyToDevice(void *device, const void *host, size_t bytes) = 0;
  virtual Status copyToHost(void *host, const void *device, size_t bytes) = 0;
  /// Copies between two of the backend's buffers, ordered with its kernels.
  virtual Status copyOnDevice(void *target, const void *source,
                              size_t bytes) = 0;
  /// Whether the backend's buffers are host memory. Where they are not, the
  /// session keeps each bound input in a buffer of its own, uploaded once
  /// per binding, so that runs on unchanged inputs copy them on the device
  /// instead of across the bus.
  virtual bool buffersAreHostMemory() const { return true; }

  /// The device address of the file's weight blob. Backends sharing a
  /// device may share it; the CPU backend uses the mapping itself.
  virtual Status importWeights(const format::ProgramFile &file,
                               const void **weights) = 0;

  /// Whether the backend implements `op` (for some dtypes). Every backend
  /// should implement every op of the registry; a unit test checks the
  /// built-in ones.
  virtual bool hasKernel(format::Op op) const = 0;

  /// Creates the kernel for `instruction` of a validated program; an error
  /// names the backend and the op if it has no kernel for it.
  virtual Status createKernel(const dsp::program::Program &program,
                              const dsp::program::Instruction &instruction,
                              std::unique_ptr<Kernel> &kernel) = 0;

  /// Creates the lane on which the session runs async collectives, with
  /// `slots` slots. Default: a lane that runs each task as it starts, so
  /// nothing overlaps.
  virtual Status
  createCommunicationLane(size_t slots,
                          std::unique_ptr<CommunicationLane> &lane);

  /// Called before the kernels of each run. A backend that replays a
  /// recorded run (the cuda backend's CUDA graph) enqueues it here and sets
  /// `replayed`: the session then skips the kernels.
  virtual Status beginRun(bool &replayed) {
    replayed = false;
    return Status::success();
  }
  /// Called after the kernels of each run, also when one failed (`failed`).
  virtual Status endRun(bool failed) {
    (void)failed;
    return Status::success();
  }

  /// Waits until every enqueued kernel and copy has finished; reports the
  /// data-dependent failures kernels recorded on the device.
  virtual Status synchronize() = 0;
};

/// Creates the backend called `name` ("cpu", and "cuda" when built with
/// DSP_ENABLE_CUDA); an error names the backends built in.
Status createBackend(const std::string &name, const BackendOptions &options,
                     std::unique_ptr<Backend> &backend);

} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_BACKEND_H
