//===- Collectives.h - Collectives for every backend ------------*- C++ -*-===//
//
// The collective kernels are written once over Communicator::exchange and a
// backend's memory operations (CollectiveMemory), so the cpu and cuda
// backends run the same algorithm and hand the transport the same bytes.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_COLLECTIVES_H
#define DSP_RUNTIME_COLLECTIVES_H

#include "dsp/Format/Layout.h"
#include "dsp/Format/OpRegistry.h"
#include "dsp/Runtime/Backend.h"

#include <memory>

namespace dsp {
namespace runtime {

class Communicator;

/// The memory operations of the collectives on one backend's memory, in
/// order with its kernels. See Layout.h for the block operations; the full
/// tensor is read or written through `fullStrides`, which view a transposed
/// tensor when a collective folds a transpose.
class CollectiveMemory {
public:
  using Shape = std::vector<int64_t>;
  virtual ~CollectiveMemory() = default;
  virtual Status extractBlock(const void *full, const Shape &fullShape,
                              const Shape &fullStrides, size_t elementSize,
                              const format::Layout &layout, int64_t ranks,
                              int64_t rank, void *block) = 0;
  virtual Status insertBlock(const void *block, const Shape &fullShape,
                             const Shape &fullStrides, size_t elementSize,
                             const format::Layout &layout, int64_t ranks,
                             int64_t rank, void *full) = 0;
  virtual Status zeroBlockPad(void *block, const Shape &fullShape,
                              size_t elementSize, const format::Layout &layout,
                              int64_t ranks, int64_t rank) = 0;
  virtual Status copy(void *target, const void *source, size_t bytes) = 0;
  virtual Status zero(void *target, size_t bytes) = 0;
  /// Whether reduceBlocks takes `dtype`.
  virtual bool reduces(dsp::program::DType dtype) const = 0;
  /// Reduces `n` blocks of `count` elements of `dtype`, `stride` bytes
  /// apart, into `out` (none of them): element-wise, starting with block
  /// `first` and folding in the blocks after it, cyclically, as acc + next
  /// or max(next, acc) (the order decides which NaN or which of +-0 wins).
  /// f16 and bf16 are folded in f32 and rounded once; integer sums wrap
  /// around.
  virtual Status reduceBlocks(dsp::program::DType dtype, void *out,
                              const void *blocks, size_t stride, int n,
                              int first, size_t count, bool max) = 0;
};

/// The ranks an instruction of a validated program runs among: every rank,
/// or with an `axis` attribute the sub-group of that mesh axis, ordered by
/// their coordinate on it; `position` is this rank's place among them.
struct InstructionGroup {
  std::vector<int> members;
  int position;
};
InstructionGroup instructionGroup(const dsp::program::Program &program,
                                  const dsp::program::Instruction &instruction,
                                  const Communicator &communicator);

/// Host memory, for the cpu backend.
std::shared_ptr<CollectiveMemory> hostCollectiveMemory();

/// The kernel of collective `instruction` (all_to_all, all_gather,
/// reduce_scatter, all_reduce, local_slice, zero_pad) of a validated
/// program, for this rank of `communicator`; null for a reducing
/// collective whose dtype `memory` does not reduce.
std::unique_ptr<Kernel>
createCollectiveKernel(const dsp::program::Program &program,
                       const dsp::program::Instruction &instruction,
                       format::Op op, Communicator &communicator,
                       std::shared_ptr<CollectiveMemory> memory);

} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_COLLECTIVES_H
