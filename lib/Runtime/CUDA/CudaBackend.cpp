//===- CudaBackend.cpp - The cuda backend ---------------------------------===//
//
// One backend per rank: a non-blocking stream, a cuBLASLt handle, the
// rank's device memory (the session's arena and workspace) and pinned
// staging for input and output copies. Device buffers travel between ranks
// through the first hook the communicator takes: the device transport of
// local ranks (events order the ranks' streams), the stream itself (nccl
// enqueues on it), or host staging (mpi: through the pinned buffer). The
// weights are uploaded once per device and program and shared by every
// rank on that device.
//
// Async collectives run on a stream of their own (StreamLane), forked from
// the rank's stream when they start and joined back at their wait by
// events, the pattern stream capture accepts; programs with collectives
// run eagerly all the same (below).
//
// Runs: the first runs the kernels one by one (every launch is checked);
// the second is captured as a CUDA graph and launched; later ones replay
// the graph. Programs with collectives between ranks always run eagerly,
// because their exchanges synchronize the ranks on the host each run (nccl
// only enqueues, but its fault injection and deadlines live on the host
// too). Set DSP_CUDA_GRAPHS=0 to run every program eagerly.
//
// The `kernel` op's code objects go through the driver API (cuModuleLoadData,
// cuModuleGetFunction, cuLaunchKernel), whose entry points come from the
// runtime, so nothing links against the driver library.
//
//===----------------------------------------------------------------------===//

#include "CudaBackend.h"

#include "../FusedSteps.h"
#include "Kernels.h"
#include "dsp/Format/ProgramFile.h"
#include "dsp/Runtime/Communicator.h"

#include <cuda.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace dsp {
namespace runtime {

namespace {

using cuda::check;
using cuda::Op;

/// The driver functions the `kernel` op needs.
struct Driver {
  CUresult (*moduleLoadData)(CUmodule *, const void *) = nullptr;
  CUresult (*moduleUnload)(CUmodule) = nullptr;
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *) = nullptr;
  CUresult (*launchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **,
                           void **) = nullptr;
  CUresult (*getErrorString)(CUresult, const char **) = nullptr;

  /// "CALL failed: REASON", or success.
  Status check(CUresult result, const char *call) const {
    if (result == CUDA_SUCCESS)
      return Status::success();
    const char *reason = nullptr;
    if (!getErrorString || getErrorString(result, &reason) != CUDA_SUCCESS ||
        !reason)
      reason = "unknown driver error";
    return Status::error(std::string(call) + " failed: " + reason +
                         " (CUresult " + std::to_string(result) + ")");
  }
};

template <typename Function>
Status resolve(const char *symbol, Function &function) {
  void *address = nullptr;
  cudaDriverEntryPointQueryResult found;
  Status status = check(cudaGetDriverEntryPointByVersion(
                            symbol, &address, 12000, cudaEnableDefault, &found),
                        "cudaGetDriverEntryPointByVersion");
  if (status && found != cudaDriverEntryPointSuccess)
    status = Status::error("the CUDA driver has no " + std::string(symbol));
  function = reinterpret_cast<Function>(address);
  return status;
}

Status loadDriver(Driver &driver) {
  static std::once_flag once;
  static Driver loaded;
  static Status status;
  std::call_once(once, [] {
    status = resolve("cuModuleLoadData", loaded.moduleLoadData);
    if (status)
      status = resolve("cuModuleUnload", loaded.moduleUnload);
    if (status)
      status = resolve("cuModuleGetFunction", loaded.moduleGetFunction);
    if (status)
      status = resolve("cuLaunchKernel", loaded.launchKernel);
    if (status)
      status = resolve("cuGetErrorString", loaded.getErrorString);
  });
  driver = loaded;
  return status;
}

/// A program's weight blob on one device.
struct DeviceWeights {
  int device = 0;
  void *data = nullptr;
  ~DeviceWeights() {
    if (data) {
      cudaSetDevice(device);
      cudaFree(data);
    }
  }
};

/// The weights uploaded so far, per device and program file; an entry
/// lives as long as a backend uses it.
std::shared_ptr<DeviceWeights> findOrUpload(const format::ProgramFile &file,
                                            int device, Status &status) {
  static std::mutex mutex;
  static std::map<std::pair<int, const format::ProgramFile *>,
                  std::weak_ptr<DeviceWeights>>
      uploaded;
  std::lock_guard<std::mutex> lock(mutex);
  std::weak_ptr<DeviceWeights> &entry = uploaded[{device, &file}];
  if (std::shared_ptr<DeviceWeights> weights = entry.lock())
    return weights;
  auto weights = std::make_shared<DeviceWeights>();
  weights->device = device;
  uint64_t bytes = file.weightsBytes();
  status = check(cudaMalloc(&weights->data, std::max<uint64_t>(bytes, 1)),
                 "cudaMalloc");
  if (status && bytes)
    status = check(cudaMemcpy(weights->data, file.weights(), bytes,
                              cudaMemcpyHostToDevice),
                   "cudaMemcpy");
  if (!status) {
    status = Status::error("uploading the " + std::to_string(bytes) +
                           " bytes of weights to GPU " +
                           std::to_string(device) + ": " + status.message());
    return nullptr;
  }
  entry = weights;
  return weights;
}

bool graphsEnabled() {
  const char *value = std::getenv("DSP_CUDA_GRAPHS");
  return !value || std::strcmp(value, "0") != 0;
}

} // namespace

Status findCudaDevice(int requested, int &device) {
  int devices = 0;
  cudaError_t error = cudaGetDeviceCount(&devices);
  if (error == cudaErrorNoDevice || error == cudaErrorInsufficientDriver ||
      (error == cudaSuccess && devices == 0))
    return Status::error("no CUDA device: " +
                         (error == cudaSuccess
                              ? std::string("the driver found no GPU")
                              : std::string(cudaGetErrorString(error))));
  Status status = check(error, "cudaGetDeviceCount");
  if (!status)
    return status;
  device = requested == kDeviceOfLocalRank ? launchedLocalRank() % devices
                                           : requested;
  if (device < 0 || device >= devices)
    return Status::error("device " + std::to_string(device) +
                         " is out of range: this machine has " +
                         std::to_string(devices) + " CUDA device" +
                         (devices == 1 ? "" : "s") + " (0 to " +
                         std::to_string(devices - 1) + ")");
  return Status::success();
}

namespace {

class CudaBackend : public Backend, public DeviceTransport, public HostStaging {
public:
  explicit CudaBackend(const BackendOptions &options)
      : resources_{options.device,        0,       nullptr, nullptr,
                   *options.communicator, nullptr, nullptr, {}},
        graphs_(graphsEnabled()) {}

  ~CudaBackend() override {
    cudaSetDevice(resources_.device);
    // Its transfers go before the communicator loses the hooks.
    transferLane_.reset();
    if (hooked_) {
      Communicator &communicator = resources_.communicator;
      communicator.setDeviceTransport(nullptr);
      communicator.setDeviceStream(nullptr);
      communicator.setHostStaging(nullptr);
    }
    if (resources_.stream)
      cudaStreamSynchronize(resources_.stream);
    if (graph_)
      cudaGraphExecDestroy(graph_);
    for (const auto &[index, module] : modules_)
      driver_.moduleUnload(module);
    for (cudaEvent_t event : {sent_, received_})
      if (event)
        cudaEventDestroy(event);
    if (resources_.blas)
      cublasLtDestroy(resources_.blas);
    // The cuDNN handle works on the stream: it goes first.
    resources_.cudnn.reset();
    if (resources_.stream)
      cudaStreamDestroy(resources_.stream);
    if (staging_)
      cudaFreeHost(staging_);
    if (resources_.error)
      cudaFree(resources_.error);
    if (zeros_)
      cudaFree(zeros_);
  }

  Status initialize() {
    Status status = findCudaDevice(resources_.device, resources_.device);
    if (!status)
      return status;
    int device = resources_.device;
    int major = 0, minor = 0;
    void *errorRecord = nullptr;
    if (!(status = check(cudaSetDevice(device), "cudaSetDevice")) ||
        !(status = check(cudaDeviceGetAttribute(
                             &major, cudaDevAttrComputeCapabilityMajor, device),
                         "cudaDeviceGetAttribute")) ||
        !(status = check(cudaDeviceGetAttribute(
                             &minor, cudaDevAttrComputeCapabilityMinor, device),
                         "cudaDeviceGetAttribute")) ||
        !(status = check(cudaStreamCreateWithFlags(&resources_.stream,
                                                   cudaStreamNonBlocking),
                         "cudaStreamCreateWithFlags")) ||
        !(status = check(cublasLtCreate(&resources_.blas), "cublasLtCreate")) ||
        !(status =
              check(cudaEventCreateWithFlags(&sent_, cudaEventDisableTiming),
                    "cudaEventCreateWithFlags")) ||
        !(status = check(
              cudaEventCreateWithFlags(&received_, cudaEventDisableTiming),
              "cudaEventCreateWithFlags")) ||
        !(status = check(cudaMalloc(&errorRecord, sizeof(cuda::DeviceError)),
                         "cudaMalloc")) ||
        !(status = check(cudaMemset(errorRecord, 0, sizeof(cuda::DeviceError)),
                         "cudaMemset")) ||
        !(status = check(cudaMalloc(&zeros_, 16), "cudaMalloc")) ||
        !(status = check(cudaMemset(zeros_, 0, 16), "cudaMemset")))
      return status;
    resources_.error = static_cast<cuda::DeviceError *>(errorRecord);
    resources_.zeros = zeros_;
    resources_.computeCapability = major * 10 + minor;
    resources_.registerError =
        [this](std::function<std::string(const cuda::DeviceError &)> message) {
          errorMessages_.push_back(std::move(message));
          return static_cast<int32_t>(errorMessages_.size());
        };
    Communicator &communicator = resources_.communicator;
    if (!communicator.setDeviceTransport(this) &&
        !communicator.setDeviceStream(resources_.stream))
      communicator.setHostStaging(this);
    hooked_ = true;
    return Status::success();
  }

  const char *name() const override { return "cuda"; }

  Status allocate(size_t bytes, void **buffer) override {
    *buffer = nullptr;
    Status status = selectDevice();
    if (status)
      status =
          check(cudaMalloc(buffer, std::max<size_t>(bytes, 1)), "cudaMalloc");
    if (!status)
      return Status::error(
          "cannot allocate " + std::to_string(bytes) + " bytes on GPU " +
          std::to_string(resources_.device) + ": " + status.message());
    return Status::success();
  }

  void deallocate(void *buffer) override {
    cudaSetDevice(resources_.device);
    cudaFree(buffer);
  }

  Status copyToDevice(void *device, const void *host, size_t bytes) override {
    if (bytes == 0)
      return Status::success();
    void *staged = nullptr;
    Status status = stage(bytes, staged);
    if (!status)
      return status;
    std::memcpy(staged, host, bytes);
    return check(cudaMemcpyAsync(device, staged, bytes, cudaMemcpyHostToDevice,
                                 resources_.stream),
                 "cudaMemcpyAsync (host to device)");
  }

  Status copyOnDevice(void *target, const void *source, size_t bytes) override {
    Status status = selectDevice();
    if (status)
      status = cuda::copyBytes(target, source, bytes, resources_.stream);
    return status;
  }

  bool buffersAreHostMemory() const override { return false; }

  Status copyToHost(void *host, const void *device, size_t bytes) override {
    if (bytes == 0)
      return Status::success();
    Status status = synchronize();
    void *staged = nullptr;
    if (status)
      status = stage(bytes, staged);
    if (status)
      status = check(cudaMemcpyAsync(staged, device, bytes,
                                     cudaMemcpyDeviceToHost, resources_.stream),
                     "cudaMemcpyAsync (device to host)");
    if (status)
      status = synchronize();
    if (status)
      std::memcpy(host, staged, bytes);
    return status;
  }

  Status importWeights(const format::ProgramFile &file,
                       const void **weights) override {
    Status status = selectDevice();
    if (status)
      weights_ = findOrUpload(file, resources_.device, status);
    if (!status)
      return status;
    *weights = weights_->data;
    return Status::success();
  }

  bool hasKernel(format::Op op) const override {
    return op == Op::Kernel || op == Op::Fused || kernelFactory(op) != nullptr;
  }

  Status createKernel(const dsp::program::Program &program,
                      const dsp::program::Instruction &instruction,
                      std::unique_ptr<Kernel> &kernel) override {
    Status status = selectDevice();
    if (!status)
      return status;
    std::optional<Op> op = format::findOp(instruction.op());
    if (!op || !hasKernel(*op))
      return Status::error("the cuda backend has no kernel for op '" +
                           instruction.op() + "'");
    // Exchanges synchronize the ranks on the host: not in a graph.
    if (format::communicates(*op))
      graphs_ = false;
    cuda::KernelContext context{{program, instruction, *op},
                                resources_,
                                cuda::ElementType::F32,
                                cuda::ElementType::F32};
    KernelFamily family = kernelFamily(*op);
    if (family == KernelFamily::Launch)
      return createLaunch(context, kernel);
    // A body of a program compiled for target cpu, a kernel per step.
    if (family == KernelFamily::Fused)
      return createFusedStepsKernel(*this, program, instruction, kernel);
    // Ring attention moves its blocks on a stream of its own, created once
    // per session, with the first ring.
    if (family == KernelFamily::RingAttention && !transferLane_) {
      if (Status created = createCommunicationLane(1, transferLane_); !created)
        return created;
      resources_.transferLane = transferLane_.get();
    }
    if (format::computesOnValues(family)) {
      for (const dsp::program::Tensor *tensor :
           {&context.input(0), &context.output()}) {
        std::optional<cuda::ElementType> type =
            cuda::elementType(tensor->dtype());
        bool isFloat = type && *type != cuda::ElementType::I64 &&
                       *type != cuda::ElementType::Bool;
        if (!type || (format::computesOnFloats(family) && !isFloat))
          return Status::error("the cuda backend has no kernel for op '" +
                               instruction.op() + "' on dtype " +
                               format::dtypeName(tensor->dtype()));
        (tensor == &context.output() ? context.outputType : context.inputType) =
            *type;
      }
    }
    return kernelFactory(*op)(context, kernel);
  }

  Status beginRun(bool &replayed) override {
    replayed = false;
    Status status = selectDevice();
    if (!status || !graphs_ || runs_ == 0)
      return status;
    if (graph_) {
      replayed = true;
      return check(cudaGraphLaunch(graph_, resources_.stream),
                   "cudaGraphLaunch");
    }
    capturing_ = true;
    return check(cudaStreamBeginCapture(resources_.stream,
                                        cudaStreamCaptureModeThreadLocal),
                 "cudaStreamBeginCapture");
  }

  Status endRun(bool failed) override {
    if (!capturing_) {
      runs_ += !failed;
      return Status::success();
    }
    capturing_ = false;
    cudaGraph_t graph = nullptr;
    Status status = check(cudaStreamEndCapture(resources_.stream, &graph),
                          "cudaStreamEndCapture");
    if (status && !failed)
      status = check(cudaGraphInstantiate(&graph_, graph, 0),
                     "cudaGraphInstantiate");
    if (graph)
      cudaGraphDestroy(graph);
    if (status && !failed)
      status =
          check(cudaGraphLaunch(graph_, resources_.stream), "cudaGraphLaunch");
    runs_ += status && !failed;
    if (status)
      return status;
    // Later runs go eagerly; this one's work was recorded, not done.
    graphs_ = false;
    return Status::error(status.message() +
                         " while recording the run as a CUDA graph; later "
                         "runs do without (DSP_CUDA_GRAPHS=0 does from the "
                         "start)");
  }

  Status synchronize() override {
    Status status = awaitStaged();
    stagingUsed_ = 0;
    // An aborted exchange may end the stream's work early: its reason first.
    Status exchanged = resources_.communicator.checkEnqueued();
    if (!exchanged)
      return exchanged;
    if (!status || errorMessages_.empty())
      return status;
    // Data-dependent failures recorded by the kernels of this run.
    cuda::DeviceError recorded;
    status = check(cudaMemcpy(&recorded, resources_.error, sizeof(recorded),
                              cudaMemcpyDeviceToHost),
                   "cudaMemcpy (device to host)");
    if (!status || recorded.tag == 0)
      return status;
    status =
        check(cudaMemset(resources_.error, 0, sizeof(recorded)), "cudaMemset");
    if (!status)
      return status;
    if (recorded.tag < 1 ||
        recorded.tag > static_cast<int32_t>(errorMessages_.size()))
      return Status::error("a kernel reported an unknown failure");
    return Status::error(errorMessages_[recorded.tag - 1](recorded));
  }

  Status
  createCommunicationLane(size_t slots,
                          std::unique_ptr<CommunicationLane> &lane) override {
    auto stream = std::make_unique<StreamLane>(*this, slots);
    Status status = stream->initialize();
    if (status)
      lane = std::move(stream);
    return status;
  }

  // DeviceTransport: the ranks' streams are ordered by events.
  Status markSent(const void *&marker) override {
    marker = sent_;
    return check(cudaEventRecord(sent_, resources_.stream), "cudaEventRecord");
  }

  Status receive(void *target, const void *source, size_t bytes,
                 const void *sent, const void *&done) override {
    done = received_;
    Status status =
        check(cudaStreamWaitEvent(resources_.stream, eventOf(sent), 0),
              "cudaStreamWaitEvent");
    if (status)
      status = cuda::copyBytes(target, source, bytes, resources_.stream);
    if (status)
      status = check(cudaEventRecord(received_, resources_.stream),
                     "cudaEventRecord");
    return status;
  }

  Status awaitReceived(const void *done) override {
    return check(cudaStreamWaitEvent(resources_.stream, eventOf(done), 0),
                 "cudaStreamWaitEvent");
  }

  // HostStaging: the pinned staging buffer, copies on the rank's stream.
  Status stagingBuffer(size_t bytes, void *&host) override {
    return stage(bytes, host);
  }

  Status stageOut(void *host, const void *device, size_t bytes) override {
    return check(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost,
                                 resources_.stream),
                 "cudaMemcpyAsync (device to host)");
  }

  /// Waits for the stream (also what synchronize() starts with).
  Status awaitStaged() override {
    Status status = selectDevice();
    if (status)
      status = check(cudaStreamSynchronize(resources_.stream),
                     "cudaStreamSynchronize");
    return status;
  }

  Status stageIn(void *device, const void *host, size_t bytes) override {
    return check(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice,
                                 resources_.stream),
                 "cudaMemcpyAsync (host to device)");
  }

private:
  /// The communication lane: a stream that waits for the rank's stream
  /// when a collective starts, and that the rank's stream waits for at the
  /// collective's wait. While a collective is enqueued the rank's stream is
  /// the lane's, so that its copies, the device transport, host staging and
  /// the nccl communicator all go there.
  class StreamLane : public CommunicationLane {
  public:
    StreamLane(CudaBackend &backend, size_t slots)
        : backend_(backend), results_(slots), done_(slots, nullptr) {}

    ~StreamLane() override {
      cudaSetDevice(backend_.resources_.device);
      if (stream_)
        cudaStreamSynchronize(stream_);
      for (cudaEvent_t event : done_)
        if (event)
          cudaEventDestroy(event);
      if (fork_)
        cudaEventDestroy(fork_);
      if (stream_)
        cudaStreamDestroy(stream_);
    }

    Status initialize() {
      Status status = backend_.selectDevice();
      if (status)
        status =
            check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking),
                  "cudaStreamCreateWithFlags");
      if (status)
        status = createEvent(fork_);
      return status;
    }

    Status start(size_t slot, std::function<Status()> task) override {
      cuda::Resources &resources = backend_.resources_;
      Status status = backend_.selectDevice();
      if (status && !done_[slot])
        status = createEvent(done_[slot]);
      if (status)
        status =
            check(cudaEventRecord(fork_, resources.stream), "cudaEventRecord");
      if (status)
        status = check(cudaStreamWaitEvent(stream_, fork_, 0),
                       "cudaStreamWaitEvent");
      if (!status)
        return status;
      std::swap(resources.stream, stream_);
      bool nccl = resources.communicator.setDeviceStream(resources.stream);
      results_[slot] = task();
      std::swap(resources.stream, stream_);
      if (nccl)
        resources.communicator.setDeviceStream(resources.stream);
      return check(cudaEventRecord(done_[slot], stream_), "cudaEventRecord");
    }

    Status wait(size_t slot) override {
      Status status =
          check(cudaStreamWaitEvent(backend_.resources_.stream, done_[slot], 0),
                "cudaStreamWaitEvent");
      return status ? results_[slot] : status;
    }

  private:
    static Status createEvent(cudaEvent_t &event) {
      return check(cudaEventCreateWithFlags(&event, cudaEventDisableTiming),
                   "cudaEventCreateWithFlags");
    }

    CudaBackend &backend_;
    cudaStream_t stream_ = nullptr;
    cudaEvent_t fork_ = nullptr;
    std::vector<Status> results_;
    std::vector<cudaEvent_t> done_;
  };

  static cudaEvent_t eventOf(const void *marker) {
    return static_cast<cudaEvent_t>(const_cast<void *>(marker));
  }

  /// CUDA's current device is per thread, and a rank's calls may come from
  /// any thread.
  Status selectDevice() {
    return check(cudaSetDevice(resources_.device), "cudaSetDevice");
  }

  /// Pinned memory for `bytes`, valid until the next synchronize().
  Status stage(size_t bytes, void *&staged) {
    if (stagingUsed_ + bytes > stagingBytes_) {
      // Copies in flight still read the old buffer.
      Status status = check(cudaStreamSynchronize(resources_.stream),
                            "cudaStreamSynchronize");
      if (!status)
        return status;
      stagingUsed_ = 0;
      if (bytes > stagingBytes_) {
        if (staging_)
          cudaFreeHost(staging_);
        staging_ = nullptr;
        stagingBytes_ = 0;
        size_t size = std::max(bytes, size_t(1) << 20);
        status = check(cudaMallocHost(&staging_, size), "cudaMallocHost");
        if (!status)
          return status;
        stagingBytes_ = size;
      }
    }
    staged = static_cast<uint8_t *>(staging_) + stagingUsed_;
    // Keep every staged copy 256-byte aligned.
    stagingUsed_ += cuda::deviceAligned(bytes);
    return Status::success();
  }

  /// The factory of `op`'s kernel; nullptr for `kernel`, which needs the
  /// driver (createLaunch), and for the ops the backend has no kernel for.
  static cuda::Factory kernelFactory(Op op) {
    switch (kernelFamily(op)) {
    case KernelFamily::Unary:
      return cuda::createUnaryKernel;
    case KernelFamily::Binary:
      return cuda::createBinaryKernel;
    case KernelFamily::Where:
      return cuda::createWhereKernel;
    case KernelFamily::Matmul:
      return cuda::createMatmulKernel;
    case KernelFamily::LayerNorm:
      return cuda::createLayerNormKernel;
    case KernelFamily::Softmax:
      return cuda::createSoftmaxKernel;
    case KernelFamily::Attention:
      return cuda::createAttentionKernel;
    case KernelFamily::Conv:
      return cuda::createConvKernel;
    case KernelFamily::Reduce:
      return cuda::createReduceKernel;
    case KernelFamily::Reshape:
      return cuda::createReshapeKernel;
    case KernelFamily::Transpose:
      return cuda::createTransposeKernel;
    case KernelFamily::Concat:
      return cuda::createConcatKernel;
    case KernelFamily::Slice:
      return cuda::createSliceKernel;
    case KernelFamily::Gather:
      return cuda::createGatherKernel;
    case KernelFamily::Expand:
      return cuda::createExpandKernel;
    case KernelFamily::Tile:
      return cuda::createTileKernel;
    case KernelFamily::Collective:
      return cuda::createCollectiveKernel;
    case KernelFamily::Pad:
      return cuda::createPadKernel;
    case KernelFamily::ScatterElements:
      return cuda::createScatterElementsKernel;
    case KernelFamily::RingAttention:
      return cuda::createRingAttentionKernel;
    case KernelFamily::Fused:
    case KernelFamily::Launch:
    case KernelFamily::Wait:
      return nullptr;
    }
    return nullptr;
  }

  /// Loads code object `index` once: its binary when it was compiled for
  /// this GPU, else its PTX, which the driver compiles.
  Status loadModule(const dsp::program::Program &program, int index,
                    CUmodule &module) {
    auto found = modules_.find(index);
    if (found != modules_.end()) {
      module = found->second;
      return Status::success();
    }
    const dsp::program::CodeObject &code = program.code_objects(index);
    std::string what =
        "code object " + std::to_string(index) + " ('" + code.name() + "')";
    std::string gpu = "sm_" + std::to_string(resources_.computeCapability);
    bool native = !code.binary().empty() &&
                  (code.target() == gpu || code.target() == gpu + "a");
    Status status = Status::error(what + " is compiled for " + code.target() +
                                  " and has no PTX; this "
                                  "GPU is " +
                                  gpu + " (recompile the program for it)");
    if (native)
      status =
          driver_.check(driver_.moduleLoadData(&module, code.binary().data()),
                        "cuModuleLoadData (binary)");
    if (!status && !code.ptx().empty()) {
      // The driver reads PTX as NUL-terminated text.
      std::string text = code.ptx();
      status = driver_.check(driver_.moduleLoadData(&module, text.c_str()),
                             "cuModuleLoadData (PTX)");
    }
    if (!status)
      return Status::error(what + ": " + status.message());
    modules_[index] = module;
    return Status::success();
  }

  /// The `kernel` op: a function of a code object, its parameters the
  /// operands' device pointers, inputs then outputs.
  Status createLaunch(const cuda::KernelContext &context,
                      std::unique_ptr<Kernel> &kernel) {
    Status status = loadDriver(driver_);
    if (!status)
      return status;
    const dsp::program::Instruction &instruction = context.instruction;
    int index =
        static_cast<int>(format::intsAttribute(instruction, "code_object")[0]);
    std::string function = format::stringAttribute(instruction, "function", "");
    std::vector<int64_t> grid = format::intsAttribute(instruction, "grid");
    std::vector<int64_t> block = format::intsAttribute(instruction, "block");
    CUmodule module = nullptr;
    if (!(status = loadModule(context.program, index, module)))
      return status;
    CUfunction entry = nullptr;
    if (!(status = driver_.check(
              driver_.moduleGetFunction(&entry, module, function.c_str()),
              "cuModuleGetFunction")))
      return Status::error("function '" + function + "' of code object " +
                           std::to_string(index) + ": " + status.message());
    int inputs = instruction.inputs_size();
    int operands = inputs + instruction.outputs_size();
    Driver driver = driver_;
    cudaStream_t stream = resources_.stream;
    kernel = makeKernel([=](const KernelArgs &args) {
      std::vector<void *> pointers(operands);
      for (int i = 0; i < inputs; ++i)
        pointers[i] = const_cast<void *>(args.inputs[i]);
      for (int i = inputs; i < operands; ++i)
        pointers[i] = args.outputs[i - inputs];
      std::vector<void *> parameters(operands);
      for (int i = 0; i < operands; ++i)
        parameters[i] = &pointers[i];
      return driver.check(
          driver.launchKernel(
              entry, static_cast<unsigned>(grid[0]),
              static_cast<unsigned>(grid[1]), static_cast<unsigned>(grid[2]),
              static_cast<unsigned>(block[0]), static_cast<unsigned>(block[1]),
              static_cast<unsigned>(block[2]), 0, static_cast<CUstream>(stream),
              parameters.data(), nullptr),
          "cuLaunchKernel");
    });
    return Status::success();
  }

  cuda::Resources resources_;
  /// Whether the communicator holds one of this backend's hooks.
  bool hooked_ = false;
  std::shared_ptr<DeviceWeights> weights_;
  void *zeros_ = nullptr;
  cudaEvent_t sent_ = nullptr, received_ = nullptr;
  void *staging_ = nullptr;
  size_t stagingBytes_ = 0, stagingUsed_ = 0;
  std::vector<std::function<std::string(const cuda::DeviceError &)>>
      errorMessages_;
  Driver driver_;
  std::map<int, CUmodule> modules_;
  bool graphs_;
  bool capturing_ = false;
  uint64_t runs_ = 0;
  cudaGraphExec_t graph_ = nullptr;
  std::unique_ptr<CommunicationLane> transferLane_;
};

} // namespace

Status createCudaBackend(const BackendOptions &options,
                         std::unique_ptr<Backend> &backend) {
  auto cuda = std::make_unique<CudaBackend>(options);
  Status status = cuda->initialize();
  if (status)
    backend = std::move(cuda);
  return status;
}

} // namespace runtime
} // namespace dsp
