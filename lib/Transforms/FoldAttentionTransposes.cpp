//===- FoldAttentionTransposes.cpp - Transposes into attention ------------===//

#include "dsp/Dialect/DSP/IR/AttentionRing.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Format/AttentionLayout.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::dsp {
#define GEN_PASS_DEF_FOLDATTENTIONTRANSPOSES
#include "dsp/Transforms/Passes.h.inc"

namespace {
struct FoldAttentionTransposes
    : impl::FoldAttentionTransposesBase<FoldAttentionTransposes> {
  void runOnOperation() override;
};

/// Whether `perm` keeps the head dim innermost: the kernels then read rows
/// of the head dim in place, at strides of their own.
bool keepsHeadDim(ArrayRef<int64_t> perm) {
  return perm.size() == 4 && perm[3] == 3;
}

/// Whether a view that drops dim `dim` of a value sharded by `sharding`
/// (null: unsharded) would drop, or cannot tell it keeps, a sharded dim.
bool dropsShardedDim(ShardingAttr sharding, int64_t dim) {
  return sharding && (sharding.isCompound() ||
                      (sharding.isSplit() && sharding.getDim() == dim));
}

/// `value` as a 4-D transpose `transpose(source, perm)` that keeps the head
/// dim innermost, where `value` is a transpose's single-use result or a
/// reshape of one that only drops and inserts unit dims (the head splits
/// of exported models: [L, 1, H, D] -> [1, H, L, D] -> [H, L, D] ...). The
/// transposed value is then a 4-D reshape of the transpose's input (its
/// dims in order, unit dims first), which is made before the transpose.
struct TransposedOperand {
  Value source;
  SmallVector<int64_t> perm;
};

/// `sharding` (not null) of a value of `shape` seen through a reshape that
/// moves each dim d of extent > 1 to dim `dimOf[d]`; null where that is
/// not a sharding of one dim (a split dim of extent 1, a compound one).
ShardingAttr movedSharding(ShardingAttr sharding, ArrayRef<int64_t> shape,
                           ArrayRef<int64_t> dimOf) {
  if (sharding.isCompound())
    return nullptr;
  if (!sharding.isSplit())
    return sharding;
  int64_t dim = sharding.getDim();
  if (shape[dim] == 1)
    return nullptr;
  return ShardingAttr::get(sharding.getContext(), sharding.getKind(),
                           dimOf[dim], sharding.getFactors(),
                           sharding.getFactor(), sharding.getPad(), {});
}

std::optional<TransposedOperand> asTransposed(Value value) {
  if (!value.hasOneUse())
    return std::nullopt;
  if (auto transpose = value.getDefiningOp<TransposeOp>()) {
    if (!keepsHeadDim(transpose.getPerm()))
      return std::nullopt;
    return TransposedOperand{transpose.getInput(),
                             SmallVector<int64_t>(transpose.getPerm())};
  }
  auto reshape = value.getDefiningOp<ReshapeOp>();
  auto transpose =
      reshape ? reshape.getInput().getDefiningOp<TransposeOp>() : nullptr;
  if (!transpose || !transpose->hasOneUse())
    return std::nullopt;
  auto input = cast<RankedTensorType>(transpose.getInput().getType());
  ArrayRef<int64_t> in = input.getShape(), perm = transpose.getPerm();
  ArrayRef<int64_t> out = cast<RankedTensorType>(value.getType()).getShape();
  // The dims of extent > 1 of the transposed value, as dims of the input,
  // must be those of the reshape's result.
  SmallVector<int64_t> moved;
  for (int64_t dim : perm)
    if (in[dim] != 1)
      moved.push_back(dim);
  SmallVector<int64_t> kept;
  for (int64_t extent : out)
    if (extent != 1)
      kept.push_back(extent);
  if (moved.size() != kept.size() || kept.size() > 4)
    return std::nullopt;
  for (auto [dim, extent] : llvm::zip(moved, kept))
    if (in[dim] != extent)
      return std::nullopt;
  // The source: the input's dims of extent > 1 in order, after unit dims.
  const int64_t units = 4 - static_cast<int64_t>(kept.size());
  SmallVector<int64_t> sourceShape(units, 1), dimOf(in.size(), -1);
  for (auto [d, extent] : llvm::enumerate(in))
    if (extent != 1) {
      dimOf[d] = static_cast<int64_t>(sourceShape.size());
      sourceShape.push_back(extent);
    }
  // The perm over the source: each dim of extent > 1 of the result reads
  // its input dim, each unit dim the next unit dim of the source.
  SmallVector<int64_t> sourcePerm;
  int64_t nextUnit = 0, nextMoved = 0;
  for (int64_t extent : out)
    sourcePerm.push_back(extent == 1 ? nextUnit++ : dimOf[moved[nextMoved++]]);
  if (out.size() != 4 || nextUnit > units || !keepsHeadDim(sourcePerm))
    return std::nullopt;
  ShardingAttr sharding = getSharding(transpose.getInput());
  ShardingAttr sourceSharding =
      sharding ? movedSharding(sharding, in, dimOf) : nullptr;
  if (sharding && !sourceSharding)
    return std::nullopt;
  OpBuilder builder(transpose);
  auto source = ReshapeOp::create(
      builder, transpose.getLoc(),
      RankedTensorType::get(sourceShape, input.getElementType()),
      transpose.getInput());
  if (sourceSharding)
    setShardings(source, {sourceSharding});
  return TransposedOperand{source, sourcePerm};
}

/// Erases `value`'s defining transpose, and the reshape of it, once the
/// attention no longer reads them.
void eraseUnused(Value value) {
  Operation *op = value.getDefiningOp();
  while (op && op->use_empty() && isa<TransposeOp, ReshapeOp>(op)) {
    Operation *input = op->getOperand(0).getDefiningOp();
    op->erase();
    op = input;
  }
}

/// Where operand `operand` of `op` is a slice of one index of a dim of a
/// rank-5 tensor, reshaped to drop that dim (a fused QKV projection's
/// result, `[L, 3, H, D]` split three ways), the attention reads the tensor
/// at that index in place (`*_select`) and the slice, a copy, goes.
void foldSelect(AttentionOp op, unsigned operand) {
  Value value = op->getOperand(operand);
  auto reshape = value.getDefiningOp<ReshapeOp>();
  auto slice =
      reshape ? reshape.getInput().getDefiningOp<SliceOp>() : SliceOp();
  if (!slice || !value.hasOneUse() || !slice->hasOneUse())
    return;
  ArrayRef<int64_t> shape =
      cast<RankedTensorType>(slice.getInput().getType()).getShape();
  if (shape.size() != 5)
    return;
  std::optional<int64_t> selected;
  for (int64_t d = 0; d < 5; ++d) {
    int64_t start = slice.getStarts()[d], limit = slice.getLimits()[d];
    if (slice.getStrides()[d] != 1)
      return;
    if (start == 0 && limit == shape[d])
      continue;
    if (limit - start != 1 || selected)
      return;
    selected = d;
  }
  if (!selected)
    return;
  SmallVector<int64_t> kept(shape);
  kept.erase(kept.begin() + *selected);
  if (cast<RankedTensorType>(value.getType()).getShape() != ArrayRef(kept))
    return;
  // The attended sharding must not lie along the dim that drops out.
  ShardingAttr sharding = getSharding(slice.getInput());
  if (dropsShardedDim(sharding, *selected))
    return;
  op->setOperand(operand, slice.getInput());
  op->setAttr(::dsp::format::kAttentionSelectNames[operand],
              DenseI64ArrayAttr::get(
                  op.getContext(), {*selected, slice.getStarts()[*selected]}));
  reshape.erase();
  slice.erase();
}

/// How an attention operand can read a tensor in place: through `perm` and,
/// for a rank-5 `source`, at index `select[1]` of its dim `select[0]`.
/// `copy` is the op whose result the view replaces.
struct OperandView {
  Value source;
  SmallVector<int64_t> perm;
  SmallVector<int64_t> select;
  Operation *copy;
};

/// `value` as an OperandView, where it is a transpose that keeps the head
/// dim innermost, or one index of a dim of a transpose of a rank-5 tensor:
/// a gather at a constant index (TimeSformer splits a fused QKV
/// projection's `[B, L, 3, H, D]` result, transposed to `[3, B, H, L, D]`,
/// that way). The view may not drop a sharded dim.
std::optional<OperandView> viewOf(Value value) {
  if (auto transpose = value.getDefiningOp<TransposeOp>()) {
    if (!keepsHeadDim(transpose.getPerm()))
      return std::nullopt;
    return OperandView{transpose.getInput(),
                       SmallVector<int64_t>(transpose.getPerm()),
                       {},
                       transpose};
  }
  auto gather = value.getDefiningOp<GatherOp>();
  auto transpose =
      gather ? gather.getData().getDefiningOp<TransposeOp>() : TransposeOp();
  DenseIntElementsAttr index;
  if (!transpose || transpose.getPerm().size() != 5 ||
      cast<RankedTensorType>(gather.getIndices().getType()).getRank() != 0 ||
      !matchPattern(gather.getIndices(), m_Constant(&index)))
    return std::nullopt;
  const int64_t axis = gather.getAxis();
  const int64_t extent = transpose.getType().getDimSize(axis);
  int64_t position = (*index.value_begin<APInt>()).getSExtValue();
  // An index out of range stays a gather, whose kernel reports it.
  if (position < -extent || position >= extent)
    return std::nullopt;
  if (position < 0)
    position += extent;
  // The perm of the other dims, as dims of the tensor without the selected
  // one.
  const int64_t selected = transpose.getPerm()[axis];
  SmallVector<int64_t> perm;
  for (auto [d, dim] : llvm::enumerate(transpose.getPerm()))
    if (static_cast<int64_t>(d) != axis)
      perm.push_back(dim - (dim > selected));
  if (!keepsHeadDim(perm))
    return std::nullopt;
  ShardingAttr sharding = getSharding(transpose.getInput());
  if (dropsShardedDim(sharding, selected))
    return std::nullopt;
  return OperandView{transpose.getInput(), perm, {selected, position}, gather};
}

/// Erases `copy`, a transpose or gather that nothing reads any more, and
/// what it read that nothing else does.
void eraseCopy(Operation *copy) {
  SmallVector<Operation *> inputs;
  for (Value operand : copy->getOperands())
    if (Operation *def = operand.getDefiningOp())
      inputs.push_back(def);
  copy->erase();
  for (Operation *input : inputs)
    if (isa<TransposeOp, ConstantOp>(input) && isOpTriviallyDead(input))
      input->erase();
}

void readThrough(AttentionOp op, unsigned operand, const OperandView &view,
                 Value source) {
  op->setOperand(operand, source);
  op->setAttr(::dsp::format::kAttentionPermNames[operand],
              DenseI64ArrayAttr::get(op.getContext(), view.perm));
  if (!view.select.empty())
    op->setAttr(::dsp::format::kAttentionSelectNames[operand],
                DenseI64ArrayAttr::get(op.getContext(), view.select));
}

/// Where operand `operand` of `op` is a gather of a transpose (viewOf), the
/// attention reads the transposed tensor in place and the gather, a copy,
/// goes; the transpose too once no gather reads it.
bool foldGather(AttentionOp op, unsigned operand) {
  Value value = op->getOperand(operand);
  std::optional<OperandView> view = viewOf(value);
  if (!isa_and_nonnull<GatherOp>(value.getDefiningOp()) || !view ||
      !value.hasOneUse())
    return false;
  readThrough(op, operand, *view, view->source);
  eraseCopy(view->copy);
  return true;
}

/// Where operand `operand` of `op` is a concat of views of several tensors
/// alike (viewOf: the class token's and the patches' parts of a sequence,
/// split by --dsp-sink-concat), the tensors are concatenated instead and
/// the attention reads the result in place: one copy where there were the
/// views and the concat. Query, key and value of one projection share that
/// concat (`joined`).
bool foldConcat(AttentionOp op, unsigned operand,
                SmallVectorImpl<ConcatOp> &joined) {
  Value value = op->getOperand(operand);
  auto concat = value.getDefiningOp<ConcatOp>();
  if (!concat || !value.hasOneUse())
    return false;
  SmallVector<OperandView> views;
  for (Value piece : concat.getInputs()) {
    std::optional<OperandView> view = viewOf(piece);
    if (!view || !piece.hasOneUse() ||
        (!views.empty() && (view->perm != views.front().perm ||
                            view->select != views.front().select)))
      return false;
    views.push_back(std::move(*view));
  }
  const OperandView &first = views.front();
  // The source dim that the concat's axis reads.
  int64_t dim = first.perm[concat.getAxis()];
  if (!first.select.empty() && dim >= first.select[0])
    ++dim;
  auto type = cast<RankedTensorType>(first.source.getType());
  ShardingAttr sharding = getSharding(first.source);
  if (dropsShardedDim(sharding, dim))
    return false;
  SmallVector<Value> sources;
  for (const OperandView &view : views) {
    auto piece = cast<RankedTensorType>(view.source.getType());
    if (piece.getRank() != type.getRank() ||
        piece.getElementType() != type.getElementType() ||
        getSharding(view.source) != sharding)
      return false;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (d != dim && piece.getDimSize(d) != type.getDimSize(d))
        return false;
    sources.push_back(view.source);
  }
  ConcatOp source;
  for (ConcatOp candidate : joined)
    if (candidate.getAxis() == static_cast<uint64_t>(dim) &&
        llvm::equal(candidate.getInputs(), sources))
      source = candidate;
  if (!source) {
    OpBuilder builder(concat);
    source = ConcatOp::create(builder, concat.getLoc(), sources, dim);
    if (sharding)
      setShardings(source, {sharding});
    joined.push_back(source);
  }
  readThrough(op, operand, first, source.getOutput());
  concat.erase();
  for (const OperandView &view : views)
    eraseCopy(view.copy);
  return true;
}

void foldOperands(AttentionOp op) {
  SmallVector<ConcatOp> joined;
  for (unsigned operand = 0; operand < 3; ++operand) {
    if (foldGather(op, operand) || foldConcat(op, operand, joined))
      continue;
    Value value = op->getOperand(operand);
    if (std::optional<TransposedOperand> transposed = asTransposed(value)) {
      op->setOperand(operand, transposed->source);
      op->setAttr(::dsp::format::kAttentionPermNames[operand],
                  DenseI64ArrayAttr::get(op.getContext(), transposed->perm));
      eraseUnused(value);
    }
    foldSelect(op, operand);
  }
}

/// The attention writes its result through the transpose that is its only
/// use, and takes over the transpose's type and sharding.
void foldOutput(AttentionOp op) {
  if (!op->hasOneUse())
    return;
  auto transpose = dyn_cast<TransposeOp>(*op->getUsers().begin());
  if (!transpose || !keepsHeadDim(transpose.getPerm()))
    return;
  op.getOutput().setType(transpose.getType());
  op.setOutputPermAttr(transpose.getPermAttr());
  if (ShardingAttr sharding = getResultSharding(transpose, 0))
    setShardings(op, {sharding});
  transpose.replaceAllUsesWith(op.getOutput());
  transpose.erase();
}

/// The attention's result read only in parts (the class token's and the
/// patches' rows, which --dsp-sink-concat splits), each part's only use a
/// transpose by one perm that keeps the head dim: the attention writes its
/// result through that perm, and the parts are cut from that instead.
void foldSlicedOutput(AttentionOp op) {
  if (op->use_empty() || op.getOutputPermAttr())
    return;
  SmallVector<std::pair<SliceOp, TransposeOp>> parts;
  SmallVector<int64_t> perm;
  for (Operation *user : op->getUsers()) {
    auto slice = dyn_cast<SliceOp>(user);
    auto transpose = slice && slice->hasOneUse()
                         ? dyn_cast<TransposeOp>(*slice->getUsers().begin())
                         : TransposeOp();
    if (!transpose || !keepsHeadDim(transpose.getPerm()) ||
        (!perm.empty() && transpose.getPerm() != ArrayRef(perm)))
      return;
    perm.assign(transpose.getPerm().begin(), transpose.getPerm().end());
    parts.push_back({slice, transpose});
  }
  auto type = cast<RankedTensorType>(op.getOutput().getType());
  SmallVector<int64_t> shape;
  for (int64_t dim : perm)
    shape.push_back(type.getDimSize(dim));
  op.getOutput().setType(RankedTensorType::get(shape, type.getElementType()));
  op.setOutputPermAttr(DenseI64ArrayAttr::get(op.getContext(), perm));
  if (ShardingAttr sharding = getResultSharding(op, 0))
    setShardings(op, {transposedSharding(sharding, 4,
                                         [&](int64_t d) { return perm[d]; })});
  for (auto [slice, transpose] : parts) {
    SmallVector<int64_t> starts, limits, strides;
    for (int64_t dim : perm) {
      starts.push_back(slice.getStarts()[dim]);
      limits.push_back(slice.getLimits()[dim]);
      strides.push_back(slice.getStrides()[dim]);
    }
    OpBuilder builder(transpose);
    auto part = SliceOp::create(builder, slice.getLoc(), op.getOutput(), starts,
                                limits, strides);
    if (ShardingAttr sharding = getResultSharding(transpose, 0))
      setShardings(part, {sharding});
    transpose.replaceAllUsesWith(part.getOutput());
    transpose.erase();
    slice.erase();
  }
}
} // namespace

void FoldAttentionTransposes::runOnOperation() {
  if (!isPerRank(getOperation()))
    return;
  // Folding erases the ops around each attention, which a walk may be at.
  SmallVector<AttentionOp> attentions;
  getOperation().walk([&](AttentionOp op) {
    // The ring's kernels pass whole contiguous key blocks around.
    if (!getAttentionRing(op))
      attentions.push_back(op);
  });
  for (AttentionOp op : attentions) {
    foldOperands(op);
    foldOutput(op);
    foldSlicedOutput(op);
  }
}
} // namespace mlir::dsp
