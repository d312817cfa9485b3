//===- SinkConcat.cpp - Split ops along the pieces of a concat ------------===//
//
// A token stream [B, 1 + S*T, C] made by concatenating a CLS token to the
// patch tokens cannot be sharded on a factor of the patches alone. Ops that
// treat the tokens independently are therefore run once per piece, which
// moves the concat down to where the pieces must meet.
//
//===----------------------------------------------------------------------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Dialect/DSP/IR/ShardingRule.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <map>

namespace mlir::dsp {
#define GEN_PASS_DEF_SINKCONCAT
#include "dsp/Transforms/Passes.h.inc"

namespace {
SmallVector<int64_t> dimSizes(ConcatOp concat) {
  SmallVector<int64_t> sizes;
  for (Value input : concat.getInputs())
    sizes.push_back(
        cast<RankedTensorType>(input.getType()).getDimSize(concat.getAxis()));
  return sizes;
}

/// The operands of the piece of `op` that covers [start, limit) of the
/// factor: each operand with the factor (at `operandDims`, -1 where absent)
/// sliced to that range along its dim of the factor, the others unchanged.
/// Slices of concats fold to their pieces, slices of small constants to
/// constants.
SmallVector<Value> pieceOperands(PatternRewriter &rewriter, Operation *op,
                                 ArrayRef<int64_t> operandDims, int64_t start,
                                 int64_t limit) {
  SmallVector<Value> operands;
  for (auto [operand, dim] : llvm::zip_equal(op->getOperands(), operandDims)) {
    if (dim < 0) {
      operands.push_back(operand);
      continue;
    }
    ArrayRef<int64_t> shape =
        cast<RankedTensorType>(operand.getType()).getShape();
    SmallVector<int64_t> starts(shape.size(), 0), limits(shape),
        strides(shape.size(), 1);
    starts[dim] = start;
    limits[dim] = limit;
    operands.push_back(rewriter.createOrFold<SliceOp>(op->getLoc(), operand,
                                                      starts, limits, strides));
  }
  return operands;
}

/// Rewrites an op that reads a concat into one op per concat piece when the
/// concat axis is a parallel factor of the op's sharding rule.
struct SplitAlongConcat : OpInterfaceRewritePattern<ShardingRuleOpInterface> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(ShardingRuleOpInterface ruleOp,
                                PatternRewriter &rewriter) const override {
    Operation *op = ruleOp;
    // Moving a concat through a concat gains nothing. Attention stays
    // whole: each query piece would read all the keys again, and a
    // sequence-parallel plan shards attention on other factors anyway.
    if (isa<ConcatOp, AttentionOp>(op) || op->getNumResults() == 0 ||
        op->getNumRegions() != 0)
      return failure();
    ShardingRule rule = ruleOp.getShardingRule();
    if (rule.getOperands().size() != op->getNumOperands() ||
        rule.getResults().size() != op->getNumResults())
      return failure();
    for (auto [index, operand] : llvm::enumerate(op->getOperands()))
      if (auto concat = operand.getDefiningOp<ConcatOp>())
        if (succeeded(split(op, rule, index, concat, rewriter)))
          return success();
    return failure();
  }

private:
  LogicalResult split(Operation *op, const ShardingRule &rule, size_t index,
                      ConcatOp concat, PatternRewriter &rewriter) const {
    if (concat.getInputs().size() < 2)
      return failure();
    const ShardingRule::DimFactors &axisFactors =
        rule.getOperands()[index][concat.getAxis()];
    if (axisFactors.size() != 1)
      return failure();
    int64_t factor = axisFactors.front();
    if (rule.getFactors()[factor].kind != FactorKind::Parallel)
      return failure();
    SmallVector<int64_t> sizes = dimSizes(concat);

    SmallVector<int64_t> operandDims, resultDims;
    for (auto [operand, dims] :
         llvm::zip_equal(op->getOperands(), rule.getOperands())) {
      FailureOr<int64_t> dim = ShardingRule::wholeDimOf(dims, factor);
      if (failed(dim))
        return failure();
      // Another concat along the factor must split at the same points, or
      // the pieces would not line up.
      if (auto other = operand.getDefiningOp<ConcatOp>())
        if (*dim >= 0 && static_cast<int64_t>(other.getAxis()) == *dim &&
            dimSizes(other) != sizes)
          return failure();
      operandDims.push_back(*dim);
    }
    for (const ShardingRule::TensorFactors &dims : rule.getResults()) {
      FailureOr<int64_t> dim = ShardingRule::wholeDimOf(dims, factor);
      if (failed(dim) || *dim < 0)
        return failure();
      resultDims.push_back(*dim);
    }

    Location loc = op->getLoc();
    SmallVector<SmallVector<Value>> pieces(op->getNumResults());
    int64_t offset = 0;
    for (int64_t size : sizes) {
      SmallVector<Value> operands =
          pieceOperands(rewriter, op, operandDims, offset, offset + size);
      Operation *piece = rewriter.clone(*op);
      rewriter.modifyOpInPlace(piece, [&] {
        piece->setOperands(operands);
        // A slice names the extent of the dims it keeps whole.
        if (auto slice = dyn_cast<SliceOp>(piece)) {
          SmallVector<int64_t> limits(slice.getLimits());
          limits[operandDims.front()] = size;
          slice.setLimits(limits);
        }
        for (auto [result, dim] :
             llvm::zip_equal(piece->getResults(), resultDims)) {
          auto type = cast<RankedTensorType>(result.getType());
          SmallVector<int64_t> shape(type.getShape());
          shape[dim] = size;
          result.setType(type.clone(shape));
        }
      });
      for (auto [result, values] : llvm::zip_equal(piece->getResults(), pieces))
        values.push_back(result);
      offset += size;
    }

    SmallVector<Value> results;
    for (auto [result, values, dim] :
         llvm::zip_equal(op->getResults(), pieces, resultDims))
      results.push_back(
          ConcatOp::create(rewriter, loc, result.getType(), values, dim));
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// Rewrites an op whose result is read only by slices along a parallel
/// factor, in ranges that do not overlap, into one op per range that reads
/// the matching ranges of its operands: the mirror of SplitAlongConcat,
/// which moves a split of the tokens up to where they were produced (the
/// split of a joint text and video stream after attention).
struct SplitAboveSlices : OpInterfaceRewritePattern<ShardingRuleOpInterface> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(ShardingRuleOpInterface ruleOp,
                                PatternRewriter &rewriter) const override {
    Operation *op = ruleOp;
    // Slices of constants fold on their own.
    if (isa<ConcatOp, AttentionOp, SliceOp>(op) || op->getNumOperands() == 0 ||
        op->getNumResults() != 1 || op->getNumRegions() != 0 || op->use_empty())
      return failure();
    ShardingRule rule = ruleOp.getShardingRule();
    if (rule.getOperands().size() != op->getNumOperands() ||
        rule.getResults().size() != 1)
      return failure();
    Value result = op->getResult(0);
    auto type = cast<RankedTensorType>(result.getType());

    // Every user is a unit-stride slice along one dim, whole elsewhere.
    int64_t dim = -1;
    SmallVector<SliceOp> slices;
    for (Operation *user : result.getUsers()) {
      auto slice = dyn_cast<SliceOp>(user);
      if (!slice)
        return failure();
      for (int64_t d = 0; d < type.getRank(); ++d) {
        bool whole = slice.getStarts()[d] == 0 &&
                     slice.getLimits()[d] == type.getDimSize(d);
        if (whole || slice.getStrides()[d] != 1)
          continue;
        if (dim != -1 && dim != d)
          return failure();
        dim = d;
      }
      if (llvm::any_of(slice.getStrides(), [](int64_t s) { return s != 1; }))
        return failure();
      slices.push_back(slice);
    }
    if (dim < 0)
      return failure();
    // Distinct ranges, which must not overlap; equal slices share a piece.
    SmallVector<std::pair<int64_t, int64_t>> ranges;
    for (SliceOp slice : slices)
      ranges.emplace_back(slice.getStarts()[dim], slice.getLimits()[dim]);
    llvm::sort(ranges);
    ranges.erase(llvm::unique(ranges), ranges.end());
    for (size_t i = 1; i < ranges.size(); ++i)
      if (ranges[i].first < ranges[i - 1].second)
        return failure();

    const ShardingRule::DimFactors &dimFactors = rule.getResults()[0][dim];
    if (dimFactors.size() != 1)
      return failure();
    int64_t factor = dimFactors.front();
    if (rule.getFactors()[factor].kind != FactorKind::Parallel)
      return failure();
    SmallVector<int64_t> operandDims;
    for (const ShardingRule::TensorFactors &dims : rule.getOperands()) {
      FailureOr<int64_t> operandDim = ShardingRule::wholeDimOf(dims, factor);
      if (failed(operandDim))
        return failure();
      operandDims.push_back(*operandDim);
    }

    // All pieces first, then the slices: replacing a slice frees it, and a
    // slice created after that may take its place in memory.
    std::map<std::pair<int64_t, int64_t>, Value> pieces;
    for (auto [start, limit] : ranges) {
      SmallVector<Value> operands =
          pieceOperands(rewriter, op, operandDims, start, limit);
      Operation *piece = rewriter.clone(*op);
      SmallVector<int64_t> shape(type.getShape());
      shape[dim] = limit - start;
      rewriter.modifyOpInPlace(piece, [&] {
        piece->setOperands(operands);
        piece->getResult(0).setType(type.clone(shape));
      });
      pieces[{start, limit}] = piece->getResult(0);
    }
    for (SliceOp slice : slices)
      rewriter.replaceOp(
          slice, pieces.at({slice.getStarts()[dim], slice.getLimits()[dim]}));
    rewriter.eraseOp(op);
    return success();
  }
};

struct SinkConcat : impl::SinkConcatBase<SinkConcat> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    patterns.add<SplitAlongConcat, SplitAboveSlices>(context);
    // The folds that drop the slices of concats and merge them back.
    ConcatOp::getCanonicalizationPatterns(patterns, context);
    GatherOp::getCanonicalizationPatterns(patterns, context);
    // Every rewrite moves a concat toward the uses or slices toward the
    // definitions, so this ends; a sweep limit that is reached leaves
    // correct, partly split IR.
    (void)applyPatternsGreedily(getOperation(), std::move(patterns));
  }
};
} // namespace
} // namespace mlir::dsp
