//===- SinkBroadcasts.cpp - Move dsp.expand toward its uses ---------------===//
//
// Exported models broadcast small tensors early: Latte repeats its timestep
// embedding for every frame and every patch, and its text tokens for every
// frame, then slices and reshapes the copies in every block. Broadcast
// there, one value ties all the blocks together and is as large as the
// activations. Moved down to where it is consumed, the broadcast costs
// nothing (elementwise ops broadcast anyway) or less (a projection runs
// once instead of once per frame), and each block reads the small source.
//
//===----------------------------------------------------------------------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Dialect/DSP/IR/ShardingRule.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::dsp {
#define GEN_PASS_DEF_SINKBROADCASTS
#include "dsp/Transforms/Passes.h.inc"

namespace {
/// An expand that keeps the rank, the only form the rewrites move.
ExpandOp sameRankExpand(Value value) {
  auto expand = value.getDefiningOp<ExpandOp>();
  if (!expand ||
      expand.getInput().getType().getRank() != expand.getType().getRank())
    return nullptr;
  return expand;
}

Value expandTo(PatternRewriter &rewriter, Location loc, Value value,
               RankedTensorType type) {
  if (value.getType() == type)
    return value;
  return ExpandOp::create(rewriter, loc, type, value);
}

/// An elementwise op broadcasts its operands itself: it reads the input of
/// an expand, and the expand moves after it when the other operands do not
/// broadcast to the whole result (`1 + expand(x)`).
template <typename Op> struct ReadExpandInput : OpRewritePattern<Op> {
  using OpRewritePattern<Op>::OpRewritePattern;

  LogicalResult matchAndRewrite(Op op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    for (OpOperand &operand : op->getOpOperands()) {
      auto expand = operand.get().template getDefiningOp<ExpandOp>();
      if (!expand)
        continue;
      SmallVector<int64_t> shape(expand.getInput().getType().getShape());
      for (OpOperand &other : op->getOpOperands()) {
        if (&other == &operand)
          continue;
        auto broadcast = broadcastShapes(
            shape, cast<RankedTensorType>(other.get().getType()).getShape());
        if (failed(broadcast))
          return failure();
        shape = *broadcast;
      }
      if (ArrayRef<int64_t>(shape) == type.getShape()) {
        rewriter.modifyOpInPlace(op, [&] { operand.set(expand.getInput()); });
        return success();
      }
      if (static_cast<int64_t>(shape.size()) != type.getRank())
        continue;
      Operation *narrow = rewriter.clone(*op);
      rewriter.modifyOpInPlace(narrow, [&] {
        narrow->setOperand(operand.getOperandNumber(), expand.getInput());
        narrow->getResult(0).setType(type.clone(shape));
      });
      rewriter.replaceOp(
          op, expandTo(rewriter, op.getLoc(), narrow->getResult(0), type));
      return success();
    }
    return failure();
  }
};

/// Moves a same-rank expand that feeds an `Op` (as operand 0) after it:
/// `narrow` builds the op on the expand's input, or returns null where that
/// is not the same, and its result is expanded to the op's type.
template <typename Op> struct MoveExpandAfter : OpRewritePattern<Op> {
  using OpRewritePattern<Op>::OpRewritePattern;

  virtual Value narrow(Op op, ExpandOp expand,
                       PatternRewriter &rewriter) const = 0;

  LogicalResult matchAndRewrite(Op op, PatternRewriter &rewriter) const final {
    ExpandOp expand = sameRankExpand(op->getOperand(0));
    if (!expand)
      return failure();
    Value source = narrow(op, expand, rewriter);
    if (!source)
      return failure();
    rewriter.replaceOp(
        op, expandTo(rewriter, op.getLoc(), source,
                     cast<RankedTensorType>(op->getResult(0).getType())));
    return success();
  }
};

/// slice(expand(x)) = expand(slice(x)): the slice cuts x's own dims and
/// keeps the broadcast ones at size 1.
struct SliceBeforeExpand : MoveExpandAfter<SliceOp> {
  using MoveExpandAfter::MoveExpandAfter;

  Value narrow(SliceOp slice, ExpandOp expand,
               PatternRewriter &rewriter) const override {
    ArrayRef<int64_t> in = expand.getInput().getType().getShape();
    SmallVector<int64_t> starts(slice.getStarts()), limits(slice.getLimits()),
        strides(slice.getStrides());
    for (size_t d = 0; d < in.size(); ++d) {
      if (in[d] == 1 && expand.getType().getDimSize(d) != 1) {
        starts[d] = 0;
        limits[d] = 1;
        strides[d] = 1;
      }
    }
    return rewriter.createOrFold<SliceOp>(slice.getLoc(), expand.getInput(),
                                          starts, limits, strides);
  }
};

/// transpose(expand(x)) = expand(transpose(x)).
struct TransposeBeforeExpand : MoveExpandAfter<TransposeOp> {
  using MoveExpandAfter::MoveExpandAfter;

  Value narrow(TransposeOp transpose, ExpandOp expand,
               PatternRewriter &rewriter) const override {
    return rewriter.createOrFold<TransposeOp>(
        transpose.getLoc(), expand.getInput(), transpose.getPerm());
  }
};

/// reshape(expand(x)) = expand(reshape(x)) when, by the reshape's sharding
/// rule, each broadcast dim is one factor that makes up a result dim on its
/// own (it is merged or split only with size-1 dims): that result dim is 1
/// in the reshape of x.
struct ReshapeBeforeExpand : MoveExpandAfter<ReshapeOp> {
  using MoveExpandAfter::MoveExpandAfter;

  Value narrow(ReshapeOp reshape, ExpandOp expand,
               PatternRewriter &rewriter) const override {
    ShardingRule rule =
        cast<ShardingRuleOpInterface>(reshape.getOperation()).getShardingRule();
    ArrayRef<int64_t> in = expand.getInput().getType().getShape();
    SmallVector<int64_t> sourceShape(reshape.getType().getShape());
    for (size_t d = 0; d < in.size(); ++d) {
      if (in[d] == expand.getType().getDimSize(d))
        continue;
      const ShardingRule::DimFactors &factors = rule.getOperands()[0][d];
      if (factors.size() != 1)
        return nullptr;
      FailureOr<int64_t> target =
          ShardingRule::wholeDimOf(rule.getResults()[0], factors.front());
      if (failed(target) || *target < 0)
        return nullptr;
      sourceShape[*target] = 1;
    }
    auto sourceType = RankedTensorType::get(
        sourceShape, expand.getInput().getType().getElementType());
    return rewriter.createOrFold<ReshapeOp>(reshape.getLoc(), sourceType,
                                            expand.getInput());
  }
};

/// matmul(expand(a), w) = expand(matmul(a, w)) for a matrix w: the rows of
/// the copies are the same rows, so the product is computed once.
struct MatMulBeforeExpand : MoveExpandAfter<MatMulOp> {
  using MoveExpandAfter::MoveExpandAfter;

  Value narrow(MatMulOp matmul, ExpandOp expand,
               PatternRewriter &rewriter) const override {
    if (matmul.getRhs().getType().getRank() != 2)
      return nullptr;
    // Only batch dims may be broadcast: the last two are the rows and the
    // contracted dim.
    ArrayRef<int64_t> in = expand.getInput().getType().getShape();
    ArrayRef<int64_t> wide = expand.getType().getShape();
    for (size_t d = in.size() - 2; d < in.size(); ++d)
      if (in[d] != wide[d])
        return nullptr;
    return rewriter.createOrFold<MatMulOp>(matmul.getLoc(), expand.getInput(),
                                           matmul.getRhs());
  }
};

struct SinkBroadcasts : impl::SinkBroadcastsBase<SinkBroadcasts> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    patterns.add<
        ReadExpandInput<AddOp>, ReadExpandInput<SubOp>, ReadExpandInput<MulOp>,
        ReadExpandInput<DivOp>, ReadExpandInput<PowOp>, ReadExpandInput<MaxOp>,
        ReadExpandInput<MinOp>, ReadExpandInput<WhereOp>, SliceBeforeExpand,
        TransposeBeforeExpand, ReshapeBeforeExpand, MatMulBeforeExpand>(
        context);
    ReshapeOp::getCanonicalizationPatterns(patterns, context);
    TransposeOp::getCanonicalizationPatterns(patterns, context);
    // Each rewrite moves an expand past one more op, so this ends; a sweep
    // limit that is reached leaves correct IR.
    (void)applyPatternsGreedily(getOperation(), std::move(patterns));
  }
};
} // namespace
} // namespace mlir::dsp
