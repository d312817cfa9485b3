//===- Layout.h - How N ranks hold a global tensor --------------*- C++ -*-===//
//
// The vocabulary shared by the compiler's SPMD lowering and the runtime's
// collectives. A global tensor is held by N ranks either replicated, partial
// (each rank holds a summand of the full tensor) or split along one dim d:
// dim d is viewed as [outer, size, inner] row-major and rank r holds, for
// every outer and inner index, the size-positions [r*b, (r+1)*b) where the
// block b = (size + pad) / N. Positions >= size are pad. A layout is encoded
// as six ints [kind, dim, outer, size, inner, pad]; dim..pad only matter for
// a split. A MeshLayout composes splits over the axes of a rank mesh.
// docs/runtime.md describes the collectives built on this.
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

/// A compound layout over a mesh of ranks (Shardy's sub-axes): the ranks of
/// the group form a row-major mesh, rank = sum over k of coordinate k times
/// the product of the mesh sizes after k, and mesh axis k holds the tensor
/// as `axes[k]` among the ranks that differ in coordinate k alone: a split
/// of one (dim, outer, size, inner) place over mesh[k] ranks, replicated,
/// or partial. Every axis layout is in the terms of the global tensor;
/// splits on one dim must be on nested, disjoint factors. The splits
/// commute: each rank holds, of every split, the block of its coordinate.
/// Encoded as 6 ints per mesh axis, each a Layout.
struct MeshLayout {
  std::vector<int64_t> mesh;
  std::vector<Layout> axes;

  /// Decodes 6 ints per axis of `mesh`; returns "" or what is wrong.
  static std::string decode(const std::vector<int64_t> &mesh,
                            const std::vector<int64_t> &values,
                            MeshLayout &layout);
  std::vector<int64_t> encode() const;
  /// "mesh[2,2](split(...),replicated)"; a mesh of one axis prints as its
  /// layout.
  std::string str() const;
  int64_t ranks() const;
  /// The coordinate of `rank` on mesh axis `axis`.
  int64_t coordinate(int64_t rank, size_t axis) const;
  /// The ranks that differ from `rank` in the coordinate of `axis` alone,
  /// ordered by that coordinate: the sub-group a collective on that axis
  /// runs among.
  std::vector<int> subGroup(int64_t rank, size_t axis) const;

  /// Checks every axis against the global shape and its mesh size, and
  /// that splits of one dim nest; returns "" or the problem.
  std::string check(const std::vector<int64_t> &globalShape) const;
  /// The shape each rank holds.
  std::vector<int64_t>
  localShape(const std::vector<int64_t> &globalShape) const;
  /// The inverse of localShape: sets the size of whole-dim splits from
  /// `localShape` and returns the global shape; returns "" or why
  /// `localShape` is no block of this layout.
  std::string globalShape(const std::vector<int64_t> &localShape,
                          std::vector<int64_t> &global);
  /// What the ranks of one sub-group of `axis` see: the value the other
  /// axes leave each of them (its shape in `shape`), held as the returned
  /// layout over mesh[axis] ranks. A collective on that axis converts
  /// between two such layouts of one shape.
  Layout within(size_t axis, const std::vector<int64_t> &globalShape,
                std::vector<int64_t> &shape) const;
  /// The layouts of `order`'s axes, in that order, each in the terms of the
  /// value the axes before it leave.
  std::vector<Layout> stepwise(const std::vector<size_t> &order) const;
};

/// Block `rank` of a compound layout: every split of `layout` applied to
/// `full` in turn (pad positions zero), written to `block`.
void extractMeshBlock(const void *full, const std::vector<int64_t> &fullShape,
                      size_t elementSize, const MeshLayout &layout,
                      int64_t rank, void *block);

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
