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

  DenseMap<std::pair<Value, Attribute>, Value> converted;
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
  return convert(convert(value, via, loc), target, loc);
}

/// The op that turns `value` from `source` into `target`: the collective
/// the plan's cost counted, or a local slice where no data moves.
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
  OpBuilder builder(value.getContext());
  builder.setInsertionPointAfterValue(value);
  Operation *op = createReshard(builder, loc, value, source, target);
  // Set the result sharding before the verifier sees a same-dim switch.
  setShardings(op, {target});
  converted[key] = op->getResult(0);
  return op->getResult(0);
}

void InsertReshards::runOnOperation() {
  ModuleOp module = getOperation();
  if (isPerRank(module)) {
    module.emitError("reshards are inserted into global IR, and this module "
                     "is per-rank IR (--dsp-localize ran)");
    return signalPassFailure();
  }
  MLIRContext *context = &getContext();
  auto replicated = ShardingAttr::getReplicated(context);
  WalkResult result = module.walk([&](Operation *op) {
    if (isa<func::ReturnOp>(op)) {
      for (OpOperand &operand : op->getOpOperands())
        operand.set(convert(operand.get(), replicated, op->getLoc()));
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
    for (OpOperand &operand : op->getOpOperands())
      operand.set(read(operand.get(),
                       cast<ShardingAttr>(needs[operand.getOperandNumber()]),
                       op->getLoc()));
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
