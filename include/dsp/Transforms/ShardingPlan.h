//===- ShardingPlan.h - Reshards and their bytes ----------------*- C++ -*-===//

#ifndef DSP_TRANSFORMS_SHARDINGPLAN_H
#define DSP_TRANSFORMS_SHARDINGPLAN_H

#include "dsp/Dialect/DSP/IR/DSPAttrs.h"
#include "dsp/Transforms/CostModel.h"
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

/// Bytes each rank sends in one step of a ring attention: its blocks of the
/// keys and values (of types `key` and `value`, split as `blocks`). A ring
/// takes ranks - 1 steps.
uint64_t ringStepBytes(RankedTensorType key, RankedTensorType value,
                       ShardingAttr blocks, int64_t ranks);

/// The cost model as a module attribute, and back.
DictionaryAttr costModelAttr(MLIRContext *context, const CostModel &model);
CostModel costModelOf(ModuleOp module);

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_SHARDINGPLAN_H
