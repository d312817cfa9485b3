//===- DSPOps.h - dsp operations --------------------------------*- C++ -*-===//

#ifndef DSP_DIALECT_DSP_IR_DSPOPS_H
#define DSP_DIALECT_DSP_IR_DSPOPS_H

#include "dsp/Dialect/DSP/IR/DSPAttrs.h"
#include "dsp/Dialect/DSP/IR/DSPDialect.h"
#include "dsp/Dialect/DSP/IR/DSPTraits.h"
#include "dsp/Dialect/DSP/IR/ShardingRule.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dsp/Dialect/DSP/IR/DSPInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dsp/Dialect/DSP/IR/DSPOps.h.inc"

namespace mlir::dsp {
/// Returns the numpy broadcast of two shapes, or failure if they are
/// incompatible.
FailureOr<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> lhs,
                                                ArrayRef<int64_t> rhs);
/// Returns the `#dsp.shard` of result `index` of `op`, or null if `op` carries
/// no sharding.
ShardingAttr getResultSharding(Operation *op, unsigned index);
/// Returns the sharding of `value`, or null if its definition carries none.
ShardingAttr getSharding(Value value);
/// Returns the sharding of `value`, or replicated if its definition carries
/// none (a constant is whole on every rank).
ShardingAttr getShardingOrReplicated(Value value);
/// `sharding` of a value seen through a transpose in which dim d of the
/// view is dim `dimOf(d)` of the value (`rank` dims).
ShardingAttr transposedSharding(ShardingAttr sharding, int64_t rank,
                                function_ref<int64_t(int64_t)> dimOf);
/// Sets the `dsp.sharding` attribute of `op`, one entry per result.
void setShardings(Operation *op, ArrayRef<ShardingAttr> shardings);
/// The value of `value` if it is a constant float splat.
std::optional<double> getSplatFloat(Value value);
/// Returns the `#dsp.group` of the module that holds `op`, or null.
GroupAttr getGroup(Operation *op);
/// Returns the `#dsp.target` of the module that holds `op`, or null (cpu).
TargetAttr getTarget(Operation *op);
/// The pieces the lowering to a program splits each all_to_all of `module`
/// into: its `dsp.overlap_chunks`, else 1.
int64_t getOverlapChunks(ModuleOp module);
/// Returns the rank count of the module's `#dsp.group`, or 0 if it has none.
int64_t getGroupRanks(Operation *op);
/// Whether the module that holds `op` is per-rank IR (after --dsp-localize).
bool isPerRank(Operation *op);
/// Whether `op` is a layer_norm or softmax over its last dim alone: a row
/// op, which a dsp.fused body may hold one of.
bool isRowOp(Operation *op);
} // namespace mlir::dsp

#endif // DSP_DIALECT_DSP_IR_DSPOPS_H
