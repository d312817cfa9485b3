//===- MaterializeResults.cpp - A value of its own per function result ----===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::dsp {
#define GEN_PASS_DEF_MATERIALIZERESULTS
#include "dsp/Transforms/Passes.h.inc"

namespace {
struct MaterializeResults : impl::MaterializeResultsBase<MaterializeResults> {
  void runOnOperation() override;
};
} // namespace

void MaterializeResults::runOnOperation() {
  bool sharded = getGroup(getOperation()) != nullptr;
  for (auto function : getOperation().getOps<func::FuncOp>()) {
    if (function.isExternal())
      continue;
    Operation *ret = function.getBody().back().getTerminator();
    DenseSet<Value> returned;
    OpBuilder builder(ret);
    for (OpOperand &operand : ret->getOpOperands()) {
      Value value = operand.get();
      Operation *producer = value.getDefiningOp();
      bool ownBuffer = producer && !isa<ConstantOp, WeightOp>(producer);
      if (returned.insert(value).second && ownBuffer)
        continue;
      auto copy =
          ReshapeOp::create(builder, ret->getLoc(), value.getType(), value);
      if (sharded) {
        ShardingAttr sharding = getSharding(value);
        setShardings(
            copy, {sharding ? sharding
                            : ShardingAttr::getReplicated(value.getContext())});
      }
      operand.set(copy);
    }
  }
}

} // namespace mlir::dsp
