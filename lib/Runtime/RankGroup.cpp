//===- RankGroup.cpp - Running a multi-rank program -----------------------===//
//
// Local ranks run as threads, one per session, each over its own local
// communicator; under mpi and nccl this process runs its one rank on the
// calling thread. Gathering goes through the communicators (mpi) or reads the
// sessions directly (local).
//
//===----------------------------------------------------------------------===//

#include "dsp/Runtime/RankGroup.h"

#include "dsp/Format/Checked.h"
#include "dsp/Format/Layout.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <sstream>
#include <thread>

namespace dsp {
namespace runtime {

namespace {

/// After the first failure, the other local ranks stop at their next
/// exchange; one still busy this long after (a stalled rank, or one in a
/// long kernel) is abandoned. A stall thus ends the run within the
/// communication timeout plus this margin.
constexpr double kStopGraceSeconds = 0.5;

/// The global value of a graph input or output of which `block` is one
/// rank's.
TensorInfo globalValue(TensorInfo block) {
  // Validated: the global shape has at most 2^48 elements.
  int64_t elements = 1;
  for (int64_t dim : block.globalShape)
    elements *= dim;
  block.shape = block.globalShape;
  block.bytes =
      static_cast<size_t>(elements) * format::elementSize(block.dtype);
  return block;
}

/// How the ranks of `file` hold graph input or output `value`.
format::MeshLayout layoutOf(const format::ProgramFile &file,
                            const TensorInfo &value) {
  // Validated: the layout decodes.
  format::MeshLayout layout;
  format::decodeTensorLayout(file.program(), value.layout, layout);
  return layout;
}

/// Whether every rank holds the whole value of `layout`: replicated on
/// every mesh axis.
bool isWhole(const format::MeshLayout &layout) {
  return std::all_of(layout.axes.begin(), layout.axes.end(),
                     [](const format::Layout &axis) {
                       return axis.kind == format::Layout::Replicated;
                     });
}

/// `kind` ("input" or "output") `index` and its name, for an error.
std::string describe(const char *kind, size_t index, const TensorInfo &info) {
  return std::string(kind) + " " + std::to_string(index) + " ('" + info.name +
         "')";
}

/// Runs `session` `repeat` times, timing each run into `milliseconds`.
/// Returns "" or what failed.
std::string runRepeatedly(Session &session, uint64_t repeat,
                          const std::string &program,
                          std::vector<double> &milliseconds) {
  try {
    for (uint64_t run = 0; run < repeat; ++run) {
      auto start = std::chrono::steady_clock::now();
      Status status = session.run();
      milliseconds.push_back(std::chrono::duration<double, std::milli>(
                                 std::chrono::steady_clock::now() - start)
                                 .count());
      if (!status)
        return program + ": " + status.message();
    }
  } catch (const std::exception &exception) {
    return std::string("exception: ") + exception.what();
  }
  return "";
}

std::string jsonString(const std::string &text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      quoted += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      quoted += escaped;
      continue;
    }
    quoted += c;
  }
  return quoted + "\"";
}

/// The words one trace event travels as between processes.
constexpr size_t kTraceEventWords = 6;

void appendWords(const TraceEvent &event, std::vector<uint64_t> &words) {
  words.insert(words.end(), {event.instruction, event.run,
                             static_cast<uint64_t>(event.startNanoseconds),
                             static_cast<uint64_t>(event.endNanoseconds),
                             event.collective, event.bytesSent});
}

TraceEvent eventAt(const std::vector<uint64_t> &words, size_t offset) {
  TraceEvent event;
  event.instruction = static_cast<uint32_t>(words[offset]);
  event.run = words[offset + 1];
  event.startNanoseconds = static_cast<int64_t>(words[offset + 2]);
  event.endNanoseconds = static_cast<int64_t>(words[offset + 3]);
  event.collective = words[offset + 4] != 0;
  event.bytesSent = words[offset + 5];
  return event;
}

/// Microseconds with nanosecond precision, as the trace format takes them.
std::string microseconds(int64_t nanoseconds) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3f", nanoseconds / 1000.0);
  return text;
}

} // namespace

std::string statisticsJson(const GroupStatistics &group) {
  const Statistics &stats = group.statistics;
  std::ostringstream json;
  json << "{\n  \"backend\": " << jsonString(group.backend)
       << ",\n  \"comm\": " << jsonString(group.comm)
       << ",\n  \"ranks\": " << group.peakMemoryBytes.size()
       << ",\n  \"runs\": " << stats.runs << ",\n  \"run_ms\": [";
  for (size_t i = 0; i < group.runMilliseconds.size(); ++i)
    json << (i ? ", " : "") << group.runMilliseconds[i];
  json << "],\n  \"ops\": {";
  bool first = true;
  for (const auto &[op, opStats] : stats.ops) {
    json << (first ? "\n" : ",\n") << "    " << jsonString(op)
         << ": {\"count\": " << opStats.count
         << ", \"total_ms\": " << opStats.totalMilliseconds << "}";
    first = false;
  }
  json << (first ? "" : "\n  ") << "},\n";
  if (!stats.implementations.empty()) {
    json << "  \"implementations\": {";
    first = true;
    for (const auto &[op, counts] : stats.implementations) {
      json << (first ? "\n" : ",\n") << "    " << jsonString(op) << ": {";
      bool firstCount = true;
      for (const auto &[implementation, count] : counts) {
        json << (firstCount ? "" : ", ") << jsonString(implementation) << ": "
             << count;
        firstCount = false;
      }
      json << "}";
      first = false;
    }
    json << "\n  },\n";
  }
  json << "  \"peak_memory_bytes\": [";
  for (size_t rank = 0; rank < group.peakMemoryBytes.size(); ++rank)
    json << (rank ? ", " : "") << group.peakMemoryBytes[rank];
  json << "],\n  \"arena_bytes\": " << stats.arenaBytes
       << ",\n  \"workspace_bytes\": " << stats.workspaceBytes
       << ",\n  \"input_bytes\": " << stats.inputBytes
       << ",\n  \"collectives\": [";
  for (size_t i = 0; i < stats.collectives.size(); ++i)
    json << (i ? ",\n" : "\n")
         << "    {\"kind\": " << jsonString(stats.collectives[i].kind)
         << ", \"location\": " << jsonString(stats.collectives[i].location)
         << ", \"bytes_per_rank\": " << stats.collectives[i].bytesPerRank
         << "}";
  json << (stats.collectives.empty() ? "" : "\n  ")
       << "],\n  \"totals\": {\"bytes_per_rank\": " << stats.bytesPerRank
       << "}";
  // Outputs carried into the next run's inputs: local copies, so the
  // collectives above (one run's) are all that crosses ranks per step.
  if (stats.carries)
    json << ",\n  \"carry\": {\"count\": " << stats.carries
         << ", \"local_bytes_per_rank\": " << stats.carriedBytes
         << ", \"bytes_between_ranks\": 0}";
  json << "\n}\n";
  return json.str();
}

std::unique_ptr<RankGroup>
RankGroup::create(std::shared_ptr<const format::ProgramFile> program,
                  const RankGroupOptions &options, std::string &error) {
  std::unique_ptr<RankGroup> group(new RankGroup());
  group->file_ = std::move(program);
  Status status;
  try {
    status = group->initialize(options);
  } catch (const std::bad_alloc &) {
    status = Status::error(group->file_->path() +
                           ": out of memory while creating the rank group");
  }
  if (!status) {
    error = status.message();
    return nullptr;
  }
  return group;
}

RankGroup::~RankGroup() = default;

Status RankGroup::initialize(const RankGroupOptions &options) {
  const std::string &path = file_->path();
  ranks_ = static_cast<int>(file_->program().ranks());
  backend_ = options.backend;
  trace_ = options.trace;
  mpi_ = options.comm == "mpi" || options.comm == "nccl";
  if (mpi_) {
    std::shared_ptr<Communicator> communicator;
    Status status;
    if (options.comm == "mpi")
      status = createMpiCommunicator(options.communicator, communicator);
    else if (options.backend != "cuda")
      status = Status::error("--comm=nccl moves device memory: it needs "
                             "--backend=cuda, got '" +
                             options.backend + "'");
    else
      status = createNcclCommunicator(options.communicator, options.device,
                                      communicator);
    if (!status)
      return status;
    communicators_.push_back(communicator);
    if (communicator->size() != ranks_)
      return Status::error(
          "rank " + std::to_string(communicator->rank()) + ": " + path +
          " runs on " + std::to_string(ranks_) + " ranks, but mpirun started " +
          std::to_string(communicator->size()) + " processes (use mpirun -np " +
          std::to_string(ranks_) + ")");
  } else if (options.comm == "local") {
    Status status =
        createLocalCommunicators(ranks_, options.communicator, communicators_);
    if (!status)
      return Status::error(path + ": " + status.message());
  } else {
    return Status::error("comm must be local, mpi or nccl, got '" +
                         options.comm + "'");
  }

  // Rank threads share the cores: each gets its part unless told.
  SessionOptions sessionOptions;
  sessionOptions.backend = options.backend;
  sessionOptions.device = options.device;
  sessionOptions.trace = options.trace;
  sessionOptions.dumpFolder = options.dumpFolder;
  sessionOptions.threads =
      options.threads ? options.threads
                      : std::clamp(std::thread::hardware_concurrency() /
                                       static_cast<unsigned>(
                                           communicators_[0]->ranksOnHost()),
                                   1u, kMaxThreads);
  // Under mpi, the error says which process failed.
  std::string prefix = mpi_ ? "rank " + std::to_string(rank(0)) + ": " : "";
  for (const auto &communicator : communicators_) {
    sessionOptions.communicator = communicator;
    std::string error;
    std::unique_ptr<Session> session =
        Session::create(file_, sessionOptions, error);
    if (!session)
      return Status::error(prefix + error);
    sessions_.push_back(std::move(session));
  }

  for (size_t i = 0; i < sessions_[0]->numInputs(); ++i)
    inputs_.push_back(globalValue(sessions_[0]->inputInfo(i)));
  for (size_t i = 0; i < sessions_[0]->numOutputs(); ++i)
    outputs_.push_back(globalValue(sessions_[0]->outputInfo(i)));
  return Status::success();
}

Status RankGroup::checkLocal(size_t local, const char *what) const {
  if (local < sessions_.size())
    return Status::success();
  return Status::error(std::string(what) + " of local rank " +
                       std::to_string(local) + ": this process runs " +
                       std::to_string(sessions_.size()) + " rank" +
                       (sessions_.size() == 1 ? "" : "s"));
}

int RankGroup::rank(size_t local) const {
  return communicators_[local]->rank();
}

const char *RankGroup::commName() const { return communicators_[0]->name(); }

int RankGroup::findInput(const std::string &name) const {
  return sessions_[0]->findInput(name);
}

int RankGroup::findOutput(const std::string &name) const {
  return sessions_[0]->findOutput(name);
}

Status RankGroup::bindInput(size_t index, dsp::program::DType dtype,
                            const std::vector<int64_t> &shape, const void *data,
                            size_t bytes) {
  if (index >= inputs_.size())
    return sessions_[0]->bindInput(index, dtype, shape, data, bytes);
  const TensorInfo &global = inputs_[index];
  format::MeshLayout layout = layoutOf(*file_, global);
  if (isWhole(layout)) {
    for (auto &session : sessions_) {
      Status status = session->bindInput(index, dtype, shape, data, bytes);
      if (!status)
        return status;
    }
    return Status::success();
  }
  if (shape != global.shape)
    return Status::error(describe("input", index, global) + " expects shape " +
                         format::shapeString(global.shape) + " (each of the " +
                         std::to_string(ranks_) + " ranks reads its " +
                         layout.str() + " block), got " +
                         format::shapeString(shape));
  // A wrong dtype is left to the session to report. Blocks keep the
  // dtype of `data`; the sessions convert f32 to a 16-bit input.
  bool extract = bindsTo(dtype, global.dtype);
  size_t elementSize = format::elementSize(dtype);
  size_t expected =
      global.bytes / format::elementSize(global.dtype) * elementSize;
  if (extract && (bytes != expected || !data))
    return Status::error(describe("input", index, global) + " expects " +
                         std::to_string(expected) + " bytes of data, got " +
                         std::to_string(bytes));
  const TensorInfo &local = sessions_[0]->inputInfo(index);
  std::vector<uint8_t> block(local.bytes / format::elementSize(global.dtype) *
                             elementSize);
  for (size_t i = 0; i < sessions_.size(); ++i) {
    if (extract)
      format::extractMeshBlock(data, shape, elementSize, layout, rank(i),
                               block.data());
    Status status = sessions_[i]->bindInput(index, dtype, local.shape,
                                            block.data(), block.size());
    if (!status)
      return status;
  }
  return Status::success();
}

Status RankGroup::bindInputBlock(size_t local, size_t index,
                                 dsp::program::DType dtype,
                                 const std::vector<int64_t> &shape,
                                 const void *data, size_t bytes) {
  Status status = checkLocal(local, "cannot bind a block");
  return status ? sessions_[local]->bindInput(index, dtype, shape, data, bytes)
                : status;
}

Status RankGroup::run(uint64_t repeat) {
  if (!failure_.empty())
    return Status::error("the group stopped after a failure: " + failure_);
  // Several ranks of this process run together, a thread each; a single
  // one (an MPI process's, or a group of one) runs on the calling thread,
  // which spares starting a thread per run.
  if (sessions_.size() > 1)
    return runLocalRanks(repeat);
  std::string message =
      runRepeatedly(*sessions_[0], repeat, file_->path(), runMilliseconds_);
  if (message.empty())
    return Status::success();
  failure_ = "rank " + std::to_string(rank(0)) + ": " + message;
  return Status::error(failure_);
}

Status RankGroup::runLocalRanks(uint64_t repeat) {
  struct Progress {
    std::mutex mutex;
    std::condition_variable changed;
    size_t finished = 0;
    std::string failure;
    std::vector<double> rank0Milliseconds;
  };
  // Shared with threads that may outlive this call.
  auto progress = std::make_shared<Progress>();
  std::vector<std::thread> threads;
  for (size_t rank = 0; rank < sessions_.size(); ++rank)
    try {
      threads.emplace_back([progress, session = sessions_[rank],
                            communicator = communicators_[rank], repeat,
                            program = file_->path(), rank] {
        std::vector<double> ignored;
        std::string message =
            runRepeatedly(*session, repeat, program,
                          rank == 0 ? progress->rank0Milliseconds : ignored);
        // A rank that exited says nothing, like a dead process.
        bool report = !message.empty() && !communicator->exited();
        if (report)
          communicator->abort(message);
        std::lock_guard<std::mutex> lock(progress->mutex);
        if (report && progress->failure.empty())
          progress->failure = "rank " + std::to_string(rank) + ": " + message;
        ++progress->finished;
        progress->changed.notify_all();
      });
    } catch (const std::exception &exception) {
      // Out of threads: the ranks started wait for this one until told.
      std::string message =
          std::string("cannot start the thread of this rank: ") +
          exception.what();
      communicators_[rank]->abort(message);
      std::lock_guard<std::mutex> lock(progress->mutex);
      if (progress->failure.empty())
        progress->failure = "rank " + std::to_string(rank) + ": " + message;
      break;
    }
  std::unique_lock<std::mutex> lock(progress->mutex);
  size_t all = threads.size();
  progress->changed.wait(lock, [&] {
    return progress->finished == all || !progress->failure.empty();
  });
  bool abandoned = !progress->changed.wait_for(
      lock, std::chrono::duration<double>(kStopGraceSeconds),
      [&] { return progress->finished == all; });
  failure_ = progress->failure;
  lock.unlock();
  for (std::thread &thread : threads)
    if (abandoned)
      thread.detach();
    else
      thread.join();
  if (!failure_.empty())
    return Status::error(failure_);
  runMilliseconds_.insert(runMilliseconds_.end(),
                          progress->rank0Milliseconds.begin(),
                          progress->rank0Milliseconds.end());
  return Status::success();
}

Status RankGroup::readOutput(size_t index, void *data, size_t bytes) const {
  if (index >= outputs_.size() || outputs_[index].keepsLayoutOf.empty())
    return sessions_[0]->readOutput(index, data, bytes);
  const TensorInfo &global = outputs_[index];
  format::MeshLayout layout = layoutOf(*file_, global);
  if (isWhole(layout))
    return sessions_[0]->readOutput(index, data, bytes);
  if (mpi_ || layout.axes.size() != 1)
    return Status::error(
        describe("output", index, global) + " is kept " + layout.str() +
        (mpi_ ? " and this process holds one rank's block" : " over a mesh") +
        ": read each rank's block (readOutputBlock)");
  if (bytes != global.bytes)
    return Status::error(describe("output", index, global) + " has " +
                         std::to_string(global.bytes) + " bytes, the buffer " +
                         std::to_string(bytes));
  const TensorInfo &block = outputBlockInfo(index);
  std::vector<uint8_t> blockData(block.bytes);
  for (size_t local = 0; local < sessions_.size(); ++local) {
    Status status =
        sessions_[local]->readOutput(index, blockData.data(), block.bytes);
    if (!status)
      return status;
    format::insertBlock(blockData.data(), global.shape,
                        format::contiguousStrides(global.shape),
                        format::elementSize(global.dtype), layout.axes[0],
                        ranks_, rank(local), data);
  }
  return Status::success();
}

Status RankGroup::readOutputBlock(size_t local, size_t index, void *data,
                                  size_t bytes) const {
  Status status = checkLocal(local, "cannot read a block");
  return status ? sessions_[local]->readOutput(index, data, bytes) : status;
}

Status RankGroup::carry(size_t output, size_t input) {
  if (!failure_.empty())
    return Status::error("the group stopped after a failure: " + failure_);
  for (size_t local = 0; local < sessions_.size(); ++local) {
    Status status = sessions_[local]->carry(output, input);
    if (!status)
      return Status::error("rank " + std::to_string(rank(local)) + ": " +
                           status.message());
  }
  return Status::success();
}

Status RankGroup::gather(const std::vector<std::vector<uint64_t>> &mine,
                         std::vector<std::vector<uint64_t>> &all) {
  if (!mpi_) {
    all = mine;
    return Status::success();
  }
  Communicator &communicator = *communicators_[0];
  const std::vector<uint64_t> &own = mine[0];
  if (communicator.rank() != 0) {
    uint64_t words = own.size();
    Status status = communicator.exchangeHost({{0, &words, 8}}, {});
    if (status && words)
      status = communicator.exchangeHost({{0, own.data(), words * 8}}, {});
    all = mine;
    return status;
  }
  int size = communicator.size();
  std::vector<uint64_t> counts(size);
  std::vector<ReceiveBuffer> receives;
  for (int rank = 1; rank < size; ++rank)
    receives.push_back({rank, &counts[rank], 8});
  Status status = communicator.exchangeHost({}, receives);
  if (!status)
    return status;
  all.assign(size, {});
  all[0] = own;
  receives.clear();
  for (int rank = 1; rank < size; ++rank) {
    all[rank].resize(counts[rank]);
    if (counts[rank])
      receives.push_back({rank, all[rank].data(), counts[rank] * 8});
  }
  return communicator.exchangeHost({}, receives);
}

Status RankGroup::gatherStatistics(GroupStatistics &group) {
  if (!failure_.empty())
    return Status::error("the group stopped after a failure: " + failure_);
  // Per rank: peak memory, then each collective's bytes.
  std::vector<std::vector<uint64_t>> mine, all;
  for (const auto &session : sessions_) {
    const Statistics &stats = session->statistics();
    std::vector<uint64_t> words = {stats.peakMemoryBytes};
    for (const CollectiveStatistics &collective : stats.collectives)
      words.push_back(collective.bytesPerRank);
    mine.push_back(std::move(words));
  }
  Status status = gather(mine, all);
  if (!status)
    return status;
  group.backend = backend_;
  group.comm = commName();
  group.statistics = sessions_[0]->statistics();
  group.runMilliseconds = runMilliseconds_;
  group.peakMemoryBytes.clear();
  std::vector<CollectiveStatistics> &collectives = group.statistics.collectives;
  for (const std::vector<uint64_t> &words : all) {
    if (words.size() != 1 + collectives.size())
      return Status::error("a rank reported statistics of another program");
    group.peakMemoryBytes.push_back(words[0]);
    for (size_t i = 0; i < collectives.size(); ++i)
      collectives[i].bytesPerRank =
          std::max(collectives[i].bytesPerRank, words[1 + i]);
  }
  group.statistics.bytesPerRank = 0;
  for (const CollectiveStatistics &collective : collectives)
    group.statistics.bytesPerRank += collective.bytesPerRank;
  return Status::success();
}

Status RankGroup::gatherTrace(std::string &json) {
  json.clear();
  if (!trace_)
    return Status::error("the group records no trace: create it with tracing "
                         "enabled (dsp-run --trace)");
  if (!failure_.empty())
    return Status::error("the group stopped after a failure: " + failure_);
  std::vector<std::vector<uint64_t>> mine, all;
  for (const auto &session : sessions_) {
    std::vector<uint64_t> words;
    for (const TraceEvent &event : session->trace())
      appendWords(event, words);
    mine.push_back(std::move(words));
  }
  Status status = gather(mine, all);
  if (!status || rank(0) != 0)
    return status;

  // Times count from the first instruction of any rank.
  int64_t origin = std::numeric_limits<int64_t>::max();
  for (const std::vector<uint64_t> &words : all)
    for (size_t offset = 0; offset + kTraceEventWords <= words.size();
         offset += kTraceEventWords)
      origin = std::min(origin, eventAt(words, offset).startNanoseconds);
  const dsp::program::Program &program = file_->program();
  std::ostringstream out;
  out << "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [";
  const char *separator = "\n";
  for (size_t rank = 0; rank < all.size(); ++rank) {
    out << separator << "{\"name\": \"process_name\", \"ph\": \"M\", "
        << "\"pid\": " << rank << ", \"args\": {\"name\": \"rank " << rank
        << "\"}}";
    separator = ",\n";
    for (int lane = 0; lane < 2; ++lane)
      out << separator << "{\"name\": \"thread_name\", \"ph\": \"M\", "
          << "\"pid\": " << rank << ", \"tid\": " << lane
          << ", \"args\": {\"name\": \"" << (lane ? "communication" : "compute")
          << "\"}}";
    const std::vector<uint64_t> &words = all[rank];
    for (size_t offset = 0; offset + kTraceEventWords <= words.size();
         offset += kTraceEventWords) {
      TraceEvent event = eventAt(words, offset);
      if (event.instruction >=
          static_cast<uint32_t>(program.instructions_size()))
        return Status::error("rank " + std::to_string(rank) +
                             " reported an instruction out of range");
      const dsp::program::Instruction &instruction =
          program.instructions(static_cast<int>(event.instruction));
      bool collective = event.collective;
      out << separator << "{\"name\": " << jsonString(instruction.op())
          << ", \"cat\": \"" << (collective ? "collective" : "compute")
          << "\", \"ph\": \"X\", \"pid\": " << rank
          << ", \"tid\": " << (collective ? 1 : 0)
          << ", \"ts\": " << microseconds(event.startNanoseconds - origin)
          << ", \"dur\": "
          << microseconds(event.endNanoseconds - event.startNanoseconds)
          << ", \"args\": {\"instruction\": " << event.instruction
          << ", \"run\": " << event.run
          << ", \"location\": " << jsonString(instruction.location());
      if (collective)
        out << ", \"bytes\": " << event.bytesSent;
      out << "}}";
    }
  }
  out << "\n]}\n";
  json = out.str();
  return Status::success();
}

void RankGroup::abort(const std::string &message) {
  for (const auto &communicator : communicators_)
    communicator->abort(message);
}

} // namespace runtime
} // namespace dsp
