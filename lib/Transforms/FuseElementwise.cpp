//===- FuseElementwise.cpp - Group element-wise chains into dsp.fused -----===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

#include <limits>

namespace mlir::dsp {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "dsp/Transforms/Passes.h.inc"

namespace {
struct FuseElementwise : impl::FuseElementwiseBase<FuseElementwise> {
  void runOnOperation() override;
};

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

bool broadcastsTo(ArrayRef<int64_t> shape, ArrayRef<int64_t> space) {
  FailureOr<SmallVector<int64_t>> result = broadcastShapes(shape, space);
  return succeeded(result) && ArrayRef<int64_t>(*result) == space;
}

/// A splat constant, which the body recomputes instead of reading.
bool isSplatConstant(Value value) {
  auto constant = value.getDefiningOp<ConstantOp>();
  auto dense = constant ? dyn_cast<DenseElementsAttr>(constant.getValue())
                        : DenseElementsAttr();
  return dense && dense.isSplat();
}

/// Whether `op` can be the row op of a group: one row of its reduced dim
/// per block of threads, and the rows fit in a launch's grid.
bool isFusableRowOp(Operation *op) {
  return isRowOp(op) &&
         llvm::product_of(shapeOf(op->getResult(0)).drop_back()) <=
             std::numeric_limits<int32_t>::max();
}

/// One group: its ops, and the iteration space (the shape of its last op).
class Group {
public:
  explicit Group(Operation *root)
      : root(root), space(shapeOf(root->getResult(0))),
        hasRowOp(isRowOp(root)) {
    members.insert(root);
  }

  /// Pulls in, transitively, the element-wise producers of the members'
  /// operands, and at most one row op, that can join (see the pass
  /// description).
  void grow(const DenseSet<Operation *> &taken) {
    SmallVector<Operation *> worklist = {root};
    while (!worklist.empty()) {
      Operation *member = worklist.pop_back_val();
      for (Value operand : member->getOperands()) {
        Operation *producer = operand.getDefiningOp();
        if (!producer || members.contains(producer) ||
            taken.contains(producer) ||
            producer->getBlock() != root->getBlock())
          continue;
        bool rowOp = !hasRowOp && isFusableRowOp(producer) &&
                     shapeOf(producer->getResult(0)) == space;
        if (!(rowOp || producer->hasTrait<OpTrait::dsp::Elementwise>()) ||
            !canJoin(producer))
          continue;
        hasRowOp |= rowOp;
        members.insert(producer);
        worklist.push_back(producer);
      }
    }
  }

  /// Replaces the members by one dsp.fused op at the root's position.
  void rewrite() {
    SmallVector<Operation *> ordered(members.begin(), members.end());
    llvm::sort(ordered, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    SetVector<Value> inputs;
    SmallVector<Value> outputs;
    SetVector<Operation *> splats;
    for (Operation *op : ordered) {
      for (Value operand : op->getOperands()) {
        if (members.contains(operand.getDefiningOp()))
          continue;
        if (isSplatConstant(operand))
          splats.insert(operand.getDefiningOp());
        else
          inputs.insert(operand);
      }
      Value result = op->getResult(0);
      if (op == root || llvm::any_of(result.getUsers(), [&](Operation *user) {
            return !members.contains(user);
          }))
        outputs.push_back(result);
    }

    OpBuilder builder(root);
    auto fused =
        FusedOp::create(builder, root->getLoc(), ValueRange(outputs).getTypes(),
                        inputs.getArrayRef());
    SmallVector<ShardingAttr> shardings;
    for (Value output : outputs)
      if (ShardingAttr sharding = getSharding(output))
        shardings.push_back(sharding);
    if (shardings.size() == outputs.size())
      setShardings(fused, shardings);

    Block *body = builder.createBlock(&fused.getBody());
    IRMapping mapping;
    for (Value input : inputs)
      mapping.map(input, body->addArgument(input.getType(), input.getLoc()));
    for (Operation *op : ordered) {
      for (Value operand : op->getOperands())
        if (!mapping.contains(operand))
          builder.clone(*operand.getDefiningOp(), mapping);
      Operation *copy = builder.clone(*op, mapping);
      copy->removeAttr(DSPDialect::kShardingAttrName);
    }
    body->walk([](ConstantOp constant) {
      constant->removeAttr(DSPDialect::kShardingAttrName);
    });
    YieldOp::create(builder, root->getLoc(),
                    llvm::map_to_vector(outputs, [&](Value output) {
                      return mapping.lookup(output);
                    }));

    for (auto [output, result] : llvm::zip(outputs, fused.getResults()))
      output.replaceUsesWithIf(result, [&](OpOperand &use) {
        return !members.contains(use.getOwner());
      });
    for (Operation *op : llvm::reverse(ordered))
      op->erase();
    for (Operation *splat : splats)
      if (splat->use_empty())
        splat->erase();
  }

  SetVector<Operation *> members;

private:
  /// Whether `producer` may join: its result broadcasts to the space, and
  /// every read of it outside the group comes after the root and reads a
  /// value of the space's shape (it becomes a result of the group).
  bool canJoin(Operation *producer) const {
    Value result = producer->getResult(0);
    if (!broadcastsTo(shapeOf(result), space))
      return false;
    for (Operation *user : result.getUsers()) {
      if (members.contains(user))
        continue;
      if (shapeOf(result) != space || user->getBlock() != root->getBlock() ||
          !root->isBeforeInBlock(user))
        return false;
    }
    return true;
  }

  Operation *root;
  ArrayRef<int64_t> space;
  bool hasRowOp;
};
} // namespace

void FuseElementwise::runOnOperation() {
  func::FuncOp function = getOperation();
  if (function.isExternal())
    return;
  DenseSet<Operation *> taken;
  SmallVector<Group> groups;
  for (Block &block : function.getBody())
    for (Operation &op : llvm::reverse(block)) {
      // An op with nothing to compute stays alone: no kernel has an empty
      // grid.
      if (!(op.hasTrait<OpTrait::dsp::Elementwise>() || isFusableRowOp(&op)) ||
          taken.contains(&op) ||
          cast<RankedTensorType>(op.getResult(0).getType()).getNumElements() ==
              0)
        continue;
      Group group(&op);
      group.grow(taken);
      taken.insert(group.members.begin(), group.members.end());
      groups.push_back(std::move(group));
    }
  for (Group &group : groups)
    group.rewrite();
}

} // namespace mlir::dsp
