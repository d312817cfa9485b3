//===- CollectiveStaging.cpp - Collectives' bytes beside the arena --------===//

#include "dsp/Format/CollectiveStaging.h"
#include "dsp/Format/Checked.h"

#include <initializer_list>
#include <optional>

namespace dsp {
namespace format {

std::vector<int64_t> allGatherStagingSlots(const std::vector<int64_t> &global,
                                           size_t elementSize,
                                           const Layout &from, int64_t ranks,
                                           int64_t rank) {
  std::vector<int64_t> slots(static_cast<size_t>(ranks), -1);
  int64_t next = 0;
  for (int64_t peer = 0; peer < ranks; ++peer)
    if (peer != rank &&
        contiguousBlockOffset(global, elementSize, from, ranks, peer) < 0)
      slots[static_cast<size_t>(peer)] = next++;
  return slots;
}

size_t collectiveStagingBytes(Op op, const std::vector<int64_t> &global,
                              size_t elementSize, const Layout &from,
                              const Layout &to, int64_t ranks, int64_t rank) {
  uint64_t n = static_cast<uint64_t>(ranks);
  switch (op) {
  case Op::AllToAll:
    // A pack to send and one to receive, a chunk per member: the chunk is
    // the block of `from` within the block of `to`.
    return saturatingSize(
        {2, n,
         shapeElements(from.localShape(to.localShape(global, ranks), ranks)),
         elementSize});
  case Op::AllGather: {
    // Each other member's block of `from` that does not land in place. A
    // member whose own block lands in place stages the most, if any does.
    if (rank < 0) {
      rank = 0;
      for (int64_t member = 0; member < ranks; ++member)
        if (contiguousBlockOffset(global, elementSize, from, ranks, member) >=
            0) {
          rank = member;
          break;
        }
    }
    uint64_t staged = 0;
    for (int64_t slot :
         allGatherStagingSlots(global, elementSize, from, ranks, rank))
      staged += slot >= 0;
    return saturatingSize(
        {staged, shapeElements(from.localShape(global, ranks)), elementSize});
  }
  case Op::ReduceScatter:
    // The summands packed by block of `to`, and the blocks received.
    return saturatingSize(
        {2, n, shapeElements(to.localShape(global, ranks)), elementSize});
  case Op::AllReduce: {
    // The tensor padded to a chunk per member, and the chunks received.
    uint64_t chunk = (shapeElements(global) + n - 1) / n;
    return saturatingSize({2, n, chunk, elementSize});
  }
  default:
    return 0;
  }
}

int64_t collectiveGroupSize(const dsp::program::Program &program,
                            const dsp::program::Instruction &instruction) {
  std::vector<int64_t> axis = intsAttribute(instruction, "axis");
  if (axis.empty())
    return program.ranks();
  return programMesh(program)[static_cast<size_t>(axis[0])];
}

size_t instructionStagingBytes(const dsp::program::Program &program,
                               const dsp::program::Instruction &instruction) {
  std::optional<Op> op = findOp(instruction.op());
  if (!op || !communicates(*op) || *op == Op::RingAttention)
    return 0;
  Layout from, to;
  // Validated: both layouts decode and fit the global shape.
  Layout::decode(intsAttribute(instruction, "from"), from);
  Layout::decode(intsAttribute(instruction, "to"), to);
  return collectiveStagingBytes(
      *op, intsAttribute(instruction, "global_shape"),
      elementSize(
          program.tensors(static_cast<int>(instruction.inputs(0))).dtype()),
      from, to, collectiveGroupSize(program, instruction), -1);
}

} // namespace format
} // namespace dsp
