//===- KernelSupport.h - What every backend's kernels share -----*- C++ -*-===//
//
// The view of an instruction kernel factories read, shape functions, kernels
// made of function objects, and the grouping of ops into kernel families
// that each backend maps to its factories.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_KERNELSUPPORT_H
#define DSP_RUNTIME_KERNELSUPPORT_H

#include "dsp/Format/Checked.h"
#include "dsp/Format/KernelFamily.h"
#include "dsp/Format/Layout.h"
#include "dsp/Format/OpRegistry.h"
#include "dsp/Format/ProgramFile.h"
#include "dsp/Runtime/Backend.h"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <type_traits>

namespace dsp {
namespace runtime {

using Shape = std::vector<int64_t>;

/// An instruction of a validated program, as kernel factories read it.
struct InstructionContext {
  const dsp::program::Program &program;
  const dsp::program::Instruction &instruction;
  /// The registry op `instruction` names.
  format::Op op;

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

inline int64_t elementCount(const Shape &shape) {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

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

/// What a gather or scatter says of an index out of range.
inline std::string indexOutOfRange(int64_t index, int64_t position,
                                   int64_t axis, int64_t axisSize) {
  return "index " + std::to_string(index) + " at position " +
         std::to_string(position) + " is out of range for axis " +
         std::to_string(axis) + " of size " + std::to_string(axisSize);
}

using format::contiguousStrides;

/// The dims of a contiguous tensor of shape `in` that a reduction over
/// `axes` keeps and those it reduces, with their strides.
struct ReductionDims {
  Shape keptShape, keptStrides, reducedShape, reducedStrides;
};

inline ReductionDims reductionDims(const Shape &in, const Shape &axes) {
  ReductionDims dims;
  Shape strides = contiguousStrides(in);
  for (size_t d = 0; d < in.size(); ++d) {
    bool reduced =
        std::find(axes.begin(), axes.end(), int64_t(d)) != axes.end();
    (reduced ? dims.reducedShape : dims.keptShape).push_back(in[d]);
    (reduced ? dims.reducedStrides : dims.keptStrides).push_back(strides[d]);
  }
  return dims;
}

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

/// `kernel`, reporting `implementation` as Kernel::implementation().
inline std::unique_ptr<Kernel>
withImplementation(std::unique_ptr<Kernel> kernel, std::string implementation) {
  class Implemented : public Kernel {
  public:
    Implemented(std::unique_ptr<Kernel> kernel, std::string implementation)
        : kernel_(std::move(kernel)),
          implementation_(std::move(implementation)) {}
    size_t workspaceBytes() const override { return kernel_->workspaceBytes(); }
    Status run(const KernelArgs &args) override { return kernel_->run(args); }
    std::string implementation() const override { return implementation_; }

  private:
    std::unique_ptr<Kernel> kernel_;
    std::string implementation_;
  };
  return std::make_unique<Implemented>(std::move(kernel),
                                       std::move(implementation));
}

using format::KernelFamily;
using format::kernelFamily;

} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_KERNELSUPPORT_H
