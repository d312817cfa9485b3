//===- FoldCollectiveTransposes.cpp - Transposes into all_to_all ----------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::dsp {
#define GEN_PASS_DEF_FOLDCOLLECTIVETRANSPOSES
#include "dsp/Transforms/Passes.h.inc"

namespace {
struct FoldCollectiveTransposes
    : impl::FoldCollectiveTransposesBase<FoldCollectiveTransposes> {
  void runOnOperation() override;
};

/// The all_to_all reads the transpose's input through its permutation.
void foldInputTranspose(AllToAllOp op) {
  auto transpose = op.getInput().getDefiningOp<TransposeOp>();
  if (op.getInputPerm() || !transpose || !transpose->hasOneUse())
    return;
  op.getInputMutable().assign(transpose.getInput());
  op.setInputPerm(transpose.getPerm());
  transpose.erase();
}

/// The all_to_all writes its result through the transpose that is its only
/// use, and takes over the transpose's type and sharding.
void foldOutputTranspose(AllToAllOp op) {
  if (op.getOutputPerm() || !op->hasOneUse())
    return;
  auto transpose = dyn_cast<TransposeOp>(*op->getUsers().begin());
  if (!transpose)
    return;
  op.getOutput().setType(transpose.getType());
  op.setOutputPerm(transpose.getPerm());
  if (ShardingAttr sharding = getResultSharding(transpose, 0))
    setShardings(op, {sharding});
  transpose.replaceAllUsesWith(op.getOutput());
  transpose.erase();
}
} // namespace

void FoldCollectiveTransposes::runOnOperation() {
  if (!isPerRank(getOperation()))
    return;
  // Folding erases the ops around each all_to_all, which a walk may be at.
  SmallVector<AllToAllOp> switches;
  getOperation().walk([&](AllToAllOp op) { switches.push_back(op); });
  for (AllToAllOp op : switches) {
    foldInputTranspose(op);
    foldOutputTranspose(op);
  }
}
} // namespace mlir::dsp
