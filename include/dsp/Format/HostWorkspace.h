//===- HostWorkspace.h - CPU kernels' scratch beside the arena -*- C++ -*-===//
//
// The CPU backend's attention, ring attention, convolution and element-wise
// kernels keep tiles in a workspace, a tile per thread (FusedBody.h states
// the element-wise tiles), and its kernels that compute on floats
// (computesOnFloats) run f16 and bf16 operands on f32 copies kept there
// too: their float math is f32 only. The runtime sizes the
// workspaces with these rules and the compiler reports them with a
// program's memory, for a number of threads, so the two agree.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_FORMAT_HOSTWORKSPACE_H
#define DSP_FORMAT_HOSTWORKSPACE_H

#include "dsp/Format/KernelFamily.h"
#include "dsp/Format/ProgramFile.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dsp {
namespace format {

/// a / b rounded up, for positive a and b.
inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// The most threads one CPU session may use.
constexpr unsigned kMaxHostThreads = 1024;

/// Score rows of CPU attention are padded to a multiple of this many floats.
constexpr int64_t kAttentionScoreLanes = 16;

/// The most query rows of one CPU attention task.
constexpr int64_t kAttentionMaxQueryBlock = 64;

/// How CPU attention splits its work: tasks of up to `queryBlock` query rows
/// of one (batch, head), each streaming keys `keyBlock` at a time, with
/// score rows `scoreStride` floats apart. Query blocks shrink until there
/// are two tasks per worker, or to 16 rows.
struct AttentionTiling {
  AttentionTiling(int64_t batchHeads, int64_t queries, int64_t keys,
                  unsigned workers);
  /// Floats of one worker's tile: scores, an accumulator, and a running
  /// max and sum per row.
  size_t workerFloats(int64_t valueDepth) const;
  /// Bytes of the workspace of `workers` workers (saturated).
  size_t workspaceBytes(int64_t valueDepth, unsigned workers) const;

  int64_t keyBlock, scoreStride, queryBlock, queryBlocks;
};

/// Ring attention's workspace, in floats: two received key and value blocks
/// (the one in hand, the next) in the program's dtype; of a 16-bit program,
/// f32 copies of the queries, of the block in hand and of the result; the
/// state of every query row; each worker's scores.
struct RingAttentionScratch {
  /// For queries `q`, keys `k` and values `v` (the local blocks) of
  /// `dtype`.
  RingAttentionScratch(const std::vector<int64_t> &q,
                       const std::vector<int64_t> &k,
                       const std::vector<int64_t> &v, dsp::program::DType dtype,
                       const AttentionTiling &tiling);
  size_t bytes(unsigned workers) const;

  size_t receivedFloats, wideFloats, stateFloats, scoreFloats;
};

/// A convolution as the CPU kernel runs it: up to three spatial dims, the
/// missing leading ones of size 1, as im2col and a GEMM per (image, group,
/// block of output positions); each worker's column buffer holds one block,
/// about 4 MiB.
struct ConvGeometry {
  /// For input `x`, weight `w` and output `out` of conv `instruction`.
  ConvGeometry(const std::vector<int64_t> &x, const std::vector<int64_t> &w,
               const std::vector<int64_t> &out,
               const dsp::program::Instruction &instruction, unsigned workers);

  int64_t in[3], kernel[3], output[3], stride[3], dilation[3], pad[3];
  int64_t images, channels, filters, group, groupChannels, groupFilters;
  int64_t kernelVolume, patch, inputVolume, positions;
  /// A 1x1 conv with unit strides and no padding reads its input directly.
  bool pointwise;
  /// Whether the columns are gathered transposed, a row per output position:
  /// where the innermost stride exceeds 1 (as in patch embeddings), the
  /// kernel's innermost run is what lies contiguous in the input.
  bool transposedColumns;
  int64_t block, blocks;
  /// Every worker's column buffer; 0 when pointwise.
  size_t columnBytes;
};

/// The bytes of the f32 copy of a 16-bit operand of `count` elements: the
/// copies follow each other at 64-byte boundaries.
size_t widenedCopyBytes(size_t count);

/// The workspace bytes the CPU kernel of `instruction` (of a validated
/// `program`) needs with `threads` workers, collective staging included;
/// SIZE_MAX where the size overflows.
size_t hostKernelWorkspaceBytes(const dsp::program::Program &program,
                                const dsp::program::Instruction &instruction,
                                unsigned threads);

/// A CPU session's workspaces: one for the kernels, which run one at a
/// time, and, where the program has async collectives, one for the
/// communication lane's collectives.
struct HostWorkspace {
  uint64_t kernels = 0, lane = 0;
};
HostWorkspace hostWorkspace(const dsp::program::Program &program,
                            unsigned threads);

} // namespace format
} // namespace dsp

#endif // DSP_FORMAT_HOSTWORKSPACE_H
