//===- CollectiveStaging.h - Collectives' bytes beside the arena -*- C++
//-*-===//
//
// A collective kernel stages what does not land in place in a workspace of
// its own: one block per member of its group for what it receives, and the
// packs it sends. The runtime sizes the workspaces with these rules and the
// compiler reports them with a program's memory, so the two agree.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_FORMAT_COLLECTIVESTAGING_H
#define DSP_FORMAT_COLLECTIVESTAGING_H

#include "dsp/Format/Layout.h"
#include "dsp/Format/OpRegistry.h"
#include "dsp/Format/ProgramFile.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dsp {
namespace format {

/// The workspace bytes the kernel of collective `op` needs at member
/// `rank` of a group of `ranks`, for a tensor of `global` shape moving from
/// layout `from` to `to`: 0 for an op that stages nothing (local_slice,
/// zero_pad and every non-collective), SIZE_MAX where the size overflows.
/// A negative `rank` asks for the most any member needs.
size_t collectiveStagingBytes(Op op, const std::vector<int64_t> &global,
                              size_t elementSize, const Layout &from,
                              const Layout &to, int64_t ranks, int64_t rank);

/// Where an all_gather at member `rank` puts each member's block of `from`:
/// -1 where the block lands in place in the gathered tensor (and for its
/// own), else its slot in the workspace, counted from 0.
std::vector<int64_t> allGatherStagingSlots(const std::vector<int64_t> &global,
                                           size_t elementSize,
                                           const Layout &from, int64_t ranks,
                                           int64_t rank);

/// The size of the group `instruction` (a validated collective) runs
/// among: its mesh axis's, or the program's ranks.
int64_t collectiveGroupSize(const dsp::program::Program &program,
                            const dsp::program::Instruction &instruction);

/// collectiveStagingBytes for `instruction` of a validated `program`: the
/// most any member of its group needs.
size_t instructionStagingBytes(const dsp::program::Program &program,
                               const dsp::program::Instruction &instruction);

} // namespace format
} // namespace dsp

#endif // DSP_FORMAT_COLLECTIVESTAGING_H
