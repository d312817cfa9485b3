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

/// The workspace bytes each rank's kernel of collective `op` needs over a
/// group of `ranks`, for a tensor of `global` shape moving from layout
/// `from` to `to`: 0 for an op that stages nothing (local_slice, zero_pad
/// and every non-collective), SIZE_MAX where the size overflows.
size_t collectiveStagingBytes(Op op, const std::vector<int64_t> &global,
                              size_t elementSize, const Layout &from,
                              const Layout &to, int64_t ranks);

/// The size of the group `instruction` (a validated collective) runs
/// among: its mesh axis's, or the program's ranks.
int64_t collectiveGroupSize(const dsp::program::Program &program,
                            const dsp::program::Instruction &instruction);

/// collectiveStagingBytes for `instruction` of a validated `program`.
size_t instructionStagingBytes(const dsp::program::Program &program,
                               const dsp::program::Instruction &instruction);

} // namespace format
} // namespace dsp

#endif // DSP_FORMAT_COLLECTIVESTAGING_H
