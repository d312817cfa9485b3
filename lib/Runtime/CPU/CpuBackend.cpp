//===- CpuBackend.cpp - The cpu backend -----------------------------------===//
//
// Host memory, synchronous execution on a per-session thread pool, and the
// kernel factory of every registry op.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "../Collectives.h"

#include "dsp/Format/Checked.h"
#ifdef DSP_HAVE_CUDA
#include "../CUDA/CudaBackend.h"
#endif

#include <cblas.h>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace dsp {
namespace runtime {

namespace {

using cpu::Op;
using Factory = std::unique_ptr<Kernel> (*)(const cpu::KernelContext &);

/// The factory of `op`'s kernel, or nullptr if the backend has none.
Factory kernelFactory(Op op) {
  switch (kernelFamily(op)) {
  case KernelFamily::Unary:
    return cpu::createUnaryKernel;
  case KernelFamily::Binary:
    return cpu::createBinaryKernel;
  case KernelFamily::Where:
    return cpu::createWhereKernel;
  case KernelFamily::Matmul:
    return cpu::createMatmulKernel;
  case KernelFamily::LayerNorm:
    return cpu::createLayerNormKernel;
  case KernelFamily::Softmax:
    return cpu::createSoftmaxKernel;
  case KernelFamily::Attention:
    return cpu::createAttentionKernel;
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
  case KernelFamily::Collective:
    return [](const cpu::KernelContext &context) {
      return createCollectiveKernel(context.program, context.instruction,
                                    context.op, context.communicator,
                                    hostCollectiveMemory());
    };
  case KernelFamily::Launch:
    // Generated GPU code: createKernel says which backend runs it.
    return nullptr;
  }
  return nullptr;
}

class CpuBackend : public Backend {
public:
  explicit CpuBackend(Communicator &communicator)
      : communicator_(communicator) {
    // The pool parallelizes GEMMs by tiles; OpenBLAS threads on top would
    // oversubscribe the cores, all the more with several sessions.
    static std::once_flag singleThreadedBlas;
    std::call_once(singleThreadedBlas, [] { openblas_set_num_threads(1); });
  }

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
    if (bytes > 0)
      std::memcpy(device, host, bytes);
    return Status::success();
  }

  Status copyToHost(void *host, const void *device, size_t bytes) override {
    if (bytes > 0)
      std::memcpy(host, device, bytes);
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
    Factory factory = op ? kernelFactory(*op) : nullptr;
    if (!factory)
      return Status::error("the cpu backend has no kernel for op '" +
                           instruction.op() + "'");
    kernel = factory(
        cpu::KernelContext{{program, instruction, *op}, pool_, communicator_});
    if (!kernel)
      return Status::error("the cpu backend has no kernel for op '" +
                           instruction.op() + "' with these dtypes");
    return Status::success();
  }

  bool hasKernel(format::Op op) const override {
    return kernelFactory(op) != nullptr;
  }

  Status synchronize() override { return Status::success(); }

private:
  cpu::ThreadPool pool_;
  Communicator &communicator_;
};

} // namespace

Status createBackend(const std::string &name, const BackendOptions &options,
                     std::unique_ptr<Backend> &backend) {
  if (name == "cpu") {
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
