//===- FuseMatmulEpilogue.cpp - Fold bias, activation, residual -----------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Format/OpRegistry.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::dsp {
#define GEN_PASS_DEF_FUSEMATMULEPILOGUE
#include "dsp/Transforms/Passes.h.inc"

namespace {
using ::dsp::format::Activation;

/// The op that is the single use of `value`, or null.
Operation *soleUser(Value value) {
  return value.hasOneUse() ? *value.getUsers().begin() : nullptr;
}

/// The single use of `value` if it is an add whose result has `value`'s
/// type (the other operand broadcasts into it), or null.
AddOp soleAdd(Value value) {
  auto add = dyn_cast_or_null<AddOp>(soleUser(value));
  return add && add.getType() == value.getType() ? add : AddOp();
}

Value otherOperand(AddOp add, Value value) {
  return add.getLhs() == value ? add.getRhs() : add.getLhs();
}

/// Whether `bias` broadcasts along the last dim of `product` only: its
/// shape is [N] or [1, ..., N].
bool isRowBias(Value bias, RankedTensorType product) {
  ArrayRef<int64_t> shape = cast<RankedTensorType>(bias.getType()).getShape();
  return !shape.empty() && shape.size() <= product.getShape().size() &&
         shape.back() == product.getShape().back() &&
         llvm::all_of(shape.drop_back(), [](int64_t d) { return d == 1; });
}

std::optional<Activation> activationOf(Operation *op) {
  if (auto gelu = dyn_cast_or_null<GeluOp>(op))
    return gelu.getApproximate() == "tanh" ? Activation::GeluTanh
                                           : Activation::Gelu;
  if (isa_and_nonnull<SiluOp>(op))
    return Activation::Silu;
  return std::nullopt;
}

/// Replaces `matmul` and the epilogue that follows it by one dsp.linear.
void fuse(MatMulOp matmul) {
  Value current = matmul.getOutput();
  auto type = cast<RankedTensorType>(current.getType());
  AddOp biasAdd = soleAdd(current);
  if (!biasAdd || !isRowBias(otherOperand(biasAdd, current), type))
    return;
  Value bias = otherOperand(biasAdd, current);
  SmallVector<Operation *> chain = {matmul, biasAdd};
  current = biasAdd.getOutput();
  Activation activation = Activation::None;
  if (std::optional<Activation> found = activationOf(soleUser(current))) {
    activation = *found;
    chain.push_back(soleUser(current));
    current = chain.back()->getResult(0);
  }
  // The residual add may see the product through a reshape (an exporter's
  // merge of batch dims): the residual is then read in the product's shape
  // and the sum reshaped back, both views of the same elements.
  Value residual;
  auto view = dyn_cast_or_null<ReshapeOp>(soleUser(current));
  Value viewed = view ? view.getOutput() : current;
  if (AddOp residualAdd = soleAdd(viewed);
      residualAdd &&
      otherOperand(residualAdd, viewed).getType() == viewed.getType()) {
    residual = otherOperand(residualAdd, viewed);
    if (view)
      chain.push_back(view);
    chain.push_back(residualAdd);
    current = residualAdd.getOutput();
  } else {
    view = ReshapeOp();
  }

  // Every operand dominates the last op of the chain, where the linear op
  // takes its place.
  Operation *last = chain.back();
  OpBuilder builder(last);
  Value addedBias = bias;
  if (cast<RankedTensorType>(bias.getType()).getRank() != 1)
    bias = builder.createOrFold<ReshapeOp>(
        bias.getLoc(),
        RankedTensorType::get({type.getShape().back()}, type.getElementType()),
        bias);
  // The ops in the product's shape take the sharding of the bias add; the
  // sum reshaped back that of the residual add it replaces.
  auto shardLike = [](Operation *op, Operation *like) {
    if (Attribute sharding = like->getAttr(DSPDialect::kShardingAttrName))
      op->setAttr(DSPDialect::kShardingAttrName, sharding);
  };
  if (view) {
    residual = ReshapeOp::create(builder, view.getLoc(), type, residual);
    shardLike(residual.getDefiningOp(), biasAdd);
  }
  SmallVector<Location> locations;
  for (Operation *op : chain)
    locations.push_back(op->getLoc());
  auto linear =
      LinearOp::create(builder, builder.getFusedLoc(locations), type,
                       matmul.getLhs(), matmul.getRhs(), bias, residual,
                       ::dsp::format::activationName(activation));
  shardLike(linear, biasAdd);
  Value result = linear.getOutput();
  if (view) {
    result =
        ReshapeOp::create(builder, view.getLoc(), current.getType(), result);
    shardLike(result.getDefiningOp(), last);
  }
  current.replaceAllUsesWith(result);
  for (Operation *op : llvm::reverse(chain))
    op->erase();
  // A constant bias reshaped by folding leaves its first form unread.
  if (Operation *def = addedBias.getDefiningOp(); def && isOpTriviallyDead(def))
    def->erase();
}

struct FuseMatmulEpilogue : impl::FuseMatmulEpilogueBase<FuseMatmulEpilogue> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (getGroup(function) && !isPerRank(function))
      return;
    SmallVector<MatMulOp> matmuls;
    function.walk([&](MatMulOp matmul) { matmuls.push_back(matmul); });
    for (MatMulOp matmul : matmuls)
      fuse(matmul);
  }
};
} // namespace
} // namespace mlir::dsp
