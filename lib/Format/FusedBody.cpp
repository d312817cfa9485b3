//===- FusedBody.cpp - The body of element-wise kernels -------------------===//

#include "dsp/Format/FusedBody.h"

#include "dsp/Format/Checked.h"
#include "dsp/Format/HostWorkspace.h"
#include "dsp/Format/KernelFamily.h"

#include <algorithm>

namespace dsp {
namespace format {

dsp::program::FusedBody
elementwiseBody(const dsp::program::Program &program,
                const dsp::program::Instruction &instruction) {
  if (instruction.has_body())
    return instruction.body();
  dsp::program::FusedBody body;
  auto addValue = [&](uint32_t tensor, dsp::program::TensorKind kind) {
    dsp::program::Tensor &value = *body.add_values();
    const dsp::program::Tensor &source = program.tensors(tensor);
    value.set_dtype(source.dtype());
    *value.mutable_shape() = source.shape();
    value.set_kind(kind);
  };
  dsp::program::Instruction &step = *body.add_steps();
  step.set_op(instruction.op());
  *step.mutable_attributes() = instruction.attributes();
  for (int i = 0; i < instruction.inputs_size(); ++i) {
    addValue(instruction.inputs(i), dsp::program::INPUT);
    step.add_inputs(i);
  }
  addValue(instruction.outputs(0), dsp::program::INTERMEDIATE);
  step.add_outputs(instruction.inputs_size());
  body.add_results(instruction.inputs_size());
  return body;
}

int rowStep(const dsp::program::FusedBody &body) {
  for (int k = 0; k < body.steps_size(); ++k) {
    std::optional<Op> op = findOp(body.steps(k).op());
    if (op && !isElementwise(kernelFamily(*op)))
      return k;
  }
  return -1;
}

size_t computeElementBytes(dsp::program::DType dtype) {
  return dtype == dsp::program::F16 || dtype == dsp::program::BF16
             ? sizeof(float)
             : elementSize(dtype);
}

ElementwiseTiling::ElementwiseTiling(const dsp::program::FusedBody &body,
                                     int numInputs, int64_t spaceElements,
                                     int64_t rowLength) {
  chunk = std::clamp<int64_t>(spaceElements, 1, kElementwiseChunk);
  if (rowStep(body) >= 0)
    chunk = std::max(chunk, rowLength);
  const int constants = body.values_size() - numInputs - body.steps_size();
  tileOffsets.assign(body.values_size(), SIZE_MAX);
  // Validated: at most kMaxFusedValues tiles of a row of at most 2^48
  // elements of 8 bytes, so the sums stay far below 2^64.
  for (int v = 0; v < body.values_size(); ++v) {
    if (v >= numInputs && v < numInputs + constants)
      continue;
    tileOffsets[v] = workerBytes;
    workerBytes += static_cast<size_t>(
        *checkedAlignUp(static_cast<uint64_t>(chunk) *
                            computeElementBytes(body.values(v).dtype()),
                        64));
  }
}

size_t ElementwiseTiling::workspaceBytes(unsigned workers) const {
  return saturatingSize({workers, workerBytes});
}

} // namespace format
} // namespace dsp
