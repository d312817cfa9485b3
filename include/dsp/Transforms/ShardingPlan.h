//===- ShardingPlan.h - Reshards and their bytes ----------------*- C++ -*-===//

#ifndef DSP_TRANSFORMS_SHARDINGPLAN_H
#define DSP_TRANSFORMS_SHARDINGPLAN_H

#include "dsp/Dialect/DSP/IR/DSPAttrs.h"
#include "dsp/Transforms/CostModel.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::dsp {

/// The collective that turns sharding `from` into `to`, or none when no data
/// moves (equal shardings, or replicated to split: a local slice). The one
/// choice that the cost of a plan and reshard insertion both follow.
std::optional<CollectiveKind> collectiveFor(ShardingAttr from, ShardingAttr to);

/// Bytes of a value of `type` as a collective between `from` and `to` moves
/// it: the global size with the pads of the split sides.
uint64_t reshardBytes(RankedTensorType type, ShardingAttr from,
                      ShardingAttr to);

/// Bytes a collective from `from` to `to` hands to the transport, as the
/// runtime moves them: reshardBytes, except that an all_reduce runs as a
/// ring over the buffer padded to a multiple of `ranks` elements.
uint64_t collectiveBytes(RankedTensorType type, ShardingAttr from,
                         ShardingAttr to, int64_t ranks);

/// A collective as the runtime runs it: its kind and the bytes it hands to
/// the transport.
struct Reshard {
  CollectiveKind kind;
  uint64_t bytes;
};
/// The collective (collectiveFor) that turns `from` into `to` on a value of
/// `type` over `ranks` ranks, and its bytes (collectiveBytes).
std::optional<Reshard> reshardFor(RankedTensorType type, ShardingAttr from,
                                  ShardingAttr to, int64_t ranks);

/// `axes` (one sharding per axis of `mesh`, of a value of `shape`) with
/// each even split of a whole dim renamed as the outer part of that dim it
/// is, where another axis splits an inner part: the blocks stay the same,
/// and the two splits then nest as a compound sharding needs. A dim that
/// merges [T, S] split evenly over T's ranks is T's part, so that S's part
/// can be split on the other axis.
SmallVector<ShardingAttr> nestEvenSplits(ArrayRef<ShardingAttr> axes,
                                         ArrayRef<int64_t> shape,
                                         ArrayRef<int64_t> mesh);

/// One collective of a reshard on a mesh: among the sub-groups of mesh axis
/// `axis`, it turns the value into `result`.
struct MeshStep {
  int64_t axis;
  ShardingAttr result;
};
/// The collectives that turn `from` into `to` (compound, replicated or
/// partial shardings) on a value of global `type` over a mesh of `mesh`
/// sizes: one per axis whose part differs, in axis order, except that a
/// step whose result would split one place twice first gathers its axis
/// and takes the new part after the others. Fails where an axis would turn
/// partial. The one order that plan costs and reshard insertion follow.
FailureOr<SmallVector<MeshStep>> meshReshardSteps(RankedTensorType type,
                                                  ShardingAttr from,
                                                  ShardingAttr to,
                                                  ArrayRef<int64_t> mesh);

/// A collective on mesh axis `axis` (shardings `from` and `to` of a value
/// of global `type` that differ on that axis alone) as each of the axis's
/// sub-groups runs it: on the value the other axes leave each rank (`type`),
/// between what the axis holds of it (`from`, `to`), over the axis's
/// `ranks`.
struct AxisView {
  RankedTensorType type;
  ShardingAttr from, to;
  int64_t ranks;
};
AxisView viewOnAxis(RankedTensorType type, ShardingAttr from, ShardingAttr to,
                    ArrayRef<int64_t> mesh, int64_t axis);

/// Bytes each rank sends in one step of a ring attention: its blocks of the
/// keys and values (of types `key` and `value`, split as `blocks` over a
/// group of mesh sizes `mesh`). A ring of R ranks takes R - 1 steps.
uint64_t ringStepBytes(RankedTensorType key, RankedTensorType value,
                       ShardingAttr blocks, ArrayRef<int64_t> mesh);

/// A function result pinned to the sharding of the argument whose name
/// `input` is (`dsp.kept_sharded`), and the result's own name (empty if it
/// has none).
struct KeptOutput {
  unsigned result;
  StringRef output;
  StringRef input;
};
SmallVector<KeptOutput> keptOutputs(func::FuncOp function);

/// The cost model as a module attribute, and back.
DictionaryAttr costModelAttr(MLIRContext *context, const CostModel &model);
CostModel costModelOf(ModuleOp module);

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_SHARDINGPLAN_H
