//===- CpuBackend.cpp - The cpu backend -----------------------------------===//
//
// Host memory, synchronous execution on a per-session thread pool, and the
// kernel factory of every registry op.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "VectorVariant.h"

#include "../Collectives.h"

#include "dsp/Format/Checked.h"
#include "dsp/Format/Float16.h"
#include "dsp/Format/HostWorkspace.h"
#ifdef DSP_HAVE_CUDA
#include "../CUDA/CudaBackend.h"
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace dsp {
namespace runtime {

namespace {

using cpu::Op;

std::unique_ptr<Kernel>
createHostCollectiveKernel(const cpu::KernelContext &context) {
  return createCollectiveKernel(context.program, context.instruction,
                                context.op, context.communicator,
                                hostCollectiveMemory());
}

/// The factory of `op`'s kernel, null if the backend has none. The f16 and
/// bf16 operands of the kernels that compute on floats reach them widened
/// to f32 (Widened.cpp), because their float math is f32 only; the
/// element-wise kernels widen what they read themselves, data movement and
/// the collectives take every dtype as it is, and the reducing collectives
/// reduce 16-bit floats in f32 themselves.
cpu::KernelFactory kernelFactory(Op op) {
  switch (kernelFamily(op)) {
  case KernelFamily::Unary:
  case KernelFamily::Binary:
  case KernelFamily::Where:
  case KernelFamily::Fused:
    return cpu::createElementwiseKernel;
  case KernelFamily::Matmul:
    return cpu::createMatmulKernel;
  case KernelFamily::LayerNorm:
    return cpu::createLayerNormKernel;
  case KernelFamily::Softmax:
    return cpu::createSoftmaxKernel;
  case KernelFamily::Attention:
    return cpu::createAttentionKernel;
  case KernelFamily::RingAttention:
    return cpu::createRingAttentionKernel;
  case KernelFamily::Conv:
    return cpu::createConvKernel;
  case KernelFamily::Reduce:
    return cpu::createReduceKernel;
  case KernelFamily::Reshape:
    return cpu::createReshapeKernel;
  case KernelFamily::Transpose:
    return cpu::createTransposeKernel;
  case KernelFamily::Concat:
    return cpu::createConcatKernel;
  case KernelFamily::Slice:
    return cpu::createSliceKernel;
  case KernelFamily::Gather:
    return cpu::createGatherKernel;
  case KernelFamily::Expand:
    return cpu::createExpandKernel;
  case KernelFamily::Tile:
    return cpu::createTileKernel;
  case KernelFamily::Pad:
    return cpu::createPadKernel;
  case KernelFamily::ScatterElements:
    return cpu::createScatterElementsKernel;
  case KernelFamily::Collective:
    return createHostCollectiveKernel;
  case KernelFamily::Launch:
    // Generated GPU code: createKernel says which backend runs it.
  case KernelFamily::Wait:
    return nullptr;
  }
  return nullptr;
}

bool hasFloat16Operand(const dsp::program::Program &program,
                       const dsp::program::Instruction &instruction) {
  auto isFloat16 = [&](uint32_t tensor) {
    return format::isFloat16(program.tensors(tensor).dtype());
  };
  return std::any_of(instruction.inputs().begin(), instruction.inputs().end(),
                     isFloat16) ||
         isFloat16(instruction.outputs(0));
}

class CpuBackend : public Backend {
public:
  explicit CpuBackend(Communicator &communicator)
      : communicator_(communicator) {}

  Status startThreads(unsigned threads) { return pool_.start(threads); }

  const char *name() const override { return "cpu"; }

  Status allocate(size_t bytes, void **buffer) override {
    // 64-byte alignment suits every dtype and vector width; aligned_alloc
    // wants a multiple of it, which must not wrap to a tiny buffer.
    std::optional<uint64_t> rounded = format::checkedAlignUp(bytes, 64);
    *buffer = rounded && *rounded <= format::kMaxBufferBytes
                  ? std::aligned_alloc(64, static_cast<size_t>(*rounded))
                  : nullptr;
    if (!*buffer)
      return Status::error("cannot allocate " + std::to_string(bytes) +
                           " bytes of host memory");
    return Status::success();
  }

  void deallocate(void *buffer) override { std::free(buffer); }

  // An empty tensor may have no address: memcpy must not see it.
  Status copyToDevice(void *device, const void *host, size_t bytes) override {
    return copyOnDevice(device, host, bytes);
  }

  Status copyToHost(void *host, const void *device, size_t bytes) override {
    return copyOnDevice(host, device, bytes);
  }

  Status copyOnDevice(void *target, const void *source, size_t bytes) override {
    if (bytes > 0)
      std::memcpy(target, source, bytes);
    return Status::success();
  }

  Status importWeights(const format::ProgramFile &file,
                       const void **weights) override {
    *weights = file.weights();
    return Status::success();
  }

  Status createKernel(const dsp::program::Program &program,
                      const dsp::program::Instruction &instruction,
                      std::unique_ptr<Kernel> &kernel) override {
    std::optional<Op> op = format::findOp(instruction.op());
    if (op == Op::Kernel)
      return Status::error("the program was compiled for target cuda; run it "
                           "with --backend=cuda");
    cpu::KernelFactory factory = op ? kernelFactory(*op) : nullptr;
    if (!factory)
      return Status::error("the cpu backend has no kernel for op '" +
                           instruction.op() + "'");
    // Ring attention overlaps its compute with its transfers on a thread
    // started once per session, with the first ring.
    if (op == Op::RingAttention && !computeLane_)
      if (Status status = createThreadLane(1, computeLane_); !status)
        return status;
    cpu::KernelContext context{
        {program, instruction, *op}, pool_, communicator_, computeLane_.get()};
    kernel = format::computesOnFloats(kernelFamily(*op)) &&
                     hasFloat16Operand(program, instruction)
                 ? cpu::createWidenedKernel(context, factory)
                 : factory(context);
    if (!kernel)
      return Status::error("the cpu backend has no kernel for op '" +
                           instruction.op() + "' with these dtypes");
    return Status::success();
  }

  bool hasKernel(format::Op op) const override {
    return kernelFactory(op) != nullptr;
  }

  Status synchronize() override { return Status::success(); }

  Status
  createCommunicationLane(size_t slots,
                          std::unique_ptr<CommunicationLane> &lane) override {
    return createThreadLane(slots, lane);
  }

private:
  cpu::ThreadPool pool_;
  Communicator &communicator_;
  // After the pool: its tasks use the pool, so it stops first.
  std::unique_ptr<CommunicationLane> computeLane_;
};

} // namespace

Status createBackend(const std::string &name, const BackendOptions &options,
                     std::unique_ptr<Backend> &backend) {
  if (name == "cpu") {
    if (Status setting = cpu::checkVectorSetting(); !setting)
      return setting;
    auto cpu = std::make_unique<CpuBackend>(*options.communicator);
    Status status = cpu->startThreads(std::max(options.threads, 1u));
    if (status)
      backend = std::move(cpu);
    return status;
  }
#ifdef DSP_HAVE_CUDA
  if (name == "cuda")
    return createCudaBackend(options, backend);
  const char *available = "cpu, cuda";
#else
  const char *available = "cpu";
#endif
  return Status::error("backend '" + name +
                       "' is not built in (available: " + available + ")");
}

} // namespace runtime
} // namespace dsp
