//===- FusedBody.h - The body of element-wise kernels -----------*- C++ -*-===//
//
// A `fused` instruction carries its ops as a body (Program.proto's
// FusedBody). The CPU backend runs every element-wise instruction as such a
// body, one of a single step when it stands alone, so that one interpreter
// and one workspace rule serve both; this states that body and the rule.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_FORMAT_FUSEDBODY_H
#define DSP_FORMAT_FUSEDBODY_H

#include "dsp/Format/Program.pb.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dsp {
namespace format {

/// The body an element-wise or fused instruction of a validated program
/// runs: a fused instruction's own, else one step, the instruction itself,
/// reading values 0..n-1 (its inputs) and writing value n (its output).
dsp::program::FusedBody elementwiseBody(const dsp::program::Program &program,
                                        const dsp::program::Instruction &);

/// The index of the body's row op (layer_norm or softmax), or -1.
int rowStep(const dsp::program::FusedBody &body);

/// Bytes of one element of `dtype` as the CPU computes it: 16-bit floats
/// in f32.
size_t computeElementBytes(dsp::program::DType dtype);

/// The most elements of the iteration space one CPU worker evaluates at a
/// time, unless a row op's row is longer.
constexpr int64_t kElementwiseChunk = 1024;

/// How the CPU runs a body over `spaceElements` elements whose last dim is
/// `rowLength`: chunks of at most `chunk` elements (whole rows with a row
/// op, at least one), each worker holding a tile of `chunk` elements per
/// input and step value in its workspace.
struct ElementwiseTiling {
  ElementwiseTiling(const dsp::program::FusedBody &body, int numInputs,
                    int64_t spaceElements, int64_t rowLength);
  /// The workspace of `workers` workers (SIZE_MAX if it overflows).
  size_t workspaceBytes(unsigned workers) const;

  int64_t chunk;
  /// Where each value's tile starts in a worker's part of the workspace,
  /// 64-byte aligned; constants have none (SIZE_MAX).
  std::vector<size_t> tileOffsets;
  /// The bytes of one worker's tiles.
  size_t workerBytes = 0;
};

} // namespace format
} // namespace dsp

#endif // DSP_FORMAT_FUSEDBODY_H
