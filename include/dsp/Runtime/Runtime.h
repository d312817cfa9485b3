//===- Runtime.h - Loading and running DSP programs -------------*- C++ -*-===//
//
// Load a program file once (ProgramFile::open, weights mapped and shared),
// create any number of sessions on it, then per session: bind inputs, run,
// read outputs, as often as needed. A session allocates its activation arena
// and scratch memory once, at creation. A session is used by one thread at a
// time; distinct sessions may run concurrently.
//
// See docs/runtime.md for an example.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_RUNTIME_H
#define DSP_RUNTIME_RUNTIME_H

#include "dsp/Format/HostWorkspace.h"
#include "dsp/Format/ProgramFile.h"
#include "dsp/Runtime/Status.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dsp {
namespace runtime {

class Backend;
class CommunicationLane;
class Communicator;
class Kernel;

/// The most threads one session may use.
constexpr unsigned kMaxThreads = format::kMaxHostThreads;

/// A device number that picks the GPU of this process's node-local rank
/// under an MPI launcher (modulo the GPUs), GPU 0 without one.
constexpr int kDeviceOfLocalRank = -1;

struct SessionOptions {
  /// Backend name: "cpu", or "cuda" when built with DSP_ENABLE_CUDA.
  std::string backend = "cpu";
  /// The GPU of a GPU backend (CUDA device ordinal, or kDeviceOfLocalRank).
  int device = 0;
  /// Threads this session may use, at most kMaxThreads; 0 means one per
  /// hardware thread. When several sessions run at once (ranks as threads),
  /// give each a share.
  unsigned threads = 0;
  /// This rank's communicator; its size must equal the program's ranks.
  /// Null runs a single-rank program on a group of one.
  std::shared_ptr<Communicator> communicator;
  /// Record when each instruction starts and ends (Session::trace).
  bool trace = false;
  /// When set, the first run writes every instruction's outputs to
  /// DUMP/rankR/INDEX-OP-LOCATION-K.npy (f16 and bf16 as f32), to find
  /// where two programs or backends part: slow, for debugging.
  std::string dumpFolder;
};

/// A graph input or output as the caller sees it.
struct TensorInfo {
  std::string name;
  dsp::program::DType dtype = dsp::program::DTYPE_UNSPECIFIED;
  /// The block this rank binds or reads.
  std::vector<int64_t> shape;
  size_t bytes = 0;
  /// How the ranks hold the graph value (six ints, see Layout.h; empty:
  /// replicated) and its global shape (equal to `shape` if replicated).
  std::vector<int64_t> layout;
  std::vector<int64_t> globalShape;
  /// An output kept in the layout of an input (dsp-opt keep-sharded): that
  /// input's name; empty otherwise.
  std::string keepsLayoutOf;
};

struct OpStatistics {
  uint64_t count = 0;
  double totalMilliseconds = 0;
};

/// One collective instruction (all_to_all, all_gather, reduce_scatter,
/// all_reduce) as executed by this rank.
struct CollectiveStatistics {
  std::string kind;
  std::string location;
  /// Bytes this rank handed to the transport for other ranks in one
  /// execution (the last run); data it kept is not counted.
  uint64_t bytesPerRank = 0;
};

struct Statistics {
  uint64_t runs = 0;
  /// Per op kind ("matmul", ...): executions and time, over all runs.
  std::map<std::string, OpStatistics> ops;
  /// Per op kind whose kernels have more than one implementation (the cuda
  /// backend's attention): how many of its instructions each runs
  /// (Kernel::implementation).
  std::map<std::string, std::map<std::string, uint64_t>> implementations;
  uint64_t arenaBytes = 0;
  /// Kernel scratch memory.
  uint64_t workspaceBytes = 0;
  /// Copies of the bound inputs.
  uint64_t inputBytes = 0;
  /// Everything the session allocated: arena + workspace + inputs. The
  /// mapped weights are shared and not counted.
  uint64_t peakMemoryBytes = 0;
  /// Every collective instruction in program order, and the sum of their
  /// bytes per rank (one run).
  std::vector<CollectiveStatistics> collectives;
  uint64_t bytesPerRank = 0;
  /// Outputs made inputs of the next run (Session::carry), and the bytes
  /// this rank copied for them in its own memory: none cross ranks.
  uint64_t carries = 0;
  uint64_t carriedBytes = 0;
};

/// One execution of one instruction, recorded when SessionOptions::trace is
/// set. Times are nanoseconds of std::chrono::steady_clock, which the ranks
/// on one host share.
struct TraceEvent {
  uint32_t instruction = 0;
  /// Which run of the session (0 for the first).
  uint64_t run = 0;
  int64_t startNanoseconds = 0;
  int64_t endNanoseconds = 0;
  bool collective = false;
  /// For a collective, the bytes this rank sent; 0 otherwise.
  uint64_t bytesSent = 0;
};

/// Whether data of dtype `given` binds to an input of dtype `input`: the
/// same dtype, or f32 for an f16 or bf16 input, rounded to nearest even as
/// it is bound (numpy, and so many callers, have no bf16).
bool bindsTo(dsp::program::DType given, dsp::program::DType input);

class Session {
public:
  /// Creates a session on a loaded program. On failure (out of memory or
  /// threads included) returns null and sets `error`.
  static std::unique_ptr<Session>
  create(std::shared_ptr<const format::ProgramFile> program,
         const SessionOptions &options, std::string &error);
  /// Loads `path` and creates a session on it.
  static std::unique_ptr<Session> open(const std::string &path,
                                       const SessionOptions &options,
                                       std::string &error);
  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  size_t numInputs() const { return inputs_.size(); }
  size_t numOutputs() const { return outputs_.size(); }
  const TensorInfo &inputInfo(size_t index) const { return inputs_[index]; }
  const TensorInfo &outputInfo(size_t index) const { return outputs_[index]; }
  /// Index of the input or output called `name`, or -1.
  int findInput(const std::string &name) const;
  int findOutput(const std::string &name) const;

  /// Copies `data` as graph input `index`. The dtype must bind to the
  /// input's (bindsTo) and the shape match it; the binding stays until
  /// replaced.
  Status bindInput(size_t index, dsp::program::DType dtype,
                   const std::vector<int64_t> &shape, const void *data,
                   size_t bytes);
  Status bindInput(const std::string &name, dsp::program::DType dtype,
                   const std::vector<int64_t> &shape, const void *data,
                   size_t bytes);

  /// Runs the program once on the bound inputs.
  Status run();

  /// Copies graph output `index` of the last run into `data` (exactly
  /// outputInfo(index).bytes bytes).
  Status readOutput(size_t index, void *data, size_t bytes) const;

  /// Binds output `output` of the last run as input `input` of the next: a
  /// copy in this rank's memory, as for a denoising step whose output is the
  /// next step's latent. Both must hold the same block: one dtype, shape,
  /// layout and global shape (an output compiled to keep the input's
  /// layout, or both replicated). The pad of a split block becomes zero, as
  /// binding makes it (through host memory on a GPU, where there is one).
  Status carry(size_t output, size_t input);

  const Statistics &statistics() const { return statistics_; }
  /// Every instruction executed since creation, in order, when tracing.
  const std::vector<TraceEvent> &trace() const { return trace_; }
  const format::ProgramFile &programFile() const { return *file_; }

private:
  Session() = default;
  Status initialize(const SessionOptions &options);
  /// Runs every instruction's kernel in order, timing each.
  Status runSteps();
  /// Runs step `index`, a collective, on the communication lane: started
  /// there, and waited for at once unless it is async.
  Status startOnLane(size_t index);
  /// Waits for the lane's step `index`; then counts and traces it.
  Status finishOnLane(size_t index);
  /// Counts step `index`'s run from `start` to `end` (steady-clock
  /// nanoseconds) that sent `bytesSent`, and traces it.
  void record(size_t index, int64_t start, int64_t end, uint64_t bytesSent);
  const void *tensorAddress(uint32_t tensor) const;
  /// The index of `op` in opKinds_, added if new.
  size_t opKindIndex(const std::string &op);

  std::shared_ptr<const format::ProgramFile> file_;
  std::shared_ptr<Communicator> communicator_;
  std::unique_ptr<Backend> backend_;
  const void *weights_ = nullptr;
  void *arena_ = nullptr;
  void *workspace_ = nullptr;
  /// The collectives' workspace while they run on the lane, next to the
  /// kernels that use workspace_.
  void *laneWorkspace_ = nullptr;
  /// Where collectives run when the program starts some asynchronously;
  /// null otherwise.
  std::unique_ptr<CommunicationLane> lane_;
  /// The lane's steps started and not yet waited for.
  std::vector<size_t> inFlight_;
  std::vector<TensorInfo> inputs_, outputs_;
  std::vector<std::vector<uint8_t>> boundInputs_;
  std::vector<bool> inputBound_;
  /// The bound inputs in the backend's memory, where that is not host
  /// memory (Backend::buffersAreHostMemory).
  std::vector<void *> deviceInputs_;

  struct Step {
    std::unique_ptr<Kernel> kernel;
    std::vector<const void *> inputs;
    std::vector<void *> outputs;
    size_t opKind;
    /// Index into statistics_.collectives, or -1.
    int collective;
    /// Whether the step starts an async collective.
    bool async = false;
    /// For a `wait`: the step it completes; -1 otherwise.
    int completes = -1;
    /// The lane's figures of its last run, read once it was waited for.
    int64_t laneStart = 0, laneEnd = 0;
    uint64_t laneBytes = 0;
  };
  std::vector<Step> steps_;
  std::vector<std::string> opKinds_;
  std::vector<OpStatistics> opStatistics_;
  Statistics statistics_;
  bool tracing_ = false;
  /// SessionOptions::dumpFolder with this rank's folder; empty: no dump.
  std::string dumpFolder_;
  /// Writes the outputs of instruction `index` to dumpFolder_.
  Status dumpOutputs(size_t index);
  std::vector<TraceEvent> trace_;
};

} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_RUNTIME_H
