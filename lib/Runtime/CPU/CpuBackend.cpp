//===- CpuBackend.cpp - The cpu backend -----------------------------------===//
//
// Host memory, synchronous execution on a per-session thread pool, and the
// op name -> kernel factory table.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "dsp/Format/Checked.h"

#include <cblas.h>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace dsp {
namespace runtime {

namespace {

using Factory = std::unique_ptr<Kernel> (*)(const cpu::KernelContext &);

const std::map<std::string, Factory> &kernelFactories() {
  static const std::map<std::string, Factory> factories = [] {
    std::map<std::string, Factory> table;
    for (const char *op : {"neg", "exp", "log", "sqrt", "reciprocal", "abs",
                           "erf", "tanh", "sigmoid", "relu", "sin", "cos",
                           "silu", "gelu", "isnan", "not", "cast"})
      table[op] = cpu::createUnaryKernel;
    for (const char *op :
         {"add", "sub", "mul", "div", "pow", "max", "min", "equal", "less",
          "less_equal", "greater", "greater_equal", "and", "or", "xor"})
      table[op] = cpu::createBinaryKernel;
    table["where"] = cpu::createWhereKernel;
    table["matmul"] = cpu::createMatmulKernel;
    table["layer_norm"] = cpu::createLayerNormKernel;
    table["softmax"] = cpu::createSoftmaxKernel;
    table["attention"] = cpu::createAttentionKernel;
    table["reshape"] = cpu::createReshapeKernel;
    table["transpose"] = cpu::createTransposeKernel;
    table["concat"] = cpu::createConcatKernel;
    table["slice"] = cpu::createSliceKernel;
    table["gather"] = cpu::createGatherKernel;
    for (const char *op : {"reduce_sum", "reduce_mean", "reduce_max"})
      table[op] = cpu::createReduceKernel;
    table["conv"] = cpu::createConvKernel;
    table["expand"] = cpu::createExpandKernel;
    table["tile"] = cpu::createTileKernel;
    for (const char *op : {"all_to_all", "all_gather", "reduce_scatter",
                           "all_reduce", "local_slice", "zero_pad"})
      table[op] = cpu::createCollectiveKernel;
    return table;
  }();
  return factories;
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
    auto factory = kernelFactories().find(instruction.op());
    if (factory != kernelFactories().end())
      kernel = factory->second(
          cpu::KernelContext{program, instruction, pool_, communicator_});
    if (!kernel)
      return Status::error("the cpu backend has no kernel for op '" +
                           instruction.op() + "' with these dtypes");
    return Status::success();
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
