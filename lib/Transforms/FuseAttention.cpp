//===- FuseAttention.cpp - Fuse exported attention into dsp.attention -----===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::dsp {
#define GEN_PASS_DEF_FUSEATTENTION
#include "dsp/Transforms/Passes.h.inc"

namespace {
/// A scalar (single-element) float constant.
std::optional<double> scalarFloat(Value value) {
  if (cast<RankedTensorType>(value.getType()).getNumElements() != 1)
    return std::nullopt;
  return getSplatFloat(value);
}

bool hasOneUse(Value value) { return value.hasOneUse(); }

/// Strips `mul x, c` and `div x, c` with scalar constant c from `value`,
/// multiplying their factors into `scale`. Only single-use links are
/// stripped, so no other user loses them.
Value stripScale(Value value, double &scale) {
  while (hasOneUse(value)) {
    if (auto mul = value.getDefiningOp<MulOp>()) {
      if (auto c = scalarFloat(mul.getRhs())) {
        scale *= *c;
        value = mul.getLhs();
        continue;
      }
      if (auto c = scalarFloat(mul.getLhs())) {
        scale *= *c;
        value = mul.getRhs();
        continue;
      }
    } else if (auto div = value.getDefiningOp<DivOp>()) {
      if (auto c = scalarFloat(div.getRhs()); c && *c != 0) {
        scale /= *c;
        value = div.getLhs();
        continue;
      }
    }
    break;
  }
  return value;
}

/// True if `value` broadcasts to `shape` without changing it.
bool broadcastsTo(Value value, ArrayRef<int64_t> shape) {
  auto broadcast = broadcastShapes(
      cast<RankedTensorType>(value.getType()).getShape(), shape);
  return succeeded(broadcast) && ArrayRef<int64_t>(*broadcast) == shape;
}

struct FuseAttentionPattern : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatMulOp output,
                                PatternRewriter &rewriter) const override {
    Location loc = output.getLoc();
    Value probabilities = output.getLhs();
    Value value = output.getRhs();

    // Optional NaN guard: where(isnan(p), 0, p).
    if (auto guard = probabilities.getDefiningOp<WhereOp>()) {
      auto isnan = guard.getCondition().getDefiningOp<IsNaNOp>();
      auto zero = getSplatFloat(guard.getTrueValue());
      if (!isnan || !zero || *zero != 0 ||
          isnan.getInput() != guard.getFalseValue() ||
          !hasOneUse(guard.getOutput()) || !hasOneUse(isnan.getOutput()))
        return failure();
      probabilities = guard.getFalseValue();
      if (!llvm::hasNItems(probabilities.getUses(), 2))
        return failure();
    } else if (!hasOneUse(probabilities)) {
      return failure();
    }
    auto softmax = probabilities.getDefiningOp<SoftmaxOp>();
    if (!softmax || static_cast<int64_t>(softmax.getAxis()) !=
                        softmax.getType().getRank() - 1)
      return failure();

    // Walk from the scores back to q . k^T: scales, then at most one mask.
    Value scores = softmax.getInput();
    double scale = 1.0;
    Value mask;
    double maskScale = 1.0;
    // A where mask: its op, which operand keeps the scores, and the fill.
    WhereOp maskWhere;
    bool maskKeepsTrue = false;
    double maskFill = 0.0;
    while (true) {
      if (!hasOneUse(scores))
        return failure();
      scores = stripScale(scores, scale);
      if (scores.getDefiningOp<MatMulOp>() || mask)
        break;
      if (auto add = scores.getDefiningOp<AddOp>()) {
        bool lhsIsScores = add.getLhs().getDefiningOp<MatMulOp>() ||
                           add.getLhs().getDefiningOp<MulOp>() ||
                           add.getLhs().getDefiningOp<DivOp>();
        scores = lhsIsScores ? add.getLhs() : add.getRhs();
        mask = lhsIsScores ? add.getRhs() : add.getLhs();
      } else if (auto where = scores.getDefiningOp<WhereOp>()) {
        // where(c, s, fill) or where(c, fill, s): an additive mask of 0
        // where s is kept and fill elsewhere, built once the match holds.
        std::optional<double> fill = getSplatFloat(where.getFalseValue());
        bool keepsTrue = fill.has_value();
        if (!keepsTrue)
          fill = getSplatFloat(where.getTrueValue());
        if (!fill)
          return failure();
        scores = keepsTrue ? where.getTrueValue() : where.getFalseValue();
        maskWhere = where;
        maskKeepsTrue = keepsTrue;
        maskFill = *fill;
        mask = where.getCondition();
      } else {
        return failure();
      }
      maskScale = scale;
    }
    auto product = scores.getDefiningOp<MatMulOp>();
    if (!product)
      return failure();
    Value query = stripScale(product.getLhs(), scale);
    Value keyTransposed = stripScale(product.getRhs(), scale);

    auto queryType = cast<RankedTensorType>(query.getType());
    auto keyType = cast<RankedTensorType>(keyTransposed.getType());
    auto valueType = cast<RankedTensorType>(value.getType());
    int64_t rank = queryType.getRank();
    if ((rank != 3 && rank != 4) || keyType.getRank() != rank ||
        valueType.getRank() != rank ||
        queryType.getShape().drop_back(2) != keyType.getShape().drop_back(2) ||
        queryType.getShape().drop_back(2) != valueType.getShape().drop_back(2))
      return failure();
    // The mask must not widen the scores: the attention's result has the
    // shape of q . k^T, and so must the softmax.
    ArrayRef<int64_t> scoreShape = product.getType().getShape();
    if (softmax.getType().getShape() != scoreShape)
      return failure();
    if (mask && !maskWhere &&
        !isa<FloatType>(getElementTypeOrSelf(mask.getType())))
      return failure();
    if (mask && !broadcastsTo(mask, scoreShape))
      return failure();

    // Everything matched: from here on the IR changes.
    if (maskWhere) {
      Type elementType = getElementTypeOrSelf(scores.getType());
      auto scalarType = RankedTensorType::get({}, elementType);
      Value zero = ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(scalarType,
                                 rewriter.getFloatAttr(elementType, 0.0)));
      Value filler = ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(scalarType,
                                 rewriter.getFloatAttr(elementType, maskFill)));
      mask = maskKeepsTrue
                 ? rewriter.createOrFold<WhereOp>(loc, maskWhere.getCondition(),
                                                  zero, filler)
                 : rewriter.createOrFold<WhereOp>(loc, maskWhere.getCondition(),
                                                  filler, zero);
    }
    if (mask && getSplatFloat(mask) == 0.0)
      mask = nullptr;

    // k from k^T; canonicalization folds this into the transpose that made
    // k^T.
    SmallVector<int64_t> swap = llvm::to_vector(llvm::seq<int64_t>(0, rank));
    std::swap(swap[rank - 1], swap[rank - 2]);
    Value key = TransposeOp::create(rewriter, loc, keyTransposed, swap);
    if (mask && maskScale != 1.0) {
      Type elementType = getElementTypeOrSelf(mask.getType());
      Value factor = ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(
              RankedTensorType::get({}, elementType),
              rewriter.getFloatAttr(elementType, maskScale)));
      mask = rewriter.createOrFold<MulOp>(loc, mask, factor);
    }

    // Rank-3 operands are one head: view them as [batch, 1, seq, dim].
    auto addHeads = [&](Value v) -> Value {
      auto type = cast<RankedTensorType>(v.getType());
      SmallVector<int64_t> shape(type.getShape());
      if (rank == 3)
        shape.insert(shape.begin() + (shape.size() == 3 ? 1 : 0), 1);
      while (shape.size() < 4)
        shape.insert(shape.begin(), 1);
      if (shape == type.getShape())
        return v;
      return rewriter.createOrFold<ReshapeOp>(
          loc, RankedTensorType::get(shape, type.getElementType()), v);
    };
    Value fused = AttentionOp::create(
        rewriter, loc, addHeads(query), addHeads(key), addHeads(value),
        mask ? addHeads(mask) : Value(), rewriter.getF64FloatAttr(scale),
        /*query_perm=*/nullptr, /*key_perm=*/nullptr, /*value_perm=*/nullptr,
        /*output_perm=*/nullptr, /*query_select=*/nullptr,
        /*key_select=*/nullptr, /*value_select=*/nullptr);
    if (rank == 3)
      fused = rewriter.createOrFold<ReshapeOp>(loc, output.getType(), fused);
    rewriter.replaceOp(output, fused);
    return success();
  }
};

struct FuseAttention : impl::FuseAttentionBase<FuseAttention> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttentionPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
} // namespace mlir::dsp
