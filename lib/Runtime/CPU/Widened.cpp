//===- Widened.cpp - f16 and bf16 through the f32 kernels -----------------===//
//
// The float kernels are written once, for f32. An instruction with f16 or
// bf16 operands runs the f32 kernel of the same instruction on f32 copies
// of those operands, kept in the workspace: inputs are widened before it
// (exactly), a 16-bit result is rounded once after it. So 16-bit programs
// get f32 arithmetic and statistics, and the 16-bit results are those of
// the f32 computation rounded to nearest even.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "dsp/Format/Float16.h"
#include "dsp/Format/HostWorkspace.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace dsp {
namespace runtime {
namespace cpu {

namespace {

/// An f16 or bf16 operand and its f32 copy in the workspace.
struct WidenedOperand {
  /// The input index, or -1 for the output.
  int index;
  dsp::program::DType dtype;
  size_t count;
  size_t offset;
};

class WidenedKernel : public Kernel {
public:
  WidenedKernel(std::unique_ptr<Kernel> inner,
                std::vector<WidenedOperand> operands, int numInputs,
                size_t innerOffset, ThreadPool &pool)
      : inner_(std::move(inner)), operands_(std::move(operands)),
        inputs_(numInputs), innerOffset_(innerOffset), pool_(pool) {}

  size_t workspaceBytes() const override {
    std::optional<size_t> total =
        format::checkedAdd(innerOffset_, inner_->workspaceBytes());
    return total.value_or(SIZE_MAX);
  }

  Status run(const KernelArgs &args) override {
    uint8_t *workspace = static_cast<uint8_t *>(args.workspace);
    std::copy(args.inputs, args.inputs + inputs_.size(), inputs_.begin());
    void *output = args.output;
    const WidenedOperand *result = nullptr;
    for (const WidenedOperand &operand : operands_) {
      float *wide = reinterpret_cast<float *>(workspace + operand.offset);
      if (operand.index < 0) {
        output = wide;
        result = &operand;
        continue;
      }
      const uint16_t *narrow =
          static_cast<const uint16_t *>(args.inputs[operand.index]);
      convert(operand.count, [&](int64_t begin, int64_t end) {
        format::widenToFloat(operand.dtype, narrow + begin, wide + begin,
                             end - begin);
      });
      inputs_[operand.index] = wide;
    }
    Status status = inner_->run(
        {inputs_.data(), output, &output, workspace + innerOffset_});
    if (!status || !result)
      return status;
    const float *wide = static_cast<const float *>(output);
    uint16_t *narrow = static_cast<uint16_t *>(args.output);
    convert(result->count, [&](int64_t begin, int64_t end) {
      format::narrowFromFloat(result->dtype, wide + begin, narrow + begin,
                              end - begin);
    });
    return Status::success();
  }

private:
  template <typename Body> void convert(size_t count, Body body) {
    pool_.parallelFor(
        static_cast<int64_t>(count), kConversionGrain,
        [&](int64_t begin, int64_t end, unsigned) { body(begin, end); });
  }

  std::unique_ptr<Kernel> inner_;
  std::vector<WidenedOperand> operands_;
  /// The inner kernel's input addresses, rebuilt by every run.
  std::vector<const void *> inputs_;
  /// Where the inner kernel's workspace starts, after the f32 copies.
  size_t innerOffset_;
  ThreadPool &pool_;
};

} // namespace

std::unique_ptr<Kernel> createWidenedKernel(const KernelContext &context,
                                            KernelFactory factory) {
  // The instruction as its f32 kernel sees it: a program of its operands
  // alone, the f16 and bf16 ones turned f32.
  dsp::program::Program program;
  program.set_ranks(context.program.ranks());
  dsp::program::Instruction &instruction = *program.add_instructions();
  instruction = context.instruction;
  instruction.clear_inputs();
  instruction.clear_outputs();
  std::vector<WidenedOperand> operands;
  size_t offset = 0;
  auto addOperand = [&](const dsp::program::Tensor &tensor, int index) {
    dsp::program::Tensor &copy = *program.add_tensors();
    copy = tensor;
    if (format::isFloat16(tensor.dtype())) {
      size_t count = tensor.bytes() / 2;
      copy.set_dtype(dsp::program::F32);
      copy.set_bytes(count * sizeof(float));
      operands.push_back({index, tensor.dtype(), count, offset});
      // Validated: at most 2^48 elements per operand, so no overflow.
      offset += format::widenedCopyBytes(count);
    }
    return static_cast<uint32_t>(program.tensors_size() - 1);
  };
  for (int i = 0; i < context.numInputs(); ++i)
    instruction.add_inputs(addOperand(context.input(i), i));
  instruction.add_outputs(addOperand(context.output(), -1));
  std::unique_ptr<Kernel> kernel = factory(KernelContext{
      {program, instruction, context.op}, context.pool, context.communicator});
  if (!kernel)
    return nullptr;
  return std::make_unique<WidenedKernel>(std::move(kernel), std::move(operands),
                                         context.numInputs(), offset,
                                         context.pool);
}

} // namespace cpu
} // namespace runtime
} // namespace dsp
