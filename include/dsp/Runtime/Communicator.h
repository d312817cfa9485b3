//===- Communicator.h - How ranks exchange bytes ----------------*- C++ -*-===//
//
// A communicator connects the N ranks of a multi-rank program. Its only
// data primitive is exchange(): a group of point-to-point sends and receives
// that completes as a whole, the shape of ncclGroupStart/ncclSend/ncclRecv/
// ncclGroupEnd, so a stream-ordered NCCL communicator implements it by
// enqueueing on the backend's stream. The collectives (all_to_all,
// all_gather, ...) are built once on top of it (lib/Runtime/Collectives.cpp).
//
// Nothing waits forever: every exchange has a deadline (the timeout, from
// kMinTimeoutSeconds to kMaxTimeoutSeconds), and a rank that fails calls
// abort(), which makes every other rank's pending and later calls fail with
// "rank K failed: ...".
//
// Implementations: "local" (ranks are threads of one process), "mpi"
// (ranks are Open MPI processes) and "nccl" (ranks are MPI processes, one
// GPU each; lib/Runtime/CUDA/NcclCommunicator.cpp).
//
// How a GPU backend's device buffers travel depends on the communicator;
// the backend offers the hooks below in turn and the communicator takes the
// first it can use: a DeviceTransport (local: the ranks' streams share one
// process), its stream (nccl: the exchange is enqueued on it), else host
// staging (any communicator that moves host memory, such as mpi).
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_COMMUNICATOR_H
#define DSP_RUNTIME_COMMUNICATOR_H

#include "dsp/Runtime/Status.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dsp {
namespace runtime {

/// The range of CommunicatorOptions::timeoutSeconds: short enough waits
/// fail every healthy exchange, long enough ones overflow a deadline.
constexpr double kMinTimeoutSeconds = 0.01;
constexpr double kMaxTimeoutSeconds = 1e6;

/// The most ranks createLocalCommunicators runs as threads of one process;
/// more run as MPI processes.
constexpr int kMaxLocalRanks = 1024;

/// A fault injected at the start of a collective, for tests. Parsed from
/// "rank=K,after=C,kind=error|stall|exit": rank K fails in the collective
/// that follows its first C collectives. error returns an error, stall
/// sleeps forever, exit ends the rank without telling anyone (the process
/// for mpi, the thread for local). K must be one of the group's ranks.
struct FaultPlan {
  enum Kind { None, Error, Stall, Exit };
  Kind kind = None;
  int rank = 0;
  uint64_t after = 0;

  /// Parses `text` (empty: no fault); returns "" or what is wrong.
  static std::string parse(const std::string &text, FaultPlan &plan);
};

struct CommunicatorOptions {
  /// The longest any exchange waits for its peers, in seconds.
  double timeoutSeconds = 60;
  FaultPlan fault;
};

/// Checks `options` for a group of `size` ranks: the timeout in range, the
/// fault's rank in the group.
Status checkCommunicatorOptions(const CommunicatorOptions &options, int size);

/// Bytes handed to the transport for `peer`.
struct SendBuffer {
  int peer;
  const void *data;
  size_t bytes;
};

/// Bytes expected from `peer`, written to `data`.
struct ReceiveBuffer {
  int peer;
  void *data;
  size_t bytes;
};

/// How the ranks of a local group move bytes that live in device memory
/// (GPU ranks that are streams of one process): each rank's backend
/// installs one on its communicator. The local communicator then hands a
/// message's addresses to it instead of copying, and the markers order the
/// ranks' streams: a receiver's copy runs after the sender's pending work,
/// and the sender's later work after the copy.
class DeviceTransport {
public:
  virtual ~DeviceTransport() = default;
  /// On the sender, as it posts an exchange's sends: a marker of the work
  /// it enqueued so far.
  virtual Status markSent(const void *&marker) = 0;
  /// On the receiver: enqueues the copy of `bytes` from a peer's `source`
  /// once the peer's `sent` marker is reached; sets `done` to a marker of
  /// the copy.
  virtual Status receive(void *target, const void *source, size_t bytes,
                         const void *sent, const void *&done) = 0;
  /// On the sender, for each message a peer took: orders its later work
  /// after the peer's copy (`done`).
  virtual Status awaitReceived(const void *done) = 0;
};

/// How a communicator that moves host memory between processes (mpi)
/// reaches device buffers: the backend stages them through pinned host
/// memory, ordered on the rank's stream. An exchange copies its sends to
/// the host, waits, moves host memory, then copies its receives back to the
/// device.
class HostStaging {
public:
  virtual ~HostStaging() = default;
  /// Host memory of at least `bytes` for one exchange, valid until the
  /// copies of the next exchange are enqueued.
  virtual Status stagingBuffer(size_t bytes, void *&host) = 0;
  /// Enqueues the copy of `bytes` from the device to `host`.
  virtual Status stageOut(void *host, const void *device, size_t bytes) = 0;
  /// Waits until the copies enqueued so far completed, so that the
  /// transport may read and write the host memory.
  virtual Status awaitStaged() = 0;
  /// Enqueues the copy of `bytes` from `host` to the device.
  virtual Status stageIn(void *device, const void *host, size_t bytes) = 0;
};

class Communicator {
public:
  Communicator(int rank, int size, const CommunicatorOptions &options)
      : rank_(rank), size_(size), options_(options) {}
  virtual ~Communicator() = default;
  Communicator(const Communicator &) = delete;
  Communicator &operator=(const Communicator &) = delete;

  virtual const char *name() const = 0;
  int rank() const { return rank_; }
  int size() const { return size_; }
  double timeoutSeconds() const { return options_.timeoutSeconds; }
  /// Ranks that share this host's cores (to size thread pools).
  virtual int ranksOnHost() const = 0;

  /// Posts every send and receive of buffers in the memory of the rank's
  /// backend (device memory once a GPU backend installed one of the hooks
  /// above), then waits until all completed, or, on a communicator that
  /// took the backend's stream, enqueues them on it. Messages between two
  /// ranks match in posting order; a receive must expect exactly the bytes
  /// sent. No peer may be this rank. Fails when the timeout passes or
  /// another rank failed; the error names the rank.
  Status exchange(const std::vector<SendBuffer> &sends,
                  const std::vector<ReceiveBuffer> &receives);

  /// exchange() of host memory whatever hooks are installed, for the
  /// runtime's own figures (statistics, traces); waits until completed.
  Status exchangeHost(const std::vector<SendBuffer> &sends,
                      const std::vector<ReceiveBuffer> &receives);

  /// Tells every rank that this one failed with `message` and stops them:
  /// local ranks fail their pending and later calls; mpi ends the job.
  virtual void abort(const std::string &message) = 0;

  /// Called by each collective as it starts (`kind` names it in errors):
  /// counts collectives and applies the injected fault, if any.
  Status beginCollective(const std::string &kind);

  /// Makes exchange() move device memory through `transport` (null: host
  /// memory again). Only communicators whose ranks share one process can;
  /// the others return false.
  virtual bool setDeviceTransport(DeviceTransport *) { return false; }

  /// Makes exchange() enqueue device memory transfers on `stream` (a
  /// cudaStream_t; null: host memory again). Only communicators that move
  /// device memory themselves can; the others return false.
  virtual bool setDeviceStream(void *) { return false; }

  /// After the backend waited for its stream: the failure of a transfer
  /// that exchange() enqueued on it (a peer's error, a timeout), if any.
  virtual Status checkEnqueued() { return Status::success(); }

  /// Makes exchange() stage device buffers through `staging` (null: host
  /// memory again). Every communicator can.
  void setHostStaging(HostStaging *staging) { staging_ = staging; }

  /// Bytes this rank handed to the transport for other ranks so far.
  uint64_t bytesSent() const { return bytesSent_; }

  /// True once an injected exit fault ended this rank: its runner must stop
  /// without reporting, as a dead rank would.
  bool exited() const { return exited_; }

protected:
  /// Moves the buffers: in the backend's memory (`backendMemory`; host
  /// memory unless this communicator took a device transport or a stream)
  /// or in host memory.
  virtual Status transfer(const std::vector<SendBuffer> &sends,
                          const std::vector<ReceiveBuffer> &receives,
                          bool backendMemory) = 0;
  /// The kind of the collective begun last ("" before the first), for
  /// errors found after it was enqueued.
  const std::string &collective() const { return collective_; }
  /// When an exchange starting now must have completed.
  std::chrono::steady_clock::time_point deadline() const;
  /// "timed out after T s waiting for rank `peer` `what`".
  Status timeout(int peer, const char *what) const;
  /// Ends this rank abruptly (injected exit fault).
  virtual void exitRank() = 0;

  const int rank_, size_;
  const CommunicatorOptions options_;
  std::atomic<bool> exited_{false};

private:
  /// Checks the peers and counts the bytes of an exchange.
  Status admit(const std::vector<SendBuffer> &sends,
               const std::vector<ReceiveBuffer> &receives);
  /// transfer() of device buffers staged through host memory.
  Status transferStaged(const std::vector<SendBuffer> &sends,
                        const std::vector<ReceiveBuffer> &receives);

  std::atomic<uint64_t> bytesSent_{0};
  uint64_t collectives_ = 0;
  std::string collective_;
  HostStaging *staging_ = nullptr;
};

/// Creates the `size` (1 to kMaxLocalRanks) communicators of one local
/// group: rank i is element i, to be used by one thread each.
Status
createLocalCommunicators(int size, const CommunicatorOptions &options,
                         std::vector<std::shared_ptr<Communicator>> &group);

/// How many processes an MPI launcher started together with this one, from
/// the variables it sets (OMPI_COMM_WORLD_SIZE for Open MPI's mpirun;
/// PMI_SIZE and MPI_LOCALNRANKS for Hydra's mpiexec and PMI launchers); 1
/// if none did. Such processes are ranks only through the mpi communicator.
int launchedProcessCount();

/// This process's rank among those an MPI launcher started on its node
/// (OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID), 0 without a launcher.
int launchedLocalRank();

/// Whether an MPI launcher started this process (it set
/// OMPI_COMM_WORLD_SIZE, PMI_SIZE or MPI_LOCALNRANKS, also to 1).
bool launchedByMpi();

/// Initializes MPI (once per process) and returns the communicator of
/// MPI_COMM_WORLD. Fails if the runtime was built without MPI.
Status createMpiCommunicator(const CommunicatorOptions &options,
                             std::shared_ptr<Communicator> &communicator);

/// Joins the NCCL communicator of the processes an MPI launcher started,
/// on CUDA device `device` (negative: the node-local rank modulo the
/// devices). Fails without a launcher and if the runtime was built without
/// CUDA, MPI or NCCL.
Status createNcclCommunicator(const CommunicatorOptions &options, int device,
                              std::shared_ptr<Communicator> &communicator);

} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_COMMUNICATOR_H
