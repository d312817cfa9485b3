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
  /// `value` converted to `target`, sharing conversions already made.
  Value convert(Value value, ShardingAttr target, Location loc);

  DenseMap<std::pair<Value, Attribute>, Value> converted;
};
} // namespace

/// A value's sharding; constants, whole on every rank, are replicated.
static ShardingAttr shardingOf(Value value) {
  if (ShardingAttr sharding = getSharding(value))
    return sharding;
  return ShardingAttr::getReplicated(value.getContext());
}

Value InsertReshards::convert(Value value, ShardingAttr target, Location loc) {
  ShardingAttr source = shardingOf(value);
  if (source == target)
    return value;
  auto key = std::make_pair(value, Attribute(target));
  if (Value done = converted.lookup(key))
    return done;
  OpBuilder builder(value.getContext());
  builder.setInsertionPointAfterValue(value);
  Operation *op;
  if (source.isPartial()) {
    op = target.isReplicated()
             ? AllReduceOp::create(builder, loc, value, ReduceKind::Sum)
                   .getOperation()
             : ReduceScatterOp::create(builder, loc, value, target.getDim(),
                                       ReduceKind::Sum)
                   .getOperation();
  } else if (target.isReplicated()) {
    op = AllGatherOp::create(builder, loc, value, source.getDim());
  } else if (source.isReplicated()) {
    op = LocalSliceOp::create(builder, loc, value, target.getDim());
  } else {
    // Set the result sharding before the verifier sees a same-dim switch.
    op = AllToAllOp::create(builder, loc, value, target.getDim(),
                            source.getDim());
  }
  setShardings(op, {target});
  converted[key] = op->getResult(0);
  return op->getResult(0);
}

void InsertReshards::runOnOperation() {
  ModuleOp module = getOperation();
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
      operand.set(convert(operand.get(),
                          cast<ShardingAttr>(needs[operand.getOperandNumber()]),
                          op->getLoc()));
    op->removeAttr(DSPDialect::kOperandShardingsAttrName);
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    signalPassFailure();
}
} // namespace mlir::dsp
