//===- CpuBackend.cpp - The cpu backend -----------------------------------===//
//
// Host memory, synchronous execution on a per-session thread pool, and the
// kernel factory of every registry op.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "dsp/Format/Checked.h"
#include "dsp/Format/Float16.h"

#include <algorithm>
#include <cblas.h>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace dsp {
namespace runtime {

namespace {

using cpu::Op;

/// How the backend makes the kernel of an op: its factory (null if it has
/// none), and whether f16 and bf16 operands reach that kernel widened to
/// f32 (Widened.cpp), because its float math is f32 only. Data movement and
/// the collectives take every dtype as it is; the reducing collectives
/// reduce 16-bit floats in f32 themselves.
struct KernelMaker {
  cpu::KernelFactory factory;
  bool widensFloat16;
};

KernelMaker kernelMaker(Op op) {
  switch (op) {
  case Op::Neg:
  case Op::Exp:
  case Op::Log:
  case Op::Sqrt:
  case Op::Reciprocal:
  case Op::Abs:
  case Op::Erf:
  case Op::Tanh:
  case Op::Sigmoid:
  case Op::Relu:
  case Op::Sin:
  case Op::Cos:
  case Op::Silu:
  case Op::Gelu:
  case Op::IsNan:
  case Op::Not:
  case Op::Cast:
    return {cpu::createUnaryKernel, true};
  case Op::Add:
  case Op::Sub:
  case Op::Mul:
  case Op::Div:
  case Op::Pow:
  case Op::Max:
  case Op::Min:
  case Op::Mod:
  case Op::Equal:
  case Op::Less:
  case Op::LessEqual:
  case Op::Greater:
  case Op::GreaterEqual:
  case Op::And:
  case Op::Or:
  case Op::Xor:
    return {cpu::createBinaryKernel, true};
  case Op::Where:
    return {cpu::createWhereKernel, false};
  case Op::Matmul:
    return {cpu::createMatmulKernel, true};
  case Op::LayerNorm:
    return {cpu::createLayerNormKernel, true};
  case Op::Softmax:
    return {cpu::createSoftmaxKernel, true};
  case Op::Attention:
    return {cpu::createAttentionKernel, true};
  case Op::Conv:
    return {cpu::createConvKernel, true};
  case Op::ReduceSum:
  case Op::ReduceMean:
  case Op::ReduceMax:
    return {cpu::createReduceKernel, true};
  case Op::Reshape:
    return {cpu::createReshapeKernel, false};
  case Op::Transpose:
    return {cpu::createTransposeKernel, false};
  case Op::Concat:
    return {cpu::createConcatKernel, false};
  case Op::Slice:
    return {cpu::createSliceKernel, false};
  case Op::Gather:
    return {cpu::createGatherKernel, false};
  case Op::Expand:
    return {cpu::createExpandKernel, false};
  case Op::Tile:
    return {cpu::createTileKernel, false};
  case Op::Pad:
    return {cpu::createPadKernel, false};
  case Op::ScatterElements:
    return {cpu::createScatterElementsKernel, false};
  case Op::AllToAll:
  case Op::AllGather:
  case Op::ReduceScatter:
  case Op::AllReduce:
  case Op::LocalSlice:
  case Op::ZeroPad:
    return {cpu::createCollectiveKernel, false};
  }
  return {nullptr, false};
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
    KernelMaker maker = op ? kernelMaker(*op) : KernelMaker{nullptr, false};
    if (!maker.factory)
      return Status::error("the cpu backend has no kernel for op '" +
                           instruction.op() + "'");
    cpu::KernelContext context{program, instruction, *op, pool_, communicator_};
    kernel = maker.widensFloat16 && hasFloat16Operand(program, instruction)
                 ? cpu::createWidenedKernel(context, maker.factory)
                 : maker.factory(context);
    if (!kernel)
      return Status::error("the cpu backend has no kernel for op '" +
                           instruction.op() + "' with these dtypes");
    return Status::success();
  }

  bool hasKernel(format::Op op) const override {
    return kernelMaker(op).factory != nullptr;
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
  return Status::error("backend '" + name +
                       "' is not built in (available: cpu)");
}

} // namespace runtime
} // namespace dsp
