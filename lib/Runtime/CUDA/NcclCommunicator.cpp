//===- NcclCommunicator.cpp - Ranks as MPI processes, one GPU each --------===//
//
// The nccl communicator extends the mpi one: MPI starts the ranks, carries
// NCCL's unique id from rank 0 to the others and moves the runtime's own
// host figures; NCCL moves the device buffers of the collectives.
//
// An exchange of device buffers is one NCCL group of ncclSend and ncclRecv
// enqueued on the stream the cuda backend handed over (setDeviceStream),
// then an event recorded after it: the host does not wait, so the exchange
// overlaps the rank's other work. ncclAlltoAll is not used: exchange()
// names only the peers' buffers, each its own address, where ncclAlltoAll
// takes one contiguous buffer per side and moves the rank's own chunk too.
//
// The communicator is non-blocking (ncclConfig_t::blocking = 0), so no NCCL
// call holds the host: each is polled with ncclCommGetAsyncError until its
// deadline. A watchdog thread polls the same error and the events of the
// exchanges in flight; when NCCL reports an error, or an exchange has not
// completed `timeoutSeconds` after it was enqueued, it aborts the NCCL
// communicator (which ends the transfers waiting on the device) and the
// rank fails at its next exchange or synchronization, naming the
// collective. Every NCCL call is made under one mutex, so that the abort
// never races another call.
//
//===----------------------------------------------------------------------===//

#include "../MpiCommunicator.h"
#include "CudaBackend.h"
#include "Kernels.h"

#include <mpi.h>
#include <nccl.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <sstream>
#include <thread>

namespace dsp {
namespace runtime {

namespace {

using Clock = std::chrono::steady_clock;
using cuda::check;

/// How often the watchdog looks at the exchanges in flight.
constexpr auto kWatchInterval = std::chrono::milliseconds(5);
/// How often a host call polls the state of an NCCL call in progress.
constexpr auto kPollInterval = std::chrono::microseconds(20);

std::string ncclVersionString(int code) {
  return std::to_string(code / 10000) + "." + std::to_string(code / 100 % 100);
}

/// "CALL failed: REASON (NCCL's last error)", or success (also while the
/// call is still in progress).
Status checkNccl(ncclResult_t result, const std::string &call) {
  if (result == ncclSuccess || result == ncclInProgress)
    return Status::success();
  std::string message = call + " failed: " + ncclGetErrorString(result);
  const char *detail = ncclGetLastError(nullptr);
  if (detail && *detail)
    message += std::string(" (") + detail + ")";
  return Status::error(message);
}

class NcclCommunicator : public MpiCommunicator {
public:
  NcclCommunicator(const MpiWorld &world, const CommunicatorOptions &options,
                   int device)
      : MpiCommunicator(world, options), device_(device) {}

  ~NcclCommunicator() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    stop_.notify_all();
    if (watchdog_.joinable())
      watchdog_.join();
    cudaSetDevice(device_);
    if (comm_)
      close();
    for (cudaEvent_t event : events_)
      cudaEventDestroy(event);
  }

  /// Joins the NCCL communicator of every rank and starts the watchdog.
  Status initialize() {
    int version = 0;
    Status status = checkNccl(ncclGetVersion(&version), "ncclGetVersion");
    if (status && version / 100 < NCCL_VERSION_CODE / 100)
      status = Status::error(
          "the NCCL library is " + ncclVersionString(version) +
          ", older than the NCCL " + ncclVersionString(NCCL_VERSION_CODE) +
          " this runtime was built with");
    // Every rank learns rank 0's id, or why there is none.
    struct {
      ncclUniqueId id;
      int result;
    } root = {};
    if (rank_ == 0)
      root.result = ncclGetUniqueId(&root.id);
    if (MPI_Bcast(&root, sizeof(root), MPI_BYTE, 0, MPI_COMM_WORLD) !=
        MPI_SUCCESS)
      return Status::error("MPI_Bcast of the NCCL unique id failed");
    if (status && root.result != ncclSuccess)
      status = Status::error(
          "rank 0: " +
          checkNccl(static_cast<ncclResult_t>(root.result), "ncclGetUniqueId")
              .message());
    if (status)
      status = check(cudaSetDevice(device_), "cudaSetDevice");
    if (status) {
      ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
      config.blocking = 0;
      std::unique_lock<std::mutex> lock(mutex_);
      status = checkNccl(
          ncclCommInitRankConfig(&comm_, size_, root.id, rank_, &config),
          "ncclCommInitRankConfig");
      if (status)
        status = awaitCall(lock, deadline(), "ncclCommInitRankConfig",
                           "joining the NCCL communicator");
    }
    // Every rank gets here within the timeout: they fail together, naming
    // one that could not join.
    int mine = status ? -1 : rank_, failed = -1;
    if (MPI_Allreduce(&mine, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) !=
        MPI_SUCCESS)
      return Status::error("MPI_Allreduce after joining NCCL failed");
    if (status && failed >= 0)
      status = Status::error("rank " + std::to_string(failed) +
                             " could not join the NCCL communicator");
    if (!status) {
      std::lock_guard<std::mutex> lock(mutex_);
      abortNccl();
      return status;
    }
    watchdog_ = std::thread([this] { watch(); });
    return Status::success();
  }

  const char *name() const override { return "nccl"; }

  bool setDeviceStream(void *stream) override {
    std::lock_guard<std::mutex> lock(mutex_);
    stream_ = static_cast<cudaStream_t>(stream);
    return true;
  }

  Status checkEnqueued() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return failure_.empty() ? Status::success() : Status::error(failure_);
  }

protected:
  Status transfer(const std::vector<SendBuffer> &sends,
                  const std::vector<ReceiveBuffer> &receives,
                  bool backendMemory) override {
    if (!backendMemory)
      return MpiCommunicator::transfer(sends, receives, false);
    std::unique_lock<std::mutex> lock(mutex_);
    if (!failure_.empty())
      return Status::error(failure_);
    if (!stream_)
      return Status::error("the nccl communicator moves device memory only: "
                           "run with --backend=cuda");
    // In flight from now: the watchdog also covers the enqueueing.
    pending_.push_back({collective(), deadline(), nullptr});
    Status status = enqueue(sends, receives);
    if (status)
      status = awaitCall(lock, pending_.back().deadline, "ncclGroupEnd",
                         ("enqueueing " + collective()).c_str());
    cudaEvent_t event = nullptr;
    if (status)
      status = takeEvent(event);
    if (status)
      status = check(cudaEventRecord(event, stream_), "cudaEventRecord");
    if (!status) {
      fail(status.message());
      return status;
    }
    pending_.back().event = event;
    return Status::success();
  }

private:
  /// An exchange enqueued (or being enqueued: no event yet).
  struct Pending {
    std::string collective;
    Clock::time_point deadline;
    cudaEvent_t event;
  };

  /// One NCCL group of the messages; the group is ended even after a
  /// failed call, so that NCCL's state stays consistent.
  Status enqueue(const std::vector<SendBuffer> &sends,
                 const std::vector<ReceiveBuffer> &receives) {
    Status status = checkNccl(ncclGroupStart(), "ncclGroupStart");
    if (!status)
      return status;
    // Both sides skip empty messages: their sizes agree.
    for (const ReceiveBuffer &receive : receives)
      if (status && receive.bytes)
        status = checkNccl(ncclRecv(receive.data, receive.bytes, ncclUint8,
                                    receive.peer, comm_, stream_),
                           "ncclRecv");
    for (const SendBuffer &send : sends)
      if (status && send.bytes)
        status = checkNccl(ncclSend(send.data, send.bytes, ncclUint8, send.peer,
                                    comm_, stream_),
                           "ncclSend");
    Status ended = checkNccl(ncclGroupEnd(), "ncclGroupEnd");
    return status ? ended : status;
  }

  /// Polls the communicator until the non-blocking `call` in progress
  /// finished, the deadline passed or the watchdog failed the rank. Holds
  /// `lock` only while it calls NCCL.
  Status awaitCall(std::unique_lock<std::mutex> &lock,
                   Clock::time_point deadline, const char *call,
                   const char *what) {
    for (;;) {
      if (!failure_.empty())
        return Status::error(failure_);
      ncclResult_t state = ncclSuccess;
      Status status = checkNccl(ncclCommGetAsyncError(comm_, &state),
                                "ncclCommGetAsyncError");
      if (!status || state != ncclInProgress)
        return status ? checkNccl(state, call) : status;
      if (Clock::now() > deadline) {
        std::ostringstream message;
        message << "timed out after " << timeoutSeconds()
                << " s waiting for a peer while " << what << " (" << call
                << " still in progress)";
        return Status::error(message.str());
      }
      lock.unlock();
      std::this_thread::sleep_for(kPollInterval);
      lock.lock();
    }
  }

  Status takeEvent(cudaEvent_t &event) {
    if (!idle_.empty()) {
      event = idle_.back();
      idle_.pop_back();
      return Status::success();
    }
    Status status =
        check(cudaEventCreateWithFlags(&event, cudaEventDisableTiming),
              "cudaEventCreateWithFlags");
    if (status)
      events_.push_back(event);
    return status;
  }

  /// The watchdog's loop: until the communicator is destroyed, or aborted.
  void watch() {
    cudaSetDevice(device_);
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_ && comm_) {
      stop_.wait_for(lock, kWatchInterval);
      if (stopping_ || !comm_)
        return;
      Status status = inspect();
      if (!status)
        fail(status.message());
    }
  }

  /// NCCL's asynchronous error, else the first exchange in flight past its
  /// deadline; retires the completed ones.
  Status inspect() {
    const std::string &oldest =
        pending_.empty() ? collective() : pending_.front().collective;
    ncclResult_t state = ncclSuccess;
    Status status = checkNccl(ncclCommGetAsyncError(comm_, &state),
                              "ncclCommGetAsyncError");
    if (status)
      status = checkNccl(state, "NCCL in " + oldest);
    while (status && !pending_.empty() && pending_.front().event) {
      cudaError_t query = cudaEventQuery(pending_.front().event);
      if (query == cudaErrorNotReady)
        break;
      status = check(query, "cudaEventQuery");
      idle_.push_back(pending_.front().event);
      pending_.pop_front();
    }
    if (status && !pending_.empty() &&
        Clock::now() > pending_.front().deadline) {
      std::ostringstream message;
      message << "timed out after " << timeoutSeconds()
              << " s waiting for a peer in " << pending_.front().collective
              << " (the NCCL transfer has not completed)";
      status = Status::error(message.str());
    }
    return status;
  }

  /// Records the rank's first failure and aborts NCCL, which ends the
  /// transfers still waiting on the device. Called under the mutex.
  void fail(const std::string &message) {
    if (failure_.empty())
      failure_ = message;
    abortNccl();
  }

  void abortNccl() {
    if (comm_)
      ncclCommAbort(comm_);
    comm_ = nullptr;
  }

  /// Flushes and frees the communicator, or aborts it if that does not end
  /// by the deadline.
  void close() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (checkNccl(ncclCommFinalize(comm_), "ncclCommFinalize") &&
        awaitCall(lock, deadline(), "ncclCommFinalize", "closing NCCL")) {
      ncclCommDestroy(comm_);
      comm_ = nullptr;
    }
    abortNccl();
  }

  const int device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  /// Guards everything below, and every NCCL call.
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::string failure_;
  std::deque<Pending> pending_;
  /// Every event created, and those free for the next exchange.
  std::vector<cudaEvent_t> events_, idle_;
  std::thread watchdog_;
};

} // namespace

Status createNcclCommunicator(const CommunicatorOptions &options, int device,
                              std::shared_ptr<Communicator> &communicator) {
  if (!launchedByMpi())
    return Status::error("--comm=nccl takes its ranks from an MPI launcher: "
                         "run it as mpirun -np N dsp-run ... --comm=nccl");
  // Before MPI starts: a rank without a GPU fails alone, and mpirun ends the
  // others.
  Status status = findCudaDevice(device, device);
  if (!status)
    return status;
  MpiWorld world;
  if (!(status = initializeMpi(options, world)))
    return status;
  auto nccl = std::make_shared<NcclCommunicator>(world, options, device);
  if (!(status = nccl->initialize()))
    return Status::error("rank " + std::to_string(world.rank) + ": " +
                         status.message());
  communicator = std::move(nccl);
  return Status::success();
}

} // namespace runtime
} // namespace dsp
