//===- InsertReshards.cpp - Make producers' shardings match their uses ----===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/Passes.h"
#include "dsp/Transforms/ShardingPlan.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::dsp {
#define GEN_PASS_DEF_INSERTRESHARDS
#include "dsp/Transforms/Passes.h.inc"

namespace {
struct InsertReshards : impl::InsertReshardsBase<InsertReshards> {
  void runOnOperation() override;

private:
  /// `value` as a reader that needs `target` gets it: through the value's
  /// read sharding when the plan gives one.
  Value read(Value value, ShardingAttr target, Location loc);
  /// `value` converted to `target`, sharing conversions already made.
  Value convert(Value value, ShardingAttr target, Location loc);
  /// `value` converted to `target` where either is compound: one
  /// collective per mesh axis whose part differs.
  Value convertOnMesh(Value value, ShardingAttr target, Location loc);
  /// The op that turns `value` from `source` into `target`, whose parts
  /// differ on mesh axis `axis` alone (none: not on a mesh).
  Value reshard(Value value, ShardingAttr target, Location loc,
                std::optional<int64_t> axis);

  DenseMap<std::pair<Value, Attribute>, Value> converted;
  /// The sizes of the group's mesh axes (one: its ranks).
  SmallVector<int64_t> mesh;
};
} // namespace

/// The sharding the plan converts a value to before its readers, if any.
static ShardingAttr readShardingOf(Value value) {
  if (auto argument = dyn_cast<BlockArgument>(value)) {
    auto function =
        cast<FunctionOpInterface>(argument.getOwner()->getParentOp());
    return function.getArgAttrOfType<ShardingAttr>(
        argument.getArgNumber(), DSPDialect::kReadShardingAttrName);
  }
  return value.getDefiningOp()->getAttrOfType<ShardingAttr>(
      DSPDialect::kReadShardingAttrName);
}

Value InsertReshards::read(Value value, ShardingAttr target, Location loc) {
  ShardingAttr source = getShardingOrReplicated(value);
  ShardingAttr via = readShardingOf(value);
  if (source == target || !via || via == source || via == target)
    return convert(value, target, loc);
  Value read = convert(value, via, loc);
  return read ? convert(read, target, loc) : nullptr;
}

/// The op that turns `value` from `source` into `target` (non-compound):
/// the collective the plan's cost counted, or a local slice where no data
/// moves.
static Operation *createReshard(OpBuilder &builder, Location loc, Value value,
                                ShardingAttr source, ShardingAttr target) {
  std::optional<CollectiveKind> kind = collectiveFor(source, target);
  if (!kind)
    return LocalSliceOp::create(builder, loc, value, target.getDim());
  switch (*kind) {
  case CollectiveKind::AllReduce:
    return AllReduceOp::create(builder, loc, value, ReduceKind::Sum);
  case CollectiveKind::ReduceScatter:
    return ReduceScatterOp::create(builder, loc, value, target.getDim(),
                                   ReduceKind::Sum);
  case CollectiveKind::AllGather:
    return AllGatherOp::create(builder, loc, value, source.getDim());
  case CollectiveKind::AllToAll:
    return AllToAllOp::create(builder, loc, value, target.getDim(),
                              source.getDim());
  }
  llvm_unreachable("unknown collective kind");
}

Value InsertReshards::convert(Value value, ShardingAttr target, Location loc) {
  ShardingAttr source = getShardingOrReplicated(value);
  if (source == target)
    return value;
  auto key = std::make_pair(value, Attribute(target));
  if (Value done = converted.lookup(key))
    return done;
  Value result = source.isCompound() || target.isCompound()
                     ? convertOnMesh(value, target, loc)
                     : reshard(value, target, loc, std::nullopt);
  if (result)
    converted[key] = result;
  return result;
}

Value InsertReshards::reshard(Value value, ShardingAttr target, Location loc,
                              std::optional<int64_t> axis) {
  ShardingAttr source = getShardingOrReplicated(value);
  OpBuilder builder(value.getContext());
  builder.setInsertionPointAfterValue(value);
  Operation *op =
      axis ? createReshard(builder, loc, value, source.getAxis(*axis),
                           target.getAxis(*axis))
           : createReshard(builder, loc, value, source, target);
  if (axis)
    op->setAttr("axis", builder.getI64IntegerAttr(*axis));
  // Set the result sharding before the verifier sees a same-dim switch.
  setShardings(op, {target});
  return op->getResult(0);
}

Value InsertReshards::convertOnMesh(Value value, ShardingAttr target,
                                    Location loc) {
  ShardingAttr source = getShardingOrReplicated(value);
  MLIRContext *context = value.getContext();
  if (mesh.size() < 2) {
    emitError(loc) << "a compound sharding needs a group with a mesh";
    return nullptr;
  }
  // A split over the whole group is no part of any one axis: go through
  // the replicated value.
  if (source.isSplit() || target.isSplit()) {
    Value whole = convert(value, ShardingAttr::getReplicated(context), loc);
    return whole ? convert(whole, target, loc) : nullptr;
  }
  FailureOr<SmallVector<MeshStep>> steps = meshReshardSteps(
      cast<RankedTensorType>(value.getType()), source, target, mesh);
  if (failed(steps)) {
    emitError(loc) << "cannot turn " << source << " into " << target
                   << ": a mesh axis would become partial";
    return nullptr;
  }
  for (const MeshStep &step : *steps)
    value = reshard(value, step.result, loc, step.axis);
  return value;
}

void InsertReshards::runOnOperation() {
  ModuleOp module = getOperation();
  if (isPerRank(module)) {
    emitError(module.getLoc(),
              "reshards are inserted into global IR, and this module "
              "is per-rank IR (--dsp-localize ran)");
    return signalPassFailure();
  }
  MLIRContext *context = &getContext();
  auto replicated = ShardingAttr::getReplicated(context);
  if (GroupAttr group = getGroup(module))
    mesh = group.getMeshShape();
  WalkResult result = module.walk([&](Operation *op) {
    if (isa<func::ReturnOp>(op)) {
      auto function = op->getParentOfType<FunctionOpInterface>();
      for (OpOperand &operand : op->getOpOperands()) {
        // Gathered, unless the result keeps a sharding of its own.
        auto kept = function.getResultAttrOfType<ShardingAttr>(
            operand.getOperandNumber(), DSPDialect::kShardingAttrName);
        Value held =
            convert(operand.get(), kept ? kept : replicated, op->getLoc());
        if (!held)
          return WalkResult::interrupt();
        operand.set(held);
      }
      return WalkResult::advance();
    }
    auto needs =
        op->getAttrOfType<ArrayAttr>(DSPDialect::kOperandShardingsAttrName);
    if (!needs)
      return WalkResult::advance();
    if (needs.size() != op->getNumOperands()) {
      op->emitError("'") << DSPDialect::kOperandShardingsAttrName
                         << "' does not match the operands";
      return WalkResult::interrupt();
    }
    for (OpOperand &operand : op->getOpOperands()) {
      Value needed = read(operand.get(),
                          cast<ShardingAttr>(needs[operand.getOperandNumber()]),
                          op->getLoc());
      if (!needed)
        return WalkResult::interrupt();
      operand.set(needed);
    }
    op->removeAttr(DSPDialect::kOperandShardingsAttrName);
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return signalPassFailure();
  module.walk([](Operation *op) {
    op->removeAttr(DSPDialect::kReadShardingAttrName);
    if (auto function = dyn_cast<FunctionOpInterface>(op))
      for (unsigned i = 0; i < function.getNumArguments(); ++i)
        function.removeArgAttr(i, DSPDialect::kReadShardingAttrName);
  });
}
} // namespace mlir::dsp
