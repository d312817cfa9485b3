//===- BufferPlan.h - Arena offsets for a program's tensors -----*- C++ -*-===//
//
// A program keeps its inputs, intermediates and outputs in one arena. Two
// tensors may share bytes when their lifetimes (the instructions from the
// one that defines a tensor to the last that reads it) do not overlap.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_TARGET_BUFFERPLAN_H
#define DSP_TARGET_BUFFERPLAN_H

#include "dsp/Format/ProgramFile.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace mlir::dsp {

/// One tensor to place: its size and the first and last instruction that
/// touch it (-1 as `first`: live before the first instruction, an input).
struct BufferLifetime {
  uint64_t bytes = 0;
  int64_t first = -1, last = -1;
};

struct BufferPlan {
  /// One offset per lifetime, each a multiple of the alignment.
  std::vector<uint64_t> offsets;
  uint64_t arenaBytes = 0;
};

/// First fit, largest first: each tensor, in order of decreasing size
/// (ties in order), takes the lowest aligned offset that overlaps no tensor
/// placed before it whose lifetime overlaps its own. Nullopt if the arena
/// would exceed 2^56 bytes.
std::optional<BufferPlan>
planBuffers(const std::vector<BufferLifetime> &lifetimes, uint64_t alignment);

/// Places the tensors of `program` (its instructions complete) in one
/// arena: planBuffers over their lifetimes (dsp::format::tensorLifetimes),
/// weights left out, a reshape's output in its input's bytes (a view).
/// Sets each tensor's offset and the arena's size; false if the arena would
/// exceed 2^56 bytes.
bool planProgramBuffers(::dsp::program::Program &program, uint64_t alignment);

} // namespace mlir::dsp

#endif // DSP_TARGET_BUFFERPLAN_H
