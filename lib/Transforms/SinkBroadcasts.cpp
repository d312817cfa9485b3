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

/// slice(expand(x)) = expand(slice(x)): the slice cuts x's own dims and
/// keeps the broadcast ones at size 1.
struct SliceBeforeExpand : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SliceOp slice,
                                PatternRewriter &rewriter) const override {
    ExpandOp expand = sameRankExpand(slice.getInput());
    if (!expand)
      return failure();
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
    Value source = rewriter.createOrFold<SliceOp>(
        slice.getLoc(), expand.getInput(), starts, limits, strides);
    rewriter.replaceOp(
        slice, expandTo(rewriter, slice.getLoc(), source, slice.getType()));
    return success();
  }
};

/// transpose(expand(x)) = expand(transpose(x)).
struct TransposeBeforeExpand : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp transpose,
                                PatternRewriter &rewriter) const override {
    ExpandOp expand = sameRankExpand(transpose.getInput());
    if (!expand)
      return failure();
    Value source = rewriter.createOrFold<TransposeOp>(
        transpose.getLoc(), expand.getInput(), transpose.getPerm());
    rewriter.replaceOp(transpose,
                       expandTo(rewriter, transpose.getLoc(), source,
                                cast<RankedTensorType>(transpose.getType())));
    return success();
  }
};

/// reshape(expand(x)) = expand(reshape(x)) when each broadcast dim stays a
/// dim of its own: in the groups of dims whose sizes multiply to the same
/// number on both sides of the reshape, a group with a broadcast dim has
/// only size-1 dims besides it, on both sides.
struct ReshapeBeforeExpand : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ReshapeOp reshape,
                                PatternRewriter &rewriter) const override {
    ExpandOp expand = sameRankExpand(reshape.getInput());
    if (!expand)
      return failure();
    ArrayRef<int64_t> in = expand.getInput().getType().getShape();
    ArrayRef<int64_t> wide = expand.getType().getShape();
    ArrayRef<int64_t> out = reshape.getType().getShape();
    SmallVector<int64_t> sourceShape(out);
    size_t i = 0, j = 0;
    while (i < wide.size() || j < out.size()) {
      // One group: the shortest runs of dims, one from each side at least,
      // whose sizes multiply to the same number.
      size_t groupI = i, groupJ = j;
      int64_t productI = i < wide.size() ? wide[i++] : 1;
      int64_t productJ = j < out.size() ? out[j++] : 1;
      while (productI != productJ) {
        if (productI < productJ && i < wide.size())
          productI *= wide[i++];
        else if (productJ < productI && j < out.size())
          productJ *= out[j++];
        else
          return failure();
      }
      SmallVector<size_t> broadcast;
      for (size_t d = groupI; d < i; ++d)
        if (in[d] != wide[d])
          broadcast.push_back(d);
      if (broadcast.empty())
        continue;
      int64_t size = wide[broadcast.front()];
      if (broadcast.size() != 1 || productI != size)
        return failure();
      // The output dim of that size (the others of the group are 1) takes
      // the broadcast.
      auto target = llvm::find(out.slice(groupJ, j - groupJ), size);
      if (target == out.begin() + j)
        return failure();
      sourceShape[target - out.begin()] = 1;
    }
    auto sourceType = RankedTensorType::get(
        sourceShape, expand.getInput().getType().getElementType());
    Value source = rewriter.createOrFold<ReshapeOp>(
        reshape.getLoc(), sourceType, expand.getInput());
    rewriter.replaceOp(reshape, expandTo(rewriter, reshape.getLoc(), source,
                                         reshape.getType()));
    return success();
  }
};

/// matmul(expand(a), w) = expand(matmul(a, w)) for a matrix w: the rows of
/// the copies are the same rows, so the product is computed once.
struct MatMulBeforeExpand : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatMulOp matmul,
                                PatternRewriter &rewriter) const override {
    ExpandOp expand = sameRankExpand(matmul.getLhs());
    if (!expand || matmul.getRhs().getType().getRank() != 2)
      return failure();
    // Only batch dims may be broadcast: the last two are the rows and the
    // contracted dim.
    ArrayRef<int64_t> in = expand.getInput().getType().getShape();
    ArrayRef<int64_t> wide = expand.getType().getShape();
    for (size_t d = in.size() - 2; d < in.size(); ++d)
      if (in[d] != wide[d])
        return failure();
    Value product = rewriter.createOrFold<MatMulOp>(
        matmul.getLoc(), expand.getInput(), matmul.getRhs());
    rewriter.replaceOp(matmul,
                       expandTo(rewriter, matmul.getLoc(), product,
                                cast<RankedTensorType>(matmul.getType())));
    return success();
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
