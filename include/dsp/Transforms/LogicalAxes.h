//===- LogicalAxes.h - What the dims of a planned function hold -*- C++ -*-===//
//
// The plan report names the dims of values after the axes of a video
// transformer: B (batch), T (frames), S (the tokens of a frame, or of the
// whole sequence where attention mixes one sequence only), H (attention
// heads), C (channels: the other dims a weight has) and L (the tokens a
// cross attention reads, not a query sequence: text). A dim that holds
// several of them in row-major order is named by their product ("T×S"); one
// that holds a part of one, as a reshape parts S into the rows and columns
// of a frame, by the axis and the part's position, major first ("S₁",
// "S₂").
//
// The places of each factor of each op's rule are linked across the values
// the op touches, as propagation links them; attention tells the heads and
// the sequences apart, the order of the sequences in the first value that
// holds both tells frames from tokens, and the leading dim of an input of
// rank 3 or more is the batch.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_TRANSFORMS_LOGICALAXES_H
#define DSP_TRANSFORMS_LOGICALAXES_H

#include "dsp/Dialect/DSP/IR/DSPAttrs.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include <string>

namespace mlir::dsp {

class LogicalAxes {
public:
  using Pieces = SmallVector<std::pair<std::string, int64_t>, 2>;

  explicit LogicalAxes(func::FuncOp function);

  /// The name of each dim of `value`: its axis, "1" for an unnamed dim of
  /// size 1, "?" where the axis is unknown.
  SmallVector<std::string> dimNames(Value value) const;
  /// What `sharding` splits of `value`: "T", "T×S" for a split of each of
  /// several axes (a compound sharding over a mesh, or a dim holding
  /// several), "dim 2" where the axis is unknown; "replicated" or "partial
  /// sums" where nothing is split.
  std::string splitName(Value value, ShardingAttr sharding) const;
  /// "[B,T,S,C] = [1,16,1024,1152]", or the shape alone where no dim is
  /// named.
  std::string shapeText(Value value) const;
  /// `sharding` of `value`, for a reader: "T of [B,T,S,C] = [..]",
  /// "replicated [B,T,S,C] = [..]".
  std::string describe(Value value, ShardingAttr sharding) const;

private:
  /// A piece of one dim of one value: the factor of `size` with `outer`
  /// elements of the dim's row-major factors before it.
  struct Place {
    int64_t outer, size;
    unsigned id;
  };
  using Key = std::tuple<Value, int64_t, int64_t, int64_t>;

  unsigned idOf(Value value, int64_t dim, int64_t outer, int64_t size);
  void name(unsigned id, StringRef axis);
  /// Names the unnamed parts of a named axis after it (S₁, S₂).
  void nameParts();
  /// The axes a piece holds, major first, by name and size: one, or the
  /// named pieces that tile it ([T, S]); none when unknown.
  Pieces piecesOf(Value value, int64_t dim, int64_t outer, int64_t size) const;
  /// The named pieces of `value`'s dim that tile the piece, if they do.
  Pieces tiled(Value value, int64_t dim, int64_t outer, int64_t size) const;
  std::string classNameOf(unsigned id) const;
  /// The name of a split (no compound) over `parts` ranks.
  std::string splitName(Value value, ShardingAttr sharding,
                        int64_t parts) const;

  int64_t ranks = 1;
  SmallVector<int64_t> mesh;

  DenseMap<Key, unsigned> ids;
  DenseMap<std::pair<Value, int64_t>, SmallVector<Place>> places;
  llvm::EquivalenceClasses<unsigned> classes;
  /// Axis names by class leader.
  DenseMap<unsigned, std::string> names;
  /// The places of each class, by class leader.
  DenseMap<unsigned, SmallVector<Key, 2>> members;
  /// The names of classes that hold several axes, by class leader.
  DenseMap<unsigned, Pieces> compounds;
};

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_LOGICALAXES_H
