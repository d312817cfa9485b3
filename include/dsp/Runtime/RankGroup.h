//===- RankGroup.h - Running a multi-rank program ---------------*- C++ -*-===//
//
// A rank group runs a program compiled for N ranks: one session per rank,
// either every rank as a thread of this process ("local") or this process's
// rank of an MPI job ("mpi" or "nccl", one process per rank under mpirun). The
// caller binds each input's global value once; every rank binds its own block
// of it. Outputs are replicated, except those compiled to keep an input's
// layout: each rank holds its block, which `carry` makes that input of the
// next run in place, so a value kept sharded between runs never crosses
// ranks. A rank that fails stops the others (see Communicator.h): the run
// returns the first failure, naming the rank.
//
// Statistics and the timeline are gathered from every rank: under mpi that
// is a collective call every process makes, and the process that holds
// rank 0 gets the whole.
//
// See docs/runtime.md.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_RANKGROUP_H
#define DSP_RUNTIME_RANKGROUP_H

#include "dsp/Runtime/Communicator.h"
#include "dsp/Runtime/Runtime.h"

#include <memory>
#include <string>
#include <vector>

namespace dsp {
namespace runtime {

struct RankGroupOptions {
  /// Backend name: "cpu", or "cuda" when built with DSP_ENABLE_CUDA.
  std::string backend = "cpu";
  /// The GPU every rank of this process runs on with a GPU backend;
  /// kDeviceOfLocalRank: the rank's node-local rank under an MPI launcher
  /// modulo the GPUs, GPU 0 without one.
  int device = kDeviceOfLocalRank;
  /// Threads per rank, at most kMaxThreads; 0 divides the hardware threads
  /// among the ranks on this host (at least one each).
  unsigned threads = 0;
  /// "local" (ranks are threads of this process), "mpi" or "nccl" (one
  /// rank per MPI process; nccl needs the cuda backend).
  std::string comm = "local";
  /// The communication timeout and the injected fault, if any.
  CommunicatorOptions communicator;
  /// Record every instruction's start and end (see gatherTrace).
  bool trace = false;
  /// SessionOptions::dumpFolder of every rank.
  std::string dumpFolder;
};

/// What a group's ranks report, together.
struct GroupStatistics {
  std::string backend;
  std::string comm;
  /// Rank 0's statistics, except that each collective's bytesPerRank (and
  /// their sum) is the most any rank sent, as the compiler's report has it.
  Statistics statistics;
  /// Per rank.
  std::vector<uint64_t> peakMemoryBytes;
  /// The wall time of each run of rank 0: the copy of the bound inputs
  /// into the arena and the instructions.
  std::vector<double> runMilliseconds;
};

/// `statistics` as the JSON of dsp-run --stats-json (docs/runtime.md).
std::string statisticsJson(const GroupStatistics &statistics);

class RankGroup {
public:
  /// Creates the communicators and one session per rank of this process.
  /// On failure returns null and sets `error`; under mpi, an error after
  /// joining the job starts with "rank R: ".
  static std::unique_ptr<RankGroup>
  create(std::shared_ptr<const format::ProgramFile> program,
         const RankGroupOptions &options, std::string &error);
  ~RankGroup();
  RankGroup(const RankGroup &) = delete;
  RankGroup &operator=(const RankGroup &) = delete;

  /// The program's ranks, and the ranks this process runs (all of them for
  /// local, one for mpi).
  int ranks() const { return ranks_; }
  size_t localRanks() const { return sessions_.size(); }
  /// The rank of local session `local`.
  int rank(size_t local) const;
  const char *commName() const;

  size_t numInputs() const { return inputs_.size(); }
  size_t numOutputs() const { return outputs_.size(); }
  /// An input's or output's global value: `shape` is the global shape and
  /// `bytes` its size; `layout` says how the ranks hold it.
  const TensorInfo &inputInfo(size_t index) const { return inputs_[index]; }
  const TensorInfo &outputInfo(size_t index) const { return outputs_[index]; }
  /// The block of an input or output one rank binds or holds; every rank's
  /// has this shape (pads included).
  const TensorInfo &inputBlockInfo(size_t index) const {
    return sessions_[0]->inputInfo(index);
  }
  const TensorInfo &outputBlockInfo(size_t index) const {
    return sessions_[0]->outputInfo(index);
  }
  int findInput(const std::string &name) const;
  int findOutput(const std::string &name) const;

  /// Binds the global value of input `index`: each local rank copies its
  /// block (a replicated or partial input is bound whole).
  Status bindInput(size_t index, dsp::program::DType dtype,
                   const std::vector<int64_t> &shape, const void *data,
                   size_t bytes);

  /// Binds `data` as local rank `local`'s block of input `index` (the shape
  /// of inputBlockInfo), for a caller that holds the value in blocks.
  Status bindInputBlock(size_t local, size_t index, dsp::program::DType dtype,
                        const std::vector<int64_t> &shape, const void *data,
                        size_t bytes);

  /// Runs every local rank `repeat` times, several ranks a thread each, a
  /// single one on the calling thread. The first failure of any rank
  /// stops the others and is returned as "rank R: PROGRAM: message". After
  /// a failure the group cannot run again: its communicators are aborted.
  Status run(uint64_t repeat = 1);

  /// Copies output `index` of the last run, the global value, into `data`:
  /// this process's first rank's copy of a replicated output, the blocks of
  /// every rank put together for a kept one (local ranks, one split; under
  /// mpi each process reads its rank's block with readOutputBlock).
  Status readOutput(size_t index, void *data, size_t bytes) const;
  /// Copies local rank `local`'s block of output `index` of the last run
  /// (outputBlockInfo(index).bytes bytes) into `data`.
  Status readOutputBlock(size_t local, size_t index, void *data,
                         size_t bytes) const;

  /// Makes output `output` of the last run input `input` of the next on
  /// every local rank, each its own block (Session::carry): no byte moves
  /// between ranks.
  Status carry(size_t output, size_t input);

  /// Gathers every rank's statistics (collective under mpi: every process
  /// calls it; only rank 0's process gets every rank's figures).
  Status gatherStatistics(GroupStatistics &statistics);

  /// Gathers every rank's recorded instructions into `json`, a Chrome trace
  /// (docs/runtime.md); needs RankGroupOptions::trace. Collective under
  /// mpi: `json` is left empty except on rank 0's process.
  Status gatherTrace(std::string &json);

  /// Tells every rank that this process failed with `message`: local ranks
  /// fail their pending and later exchanges; under mpi the whole job ends
  /// at once (MPI_Abort), so report the message first.
  void abort(const std::string &message);

private:
  RankGroup() = default;
  Status initialize(const RankGroupOptions &options);
  Status runLocalRanks(uint64_t repeat);
  /// Local rank `local`'s session, or an error naming what `what` needs.
  Status checkLocal(size_t local, const char *what) const;
  /// The words of `mine` from every rank, in rank order (rank 0's process
  /// gets all of them; under mpi the others get their own only).
  Status gather(const std::vector<std::vector<uint64_t>> &mine,
                std::vector<std::vector<uint64_t>> &all);

  std::shared_ptr<const format::ProgramFile> file_;
  std::string backend_;
  int ranks_ = 0;
  bool mpi_ = false;
  bool trace_ = false;
  std::vector<std::shared_ptr<Communicator>> communicators_;
  /// Shared with rank threads, which a stalled rank may outlive the run.
  std::vector<std::shared_ptr<Session>> sessions_;
  /// The global values of the inputs and outputs.
  std::vector<TensorInfo> inputs_, outputs_;
  std::vector<double> runMilliseconds_;
  /// The first failure; once set, the group does not run again.
  std::string failure_;
};

} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_RANKGROUP_H
