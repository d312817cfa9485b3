//===- Kernels.h - CPU kernel factories -------------------------*- C++ -*-===//
//
// Every factory receives an instruction that passed validation, so shapes,
// dtypes and attributes are known to be consistent; it precomputes what the
// kernel needs and returns a kernel that only reads addresses at run time.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_CPU_KERNELS_H
#define DSP_RUNTIME_CPU_KERNELS_H

#include "ThreadPool.h"
#include "dsp/Format/Checked.h"
#include "dsp/Format/OpRegistry.h"
#include "dsp/Runtime/Backend.h"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <type_traits>

namespace dsp {
namespace runtime {

class Communicator;

namespace cpu {

using format::Op;
using Shape = std::vector<int64_t>;

struct KernelContext {
  const dsp::program::Program &program;
  const dsp::program::Instruction &instruction;
  /// The registry op `instruction` names.
  Op op;
  ThreadPool &pool;
  /// The rank's communicator (a group of one for single-rank programs).
  Communicator &communicator;

  int numInputs() const { return instruction.inputs_size(); }
  const dsp::program::Tensor &input(int i) const {
    return program.tensors(instruction.inputs(i));
  }
  const dsp::program::Tensor &output() const {
    return program.tensors(instruction.outputs(0));
  }
  Shape inputShape(int i) const { return format::tensorShape(input(i)); }
  Shape outputShape() const { return format::tensorShape(output()); }
};

/// A kernel whose run() is a function object.
class FunctionKernel : public Kernel {
public:
  using Function = std::function<Status(const KernelArgs &)>;
  FunctionKernel(Function function, size_t workspaceBytes = 0)
      : function_(std::move(function)), workspaceBytes_(workspaceBytes) {}
  size_t workspaceBytes() const override { return workspaceBytes_; }
  Status run(const KernelArgs &args) override { return function_(args); }

private:
  Function function_;
  size_t workspaceBytes_;
};

inline std::unique_ptr<Kernel> makeKernel(FunctionKernel::Function function,
                                          size_t workspaceBytes = 0) {
  return std::make_unique<FunctionKernel>(std::move(function), workspaceBytes);
}

int64_t elementCount(const Shape &shape);

/// `operation` on two values; integers wrap around in two's complement, as in
/// numpy and torch, where signed overflow would be undefined behavior.
template <typename T, typename Operation>
T wrapping(T a, T b, Operation operation) {
  if constexpr (std::is_integral_v<T>) {
    using Unsigned = std::make_unsigned_t<T>;
    return static_cast<T>(
        operation(static_cast<Unsigned>(a), static_cast<Unsigned>(b)));
  } else {
    return operation(a, b);
  }
}

/// The product of `factors`, a workspace size in bytes, or SIZE_MAX if it
/// overflows: the session refuses a workspace that large, where a wrapped
/// product would be a small buffer that kernels overrun.
inline size_t workspaceBytes(std::initializer_list<size_t> factors) {
  size_t product = 1;
  for (size_t factor : factors) {
    std::optional<size_t> next = format::checkedMul(product, factor);
    if (!next)
      return SIZE_MAX;
    product = *next;
  }
  return product;
}

using KernelFactory = std::unique_ptr<Kernel> (*)(const KernelContext &);

// Factories, grouped by source file. Each handles the ops listed and
// returns null for dtypes it does not handle.
// Elementwise.cpp: unary ops, cast, isnan, not, binary ops, where.
std::unique_ptr<Kernel> createUnaryKernel(const KernelContext &context);
std::unique_ptr<Kernel> createBinaryKernel(const KernelContext &context);
std::unique_ptr<Kernel> createWhereKernel(const KernelContext &context);
// DataMovement.cpp: reshape, transpose, slice, expand, tile, concat, gather,
// pad, scatter_elements.
std::unique_ptr<Kernel> createReshapeKernel(const KernelContext &context);
std::unique_ptr<Kernel> createTransposeKernel(const KernelContext &context);
std::unique_ptr<Kernel> createSliceKernel(const KernelContext &context);
std::unique_ptr<Kernel> createExpandKernel(const KernelContext &context);
std::unique_ptr<Kernel> createTileKernel(const KernelContext &context);
std::unique_ptr<Kernel> createConcatKernel(const KernelContext &context);
std::unique_ptr<Kernel> createGatherKernel(const KernelContext &context);
std::unique_ptr<Kernel> createPadKernel(const KernelContext &context);
std::unique_ptr<Kernel>
createScatterElementsKernel(const KernelContext &context);
// Normalization.cpp: layer_norm, softmax, reduce_sum/mean/max.
std::unique_ptr<Kernel> createLayerNormKernel(const KernelContext &context);
std::unique_ptr<Kernel> createSoftmaxKernel(const KernelContext &context);
std::unique_ptr<Kernel> createReduceKernel(const KernelContext &context);
// Linear.cpp: matmul, attention, conv.
std::unique_ptr<Kernel> createMatmulKernel(const KernelContext &context);
std::unique_ptr<Kernel> createAttentionKernel(const KernelContext &context);
std::unique_ptr<Kernel> createConvKernel(const KernelContext &context);
// Collectives.cpp: all_to_all, all_gather, reduce_scatter, all_reduce,
// local_slice, zero_pad.
std::unique_ptr<Kernel> createCollectiveKernel(const KernelContext &context);

/// Widened.cpp: the kernel of an instruction with f16 or bf16 operands, for
/// an op whose kernels compute in f32. Every such input is widened to f32 in
/// the workspace, `factory`'s f32 kernel runs, and an f16 or bf16 result is
/// rounded back to nearest even; statistics and accumulations stay f32.
std::unique_ptr<Kernel> createWidenedKernel(const KernelContext &context,
                                            KernelFactory factory);

} // namespace cpu
} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_CPU_KERNELS_H
