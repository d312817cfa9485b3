//===- MpiCommunicator.cpp - Ranks as Open MPI processes ------------------===//
//
// An exchange posts non-blocking sends and receives and polls them until
// they complete or the deadline passes; MPI has no fault tolerance to rely
// on (Open MPI 4.1 has no ULFM), so a failing rank ends the whole job with
// MPI_Abort and a rank that times out does the same after reporting.
// A GPU backend's device buffers travel staged through pinned host memory
// (HostStaging): that works between any two processes, on one node or
// across nodes, and needs neither CUDA-aware MPI nor IPC handles.
//
//===----------------------------------------------------------------------===//

#include "MpiCommunicator.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

namespace dsp {
namespace runtime {

namespace {

// MPI counts are ints: larger messages travel as several pieces.
constexpr size_t kMaxPieceBytes = size_t(1) << 30;
constexpr int kTag = 0x05D5;

} // namespace

MpiCommunicator::~MpiCommunicator() { MPI_Finalize(); }

void MpiCommunicator::abort(const std::string &) {
  MPI_Abort(MPI_COMM_WORLD, 1);
}

Status MpiCommunicator::transfer(const std::vector<SendBuffer> &sends,
                                 const std::vector<ReceiveBuffer> &receives,
                                 bool) {
  std::vector<MPI_Request> requests;
  // The peer and direction of each request, for the timeout message.
  std::vector<std::pair<int, const char *>> owners;
  auto post = [&](int peer, size_t bytes, auto &&start, const char *direction) {
    size_t offset = 0;
    do {
      size_t piece = std::min(bytes - offset, kMaxPieceBytes);
      requests.emplace_back();
      start(offset, static_cast<int>(piece), &requests.back());
      owners.emplace_back(peer, direction);
      offset += piece;
    } while (offset < bytes);
  };
  for (const ReceiveBuffer &receive : receives)
    post(
        receive.peer, receive.bytes,
        [&](size_t offset, int piece, MPI_Request *request) {
          MPI_Irecv(static_cast<char *>(receive.data) + offset, piece, MPI_BYTE,
                    receive.peer, kTag, MPI_COMM_WORLD, request);
        },
        "to send");
  for (const SendBuffer &send : sends)
    post(
        send.peer, send.bytes,
        [&](size_t offset, int piece, MPI_Request *request) {
          MPI_Isend(static_cast<const char *>(send.data) + offset, piece,
                    MPI_BYTE, send.peer, kTag, MPI_COMM_WORLD, request);
        },
        "to receive");

  std::chrono::steady_clock::time_point deadline = this->deadline();
  for (unsigned polls = 0;; ++polls) {
    int done = 0;
    MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done,
                MPI_STATUSES_IGNORE);
    if (done)
      return Status::success();
    if (std::chrono::steady_clock::now() > deadline)
      break;
    // Spin briefly for latency, then back off so oversubscribed ranks
    // leave the cores to the peers they wait for.
    if (polls > 1000)
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    int done = 0;
    MPI_Test(&requests[i], &done, MPI_STATUS_IGNORE);
    if (!done)
      return timeout(owners[i].first, owners[i].second);
  }
  return Status::error("timed out, then every request completed");
}

void MpiCommunicator::exitRank() {
  std::cerr << "dsp-run: rank " << rank_ << " exits (injected fault)"
            << std::endl;
  std::_Exit(3);
}

Status initializeMpi(const CommunicatorOptions &options, MpiWorld &world) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized)
    return Status::error("MPI is already initialized: create one mpi or nccl "
                         "communicator per process");
  int provided = 0;
  // Serialized: a session's communication lane makes the calls of a run
  // from a thread of its own, while the main thread makes none.
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) !=
      MPI_SUCCESS)
    return Status::error("MPI_Init_thread failed");
  MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world.size);
  MPI_Comm host;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world.rank,
                      MPI_INFO_NULL, &host);
  MPI_Comm_size(host, &world.ranksOnHost);
  MPI_Comm_free(&host);
  // Every process has the same options: all fail here, and leave together.
  Status status = checkCommunicatorOptions(options, world.size);
  if (!status)
    MPI_Finalize();
  return status;
}

Status createMpiCommunicator(const CommunicatorOptions &options,
                             std::shared_ptr<Communicator> &communicator) {
  MpiWorld world;
  Status status = initializeMpi(options, world);
  if (status)
    communicator = std::make_shared<MpiCommunicator>(world, options);
  return status;
}

} // namespace runtime
} // namespace dsp
