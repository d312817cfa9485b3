//===- Layout.h - How N ranks hold a global tensor --------------*- C++ -*-===//
//
// The vocabulary shared by the compiler's SPMD lowering and the runtime's
// collectives. A global tensor is held by N ranks either replicated, partial
// (each rank holds a summand of the full tensor) or split along one dim d:
// dim d is viewed as [outer, size, inner] row-major and rank r holds, for
// every outer and inner index, the size-positions [r*b, (r+1)*b) where the
// block b = (size + pad) / N. Positions >= size are pad. A layout is encoded
// as six ints [kind, dim, outer, size, inner, pad]; dim..pad only matter for
// a split. docs/runtime.md describes the collectives built on this.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_FORMAT_LAYOUT_H
#define DSP_FORMAT_LAYOUT_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dsp {
namespace format {

struct Layout {
  enum Kind : int64_t { Replicated = 0, Split = 1, Partial = 2 };
  Kind kind = Replicated;
  int64_t dim = 0, outer = 1, size = 1, inner = 1, pad = 0;

  /// Decodes six ints; returns "" or what is wrong with them.
  static std::string decode(const std::vector<int64_t> &values, Layout &layout);
  std::vector<int64_t> encode() const;
  /// "replicated", "partial" or "split(dim=1,outer=1,size=6,inner=4,pad=2)".
  std::string str() const;

  /// "" if dim is a dim of a tensor of `rank` dims, else the problem.
  std::string checkDim(size_t rank) const;
  /// Checks a split against the global shape it describes and the rank
  /// count; returns "" or the problem.
  std::string check(const std::vector<int64_t> &globalShape,
                    int64_t ranks) const;
  /// Size-positions per rank (split only).
  int64_t block(int64_t ranks) const { return (size + pad) / ranks; }
  /// The shape each rank holds: a split replaces dim d by outer*block*inner.
  std::vector<int64_t> localShape(const std::vector<int64_t> &globalShape,
                                  int64_t ranks) const;
  /// The inverse of localShape for a split whose outer, inner and pad are
  /// set: sets `size` from the extent of dim d in `localShape` (outer*block*
  /// inner) and returns the global shape; returns "" or why `localShape` is
  /// no block of this split (the result is then unset).
  std::string globalShape(const std::vector<int64_t> &localShape, int64_t ranks,
                          std::vector<int64_t> &global);
};

/// Block `rank` of a split of a tensor of `fullShape`, seen as `rows` rows
/// of size-positions, each position a run of `runBytes` bytes (`inner`
/// times everything after the split dim): the full tensor's rows hold
/// `size` runs, the block's `block`; the block starts at position `first`
/// and its first `valid` positions are data, the rest pad.
struct BlockGeometry {
  int64_t rows = 1, runBytes = 0, block = 0, first = 0, valid = 0;
  BlockGeometry(const std::vector<int64_t> &fullShape, size_t elementSize,
                const Layout &layout, int64_t ranks, int64_t rank);
};

/// Row-major element strides of a tensor of `shape`.
std::vector<int64_t> contiguousStrides(const std::vector<int64_t> &shape);

/// Element strides of transpose(t, perm) for a row-major tensor t of
/// `shape`: dim d of the view walks dim perm[d] of t. `perm` must be a
/// permutation of t's dims.
std::vector<int64_t> transposedStrides(const std::vector<int64_t> &shape,
                                       const std::vector<int64_t> &perm);

/// The strided copy between the valid positions of block `rank` of a split
/// and a full tensor of `fullShape` that is read or written through element
/// strides `fullStrides` (contiguousStrides(fullShape) for a plain tensor;
/// other strides view a transposed tensor). The block is row-major. Dims
/// of extent 1 are dropped and dims both sides walk contiguously merged, so
/// a contiguous tensor's copy is rows of runs; `shape` is empty when the
/// block holds no data.
struct BlockCopy {
  std::vector<int64_t> shape, fullStrides, blockStrides;
  int64_t fullOffset = 0;
};
BlockCopy blockCopy(const std::vector<int64_t> &fullShape,
                    const std::vector<int64_t> &fullStrides,
                    const Layout &layout, int64_t ranks, int64_t rank);

/// Copies block `rank` of a split out of `full`, a tensor of `fullShape`
/// whose dim `layout.dim` is whole (outer*size*inner), read through
/// `fullStrides`, into `block`, whose dim is outer*b*inner; pad positions
/// become zero.
void extractBlock(const void *full, const std::vector<int64_t> &fullShape,
                  const std::vector<int64_t> &fullStrides, size_t elementSize,
                  const Layout &layout, int64_t ranks, int64_t rank,
                  void *block);
/// The inverse: writes the non-pad positions of block `rank` into `full`
/// through `fullStrides`.
void insertBlock(const void *block, const std::vector<int64_t> &fullShape,
                 const std::vector<int64_t> &fullStrides, size_t elementSize,
                 const Layout &layout, int64_t ranks, int64_t rank, void *full);
/// Sets the pad positions of block `rank` (a tensor of the local shape of
/// `fullShape`) to zero.
void zeroBlockPad(void *block, const std::vector<int64_t> &fullShape,
                  size_t elementSize, const Layout &layout, int64_t ranks,
                  int64_t rank);
/// Byte offset of block `rank` in `full` if the block is one contiguous run
/// there without pad (nothing outside the split dim's outer part varies
/// faster than it); -1 otherwise. Lets collectives send or receive in place.
int64_t contiguousBlockOffset(const std::vector<int64_t> &fullShape,
                              size_t elementSize, const Layout &layout,
                              int64_t ranks, int64_t rank);

} // namespace format
} // namespace dsp

#endif // DSP_FORMAT_LAYOUT_H
