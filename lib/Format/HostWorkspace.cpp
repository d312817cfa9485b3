//===- HostWorkspace.cpp - CPU kernels' scratch beside the arena ----------===//

#include "dsp/Format/HostWorkspace.h"

#include "dsp/Format/AttentionLayout.h"
#include "dsp/Format/Checked.h"
#include "dsp/Format/CollectiveStaging.h"
#include "dsp/Format/Float16.h"
#include "dsp/Format/FusedBody.h"

#include <algorithm>

namespace dsp {
namespace format {

AttentionTiling::AttentionTiling(int64_t batchHeads, int64_t queries,
                                 int64_t keys, unsigned workers) {
  keyBlock = std::min<int64_t>(std::max<int64_t>(keys, 1), 128);
  scoreStride = ceilDiv(keyBlock, kAttentionScoreLanes) * kAttentionScoreLanes;
  queryBlock =
      std::min<int64_t>(std::max<int64_t>(queries, 1), kAttentionMaxQueryBlock);
  while (queryBlock > 16 &&
         batchHeads * ceilDiv(queries, queryBlock) < 2 * int64_t(workers))
    queryBlock /= 2;
  queryBlocks = ceilDiv(queries, queryBlock);
}

size_t AttentionTiling::workerFloats(int64_t valueDepth) const {
  return static_cast<size_t>(queryBlock * scoreStride +
                             queryBlock * valueDepth + 2 * queryBlock);
}

size_t AttentionTiling::workspaceBytes(int64_t valueDepth,
                                       unsigned workers) const {
  return saturatingSize({workers, workerFloats(valueDepth), sizeof(float)});
}

RingAttentionScratch::RingAttentionScratch(const std::vector<int64_t> &q,
                                           const std::vector<int64_t> &k,
                                           const std::vector<int64_t> &v,
                                           dsp::program::DType dtype,
                                           const AttentionTiling &tiling) {
  const bool narrow = isFloat16(dtype);
  const size_t elementBytes = narrow ? sizeof(uint16_t) : sizeof(float);
  const size_t rows = static_cast<size_t>(q[0] * q[1] * q[2]);
  const size_t queryElements = shapeElements(q);
  const size_t blockElements = shapeElements(k) + shapeElements(v);
  const size_t outputElements = rows * static_cast<size_t>(v[3]);
  receivedFloats =
      (blockElements * elementBytes + sizeof(float) - 1) / sizeof(float);
  wideFloats = narrow ? queryElements + blockElements + outputElements : 0;
  stateFloats = rows * static_cast<size_t>(v[3] + 2);
  scoreFloats = static_cast<size_t>(tiling.queryBlock * tiling.scoreStride);
}

size_t RingAttentionScratch::bytes(unsigned workers) const {
  return saturatingSize(
      {2 * receivedFloats + wideFloats + stateFloats + workers * scoreFloats,
       sizeof(float)});
}

ConvGeometry::ConvGeometry(const std::vector<int64_t> &x,
                           const std::vector<int64_t> &w,
                           const std::vector<int64_t> &out,
                           const dsp::program::Instruction &instruction,
                           unsigned workers) {
  std::vector<int64_t> strides = intsAttribute(instruction, "strides");
  std::vector<int64_t> dilations = intsAttribute(instruction, "dilations");
  std::vector<int64_t> pads = intsAttribute(instruction, "pads");
  const int spatial = static_cast<int>(x.size()) - 2;
  pointwise = true;
  for (int d = 0; d < 3; ++d) {
    int source = d - (3 - spatial);
    bool present = source >= 0;
    in[d] = present ? x[2 + source] : 1;
    kernel[d] = present ? w[2 + source] : 1;
    output[d] = present ? out[2 + source] : 1;
    stride[d] = present ? strides[source] : 1;
    dilation[d] = present ? dilations[source] : 1;
    pad[d] = present ? pads[source] : 0;
    pointwise = pointwise && kernel[d] == 1 && stride[d] == 1 && pad[d] == 0 &&
                (!present || pads[source + spatial] == 0);
  }
  transposedColumns = !pointwise && stride[2] > 1 && dilation[2] == 1;
  images = x[0];
  channels = x[1];
  filters = w[0];
  group = intsAttribute(instruction, "group")[0];
  groupChannels = channels / group;
  groupFilters = filters / group;
  kernelVolume = kernel[0] * kernel[1] * kernel[2];
  patch = groupChannels * kernelVolume;
  inputVolume = in[0] * in[1] * in[2];
  positions = output[0] * output[1] * output[2];
  // Column buffers of about 4 MiB, and blocks small enough that every
  // worker has one where the images and groups alone are too few.
  const int64_t perImage = ceilDiv(static_cast<int64_t>(std::max(workers, 1u)),
                                   std::max<int64_t>(images * group, 1));
  block = std::min(
      std::max<int64_t>((int64_t(1) << 20) / std::max<int64_t>(patch, 1), 16),
      std::max<int64_t>(ceilDiv(positions, perImage), 1));
  blocks = ceilDiv(positions, block);
  columnBytes =
      pointwise ? 0
                : saturatingSize({workers, static_cast<size_t>(patch),
                                  static_cast<size_t>(block), sizeof(float)});
}

size_t widenedCopyBytes(size_t count) {
  std::optional<uint64_t> bytes = checkedMul<uint64_t>(count, sizeof(float));
  std::optional<uint64_t> aligned =
      bytes ? checkedAlignUp(*bytes, 64) : std::nullopt;
  return aligned && *aligned <= SIZE_MAX ? static_cast<size_t>(*aligned)
                                         : SIZE_MAX;
}

size_t hostKernelWorkspaceBytes(const dsp::program::Program &program,
                                const dsp::program::Instruction &instruction,
                                unsigned threads) {
  std::optional<Op> op = findOp(instruction.op());
  if (!op)
    return 0;
  auto tensor = [&](uint32_t index) -> const dsp::program::Tensor & {
    return program.tensors(static_cast<int>(index));
  };
  auto input = [&](int i) {
    return tensorShape(tensor(instruction.inputs(i)));
  };
  KernelFamily family = kernelFamily(*op);
  uint64_t copies = 0;
  // Element-wise kernels read 16-bit floats themselves.
  if (computesOnFloats(family)) {
    std::vector<uint32_t> operands(instruction.inputs().begin(),
                                   instruction.inputs().end());
    operands.push_back(instruction.outputs(0));
    for (uint32_t index : operands)
      if (isFloat16(tensor(index).dtype()))
        copies = checkedAdd<uint64_t>(
                     copies, widenedCopyBytes(tensor(index).bytes() / 2))
                     .value_or(UINT64_MAX);
  }
  size_t own = 0;
  switch (family) {
  case KernelFamily::Attention: {
    AttentionLayout layout = attentionLayout(program, instruction);
    const std::vector<int64_t> &q = layout.views[0].shape;
    AttentionTiling tiling(q[0] * q[1], q[2], layout.views[1].shape[2],
                           threads);
    own = tiling.workspaceBytes(layout.views[2].shape[3], threads);
    break;
  }
  case KernelFamily::RingAttention: {
    std::vector<int64_t> q = input(0), k = input(1);
    AttentionTiling tiling(q[0] * q[1], q[2], k[2], threads);
    own = RingAttentionScratch(q, k, input(2),
                               tensor(instruction.outputs(0)).dtype(), tiling)
              .bytes(threads);
    break;
  }
  case KernelFamily::Conv:
    own = ConvGeometry(input(0), input(1),
                       tensorShape(tensor(instruction.outputs(0))), instruction,
                       threads)
              .columnBytes;
    break;
  case KernelFamily::Collective:
    own = instructionStagingBytes(program, instruction);
    break;
  case KernelFamily::Unary:
  case KernelFamily::Binary:
  case KernelFamily::Where:
  case KernelFamily::Fused: {
    std::vector<int64_t> space = tensorShape(tensor(instruction.outputs(0)));
    own = ElementwiseTiling(elementwiseBody(program, instruction),
                            instruction.inputs_size(), shapeElements(space),
                            space.empty() ? 1 : space.back())
              .workspaceBytes(threads);
    break;
  }
  default:
    break;
  }
  std::optional<uint64_t> total = checkedAdd<uint64_t>(copies, own);
  return total && *total <= SIZE_MAX ? static_cast<size_t>(*total) : SIZE_MAX;
}

HostWorkspace hostWorkspace(const dsp::program::Program &program,
                            unsigned threads) {
  bool hasAsync = std::any_of(program.instructions().begin(),
                              program.instructions().end(), startsAsync);
  HostWorkspace workspace;
  for (const dsp::program::Instruction &instruction : program.instructions()) {
    std::optional<Op> op = findOp(instruction.op());
    bool onLane = hasAsync && op && communicates(*op);
    uint64_t &largest = onLane ? workspace.lane : workspace.kernels;
    largest = std::max<uint64_t>(
        largest, hostKernelWorkspaceBytes(program, instruction, threads));
  }
  return workspace;
}

} // namespace format
} // namespace dsp
