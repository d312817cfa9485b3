//===- RingAttention.cpp - Ring attention on the rank's GPU ---------------===//
//
// Each rank holds a block of the queries and one of the keys and values. The
// key and value blocks travel around the ring (to the next rank of the
// group, from the previous) in N - 1 steps. At each step the flash kernel
// takes the block in hand into the query rows' state (AttentionCarry: the
// f32 output so far and its log-sum-exp) on the rank's stream, while the
// next block moves on the transfer lane's stream; the last step writes the
// output in the program's dtype. Blocks travel in that dtype, as planned.
//
// Two receive buffers alternate: the transfer of step s writes the buffer
// that step s - 1 took in, so the lane starts after the rank's stream has
// taken it in, and the rank's stream waits for the transfer before it takes
// in what arrived.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "../Collectives.h"
#include "dsp/Format/ProgramFile.h"
#include "dsp/Runtime/Communicator.h"

#include <algorithm>

namespace dsp {
namespace runtime {
namespace cuda {

Status createRingAttentionKernel(const KernelContext &context,
                                 std::unique_ptr<Kernel> &kernel) {
  const dsp::program::DType dtype = context.output().dtype();
  std::optional<ElementType> type = elementType(dtype);
  if (!type || *type == ElementType::I64 || *type == ElementType::Bool)
    return Status::error("the cuda backend has no kernel for op "
                         "'ring_attention' on dtype " +
                         std::string(format::dtypeName(dtype)));
  const AttentionGeometry geometry = attentionGeometry(context);
  if (!attentionSupports(geometry.depth, geometry.valueDepth))
    return Status::error("the cuda attention kernel takes head dims up to "
                         "256, got " +
                         std::to_string(geometry.depth) + " and " +
                         std::to_string(geometry.valueDepth));
  Resources &resources = context.resources;
  if (!resources.transferLane)
    return Status::error("ring attention needs the backend's transfer lane");
  const int64_t keyCount =
      format::intsAttribute(context.instruction, "key_count")[0];
  const InstructionGroup ring = instructionGroup(
      context.program, context.instruction, resources.communicator);
  const size_t elementBytes = format::elementSize(dtype);
  const size_t blockRows =
      static_cast<size_t>(geometry.batch * geometry.heads * geometry.keyRows);
  const size_t keyBytes = blockRows * geometry.depth * elementBytes;
  const size_t valueBytes = blockRows * geometry.valueDepth * elementBytes;
  const size_t queryRows =
      static_cast<size_t>(geometry.batch * geometry.heads * geometry.queries);
  const size_t receivedBytes = deviceAligned(keyBytes + valueBytes);
  const size_t stateOutputBytes =
      deviceAligned(queryRows * geometry.valueDepth * sizeof(float));
  const size_t workspaceBytes =
      2 * receivedBytes + stateOutputBytes + queryRows * sizeof(float);

  kernel = makeKernel(
      [=, &resources](const KernelArgs &args) -> Status {
        Communicator &communicator = resources.communicator;
        CommunicationLane &lane = *resources.transferLane;
        if (Status begun = communicator.beginCollective("ring_attention");
            !begun)
          return begun;
        uint8_t *workspace = static_cast<uint8_t *>(args.workspace);
        uint8_t *received[2] = {workspace, workspace + receivedBytes};
        float *stateOutput =
            reinterpret_cast<float *>(workspace + 2 * receivedBytes);
        float *stateLse = reinterpret_cast<float *>(
            workspace + 2 * receivedBytes + stateOutputBytes);
        const int ranks = static_cast<int>(ring.members.size());
        const int position = ring.position;
        const int next = ring.members[(position + 1) % ranks],
                  previous = ring.members[(position + ranks - 1) % ranks];
        const void *kData = args.inputs[1], *vData = args.inputs[2];
        for (int step = 0; step < ranks; ++step) {
          const bool last = step + 1 == ranks;
          uint8_t *kNext = received[step % 2], *vNext = kNext + keyBytes;
          if (!last) {
            Status started = lane.start(0, [&, kData, vData, kNext, vNext] {
              return communicator.exchange(
                  {{next, kData, keyBytes}, {next, vData, valueBytes}},
                  {{previous, kNext, keyBytes}, {previous, vNext, valueBytes}});
            });
            if (!started)
              return started;
          }
          // Keys [block * keyRows, ...) of the whole; the padding past
          // key_count is left out.
          const int64_t block = (position - step + ranks) % ranks;
          AttentionGeometry g = geometry;
          g.keys = std::clamp<int64_t>(keyCount - block * geometry.keyRows, 0,
                                       geometry.keyRows);
          AttentionCarry carry;
          if (step > 0) {
            carry.priorOutput = stateOutput;
            carry.priorLse = stateLse;
          }
          if (!last) {
            carry.nextOutput = stateOutput;
            carry.nextLse = stateLse;
          }
          Status launched = check(
              launchAttention(*type, g, args.inputs[0], kData, vData, nullptr,
                              args.output, resources.stream, carry),
              "the ring attention kernel launch");
          if (last)
            return launched;
          Status moved = lane.wait(0);
          if (!launched)
            return launched;
          if (!moved)
            return moved;
          kData = kNext;
          vData = vNext;
        }
        return Status::success();
      },
      workspaceBytes);
  return Status::success();
}

} // namespace cuda
} // namespace runtime
} // namespace dsp
