//===- Communicator.cpp - Fault plans and the local communicator ----------===//
//
// The local communicator: ranks are threads sharing one mailbox table. A
// send posts the sender's address (no copy); the receiver copies straight
// from it and marks the message done, and the sender's exchange returns once
// all its messages are done. Because every rank posts all its sends before
// waiting on anything, an exchange never deadlocks.
//
//===----------------------------------------------------------------------===//

#include "dsp/Runtime/Communicator.h"

#include "dsp/Format/Checked.h"

#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace dsp {
namespace runtime {

std::string FaultPlan::parse(const std::string &text, FaultPlan &plan) {
  plan = FaultPlan();
  if (text.empty())
    return "";
  plan.kind = Error;
  std::istringstream fields(text);
  std::string field;
  while (std::getline(fields, field, ',')) {
    size_t equals = field.find('=');
    std::string key = field.substr(0, equals);
    std::string value =
        equals == std::string::npos ? "" : field.substr(equals + 1);
    std::optional<uint64_t> number = format::parseDecimal(value);
    if (key == "rank" && number && *number <= INT_MAX)
      plan.rank = static_cast<int>(*number);
    else if (key == "after" && number)
      plan.after = *number;
    else if (key == "kind" && value == "error")
      plan.kind = Error;
    else if (key == "kind" && value == "stall")
      plan.kind = Stall;
    else if (key == "kind" && value == "exit")
      plan.kind = Exit;
    else
      return "fault '" + text + "': cannot read '" + field +
             "' (expected rank=K,after=C,kind=error|stall|exit)";
  }
  return "";
}

Status checkCommunicatorOptions(const CommunicatorOptions &options, int size) {
  // Negated, so that NaN fails too.
  if (!(options.timeoutSeconds >= kMinTimeoutSeconds &&
        options.timeoutSeconds <= kMaxTimeoutSeconds)) {
    std::ostringstream message;
    message << "the communication timeout is " << options.timeoutSeconds
            << " s, expected " << kMinTimeoutSeconds << " to "
            << kMaxTimeoutSeconds << " s";
    return Status::error(message.str());
  }
  if (options.fault.kind != FaultPlan::None &&
      (options.fault.rank < 0 || options.fault.rank >= size))
    return Status::error("the injected fault (DSP_FAULT) names rank " +
                         std::to_string(options.fault.rank) + ", but the " +
                         std::to_string(size) + " ranks are 0 to " +
                         std::to_string(size - 1));
  return Status::success();
}

namespace {

/// What MPI launchers set: the processes they started (Open MPI's mpirun;
/// Hydra's mpiexec and PMI launchers), and this one's rank on its node.
constexpr const char *kLaunchedSizeVariables[] = {
    "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"};
constexpr const char *kLaunchedLocalRankVariables[] = {
    "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID"};

} // namespace

int launchedProcessCount() {
  for (const char *variable : kLaunchedSizeVariables) {
    const char *value = std::getenv(variable);
    std::optional<uint64_t> count =
        value ? format::parseDecimal(value, INT_MAX) : std::nullopt;
    if (count && *count > 1)
      return static_cast<int>(*count);
  }
  return 1;
}

int launchedLocalRank() {
  for (const char *variable : kLaunchedLocalRankVariables) {
    const char *value = std::getenv(variable);
    if (std::optional<uint64_t> rank =
            value ? format::parseDecimal(value, INT_MAX) : std::nullopt)
      return static_cast<int>(*rank);
  }
  return 0;
}

bool launchedByMpi() {
  for (const char *variable : kLaunchedSizeVariables)
    if (std::getenv(variable))
      return true;
  return false;
}

std::chrono::steady_clock::time_point Communicator::deadline() const {
  // The timeout is checked to be at most kMaxTimeoutSeconds, so this cannot
  // overflow the clock.
  using Clock = std::chrono::steady_clock;
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(timeoutSeconds()));
}

Status Communicator::timeout(int peer, const char *what) const {
  std::ostringstream message;
  message << "timed out after " << timeoutSeconds() << " s waiting for rank "
          << peer << " " << what;
  return Status::error(message.str());
}

Status Communicator::admit(const std::vector<SendBuffer> &sends,
                           const std::vector<ReceiveBuffer> &receives) {
  uint64_t bytes = 0;
  for (const SendBuffer &send : sends) {
    if (send.peer < 0 || send.peer >= size_ || send.peer == rank_)
      return Status::error("rank " + std::to_string(rank_) +
                           " cannot send to rank " + std::to_string(send.peer));
    bytes += send.bytes;
  }
  for (const ReceiveBuffer &receive : receives)
    if (receive.peer < 0 || receive.peer >= size_ || receive.peer == rank_)
      return Status::error("rank " + std::to_string(rank_) +
                           " cannot receive from rank " +
                           std::to_string(receive.peer));
  bytesSent_ += bytes;
  return Status::success();
}

Status Communicator::exchange(const std::vector<SendBuffer> &sends,
                              const std::vector<ReceiveBuffer> &receives) {
  Status status = admit(sends, receives);
  if (!status)
    return status;
  // An exchange without messages (one rank) has nothing to wait for.
  if (staging_ && (!sends.empty() || !receives.empty()))
    return transferStaged(sends, receives);
  return transfer(sends, receives, true);
}

Status Communicator::exchangeHost(const std::vector<SendBuffer> &sends,
                                  const std::vector<ReceiveBuffer> &receives) {
  Status status = admit(sends, receives);
  if (!status)
    return status;
  return transfer(sends, receives, false);
}

Status
Communicator::transferStaged(const std::vector<SendBuffer> &sends,
                             const std::vector<ReceiveBuffer> &receives) {
  // Every message gets its own 256-byte aligned slot of one buffer.
  auto slot = [](size_t bytes) { return (bytes + 255) / 256 * 256; };
  size_t total = 0;
  for (const SendBuffer &send : sends)
    total += slot(send.bytes);
  for (const ReceiveBuffer &receive : receives)
    total += slot(receive.bytes);
  void *buffer = nullptr;
  Status status = staging_->stagingBuffer(total, buffer);
  uint8_t *next = static_cast<uint8_t *>(buffer);
  std::vector<SendBuffer> hostSends;
  for (const SendBuffer &send : sends) {
    if (!status)
      return status;
    hostSends.push_back({send.peer, next, send.bytes});
    if (send.bytes)
      status = staging_->stageOut(next, send.data, send.bytes);
    next += slot(send.bytes);
  }
  std::vector<ReceiveBuffer> hostReceives;
  for (const ReceiveBuffer &receive : receives) {
    hostReceives.push_back({receive.peer, next, receive.bytes});
    next += slot(receive.bytes);
  }
  if (status)
    status = staging_->awaitStaged();
  if (status)
    status = transfer(hostSends, hostReceives, false);
  for (size_t i = 0; status && i < receives.size(); ++i)
    if (receives[i].bytes)
      status = staging_->stageIn(receives[i].data, hostReceives[i].data,
                                 receives[i].bytes);
  return status;
}

Status Communicator::beginCollective(const std::string &kind) {
  uint64_t index = collectives_++;
  collective_ = kind;
  if (options_.fault.kind == FaultPlan::None || options_.fault.rank != rank_ ||
      options_.fault.after != index)
    return Status::success();
  switch (options_.fault.kind) {
  case FaultPlan::Stall:
    // A hung rank: the others must notice by their deadline.
    for (;;)
      std::this_thread::sleep_for(std::chrono::hours(1));
  case FaultPlan::Exit:
    exited_ = true;
    exitRank();
    return Status::error("rank " + std::to_string(rank_) +
                         " exited (injected fault in " + kind + ")");
  default:
    return Status::error("injected fault in " + kind + " (DSP_FAULT)");
  }
}

namespace {

/// What the threads of one local group share.
struct LocalGroup {
  explicit LocalGroup(int size) : size(size) {}

  struct Message {
    const void *data;
    size_t bytes;
    /// Device transports only: the sender's and the receiver's markers.
    const void *sent = nullptr;
    const void *received = nullptr;
    bool done = false;
  };

  const int size;
  std::mutex mutex;
  std::condition_variable changed;
  /// The first failure, "rank K failed: ..."; empty while all is well.
  std::string failure;
  /// Messages posted from rank s to rank d, in order, at {s, d}; only pairs
  /// with messages in flight have an entry, so memory does not grow with
  /// the square of the ranks.
  std::map<std::pair<int, int>, std::deque<std::shared_ptr<Message>>> mailboxes;
};

class LocalCommunicator : public Communicator {
public:
  LocalCommunicator(int rank, std::shared_ptr<LocalGroup> group,
                    const CommunicatorOptions &options)
      : Communicator(rank, group->size, options), group_(std::move(group)) {}

  const char *name() const override { return "local"; }
  int ranksOnHost() const override { return size_; }
  bool setDeviceTransport(DeviceTransport *transport) override {
    transport_ = transport;
    return true;
  }

  void abort(const std::string &message) override {
    std::lock_guard<std::mutex> lock(group_->mutex);
    if (group_->failure.empty())
      group_->failure = "rank " + std::to_string(rank_) + " failed: " + message;
    group_->changed.notify_all();
  }

protected:
  Status transfer(const std::vector<SendBuffer> &sends,
                  const std::vector<ReceiveBuffer> &receives,
                  bool backendMemory) override {
    std::chrono::steady_clock::time_point deadline = this->deadline();
    DeviceTransport *transport = backendMemory ? transport_ : nullptr;
    LocalGroup &group = *group_;
    std::unique_lock<std::mutex> lock(group.mutex);
    if (!group.failure.empty())
      return Status::error(group.failure);
    // Shared ownership: a receiver may still mark a message done after this
    // rank gave up on it.
    std::vector<std::shared_ptr<LocalGroup::Message>> posted;
    const void *sent = nullptr;
    if (transport && !sends.empty()) {
      Status status = transport->markSent(sent);
      if (!status)
        return status;
    }
    for (const SendBuffer &send : sends) {
      posted.push_back(std::make_shared<LocalGroup::Message>(
          LocalGroup::Message{send.data, send.bytes, sent}));
      group.mailboxes[{rank_, send.peer}].push_back(posted.back());
    }
    group.changed.notify_all();

    for (const ReceiveBuffer &receive : receives) {
      auto &mailbox = group.mailboxes[{receive.peer, rank_}];
      if (!group.changed.wait_until(lock, deadline, [&] {
            return !mailbox.empty() || !group.failure.empty();
          }))
        return timeout(receive.peer, "to send");
      if (!group.failure.empty())
        return Status::error(group.failure);
      std::shared_ptr<LocalGroup::Message> message = mailbox.front();
      mailbox.pop_front();
      if (mailbox.empty())
        group.mailboxes.erase({receive.peer, rank_});
      if (message->bytes != receive.bytes)
        return Status::error("rank " + std::to_string(receive.peer) + " sent " +
                             std::to_string(message->bytes) + " bytes, rank " +
                             std::to_string(rank_) + " expected " +
                             std::to_string(receive.bytes));
      lock.unlock();
      Status copied = Status::success();
      if (transport)
        copied = transport->receive(receive.data, message->data, receive.bytes,
                                    message->sent, message->received);
      else if (receive.bytes)
        std::memcpy(receive.data, message->data, receive.bytes);
      lock.lock();
      // The sender waits for `done` either way: a failed copy is reported
      // by both, the receiver here and the sender through abort().
      if (!copied) {
        message->done = true;
        group.changed.notify_all();
        return copied;
      }
      message->done = true;
      group.changed.notify_all();
    }

    for (size_t i = 0; i < posted.size(); ++i) {
      const LocalGroup::Message &message = *posted[i];
      if (!group.changed.wait_until(lock, deadline, [&] {
            return message.done || !group.failure.empty();
          }))
        return timeout(sends[i].peer, "to receive");
      if (!group.failure.empty())
        return Status::error(group.failure);
      if (transport && message.received) {
        Status status = transport->awaitReceived(message.received);
        if (!status)
          return status;
      }
    }
    return Status::success();
  }

  void exitRank() override {}

private:
  std::shared_ptr<LocalGroup> group_;
  DeviceTransport *transport_ = nullptr;
};

} // namespace

Status
createLocalCommunicators(int size, const CommunicatorOptions &options,
                         std::vector<std::shared_ptr<Communicator>> &group) {
  group.clear();
  if (size < 1)
    return Status::error("a group needs at least 1 rank, got " +
                         std::to_string(size));
  if (size > kMaxLocalRanks)
    return Status::error(
        std::to_string(size) + " ranks are more than the " +
        std::to_string(kMaxLocalRanks) +
        " that run as threads of one process (--comm=local); run them as " +
        "MPI processes: mpirun -np " + std::to_string(size) +
        " dsp-run ... --comm=mpi");
  Status status = checkCommunicatorOptions(options, size);
  if (!status)
    return status;
  auto shared = std::make_shared<LocalGroup>(size);
  for (int rank = 0; rank < size; ++rank)
    group.push_back(std::make_shared<LocalCommunicator>(rank, shared, options));
  return Status::success();
}

#ifndef DSP_HAVE_MPI
Status createMpiCommunicator(const CommunicatorOptions &,
                             std::shared_ptr<Communicator> &) {
  return Status::error("this runtime was built without MPI; rebuild it with "
                       "an MPI installation or use --comm=local");
}
#endif

#if !defined(DSP_HAVE_NCCL)
Status createNcclCommunicator(const CommunicatorOptions &, int,
                              std::shared_ptr<Communicator> &) {
  return Status::error("this runtime was built without NCCL (it needs the "
                       "cuda backend, MPI and NCCL when it is built); use "
                       "--comm=mpi");
}
#endif

} // namespace runtime
} // namespace dsp
