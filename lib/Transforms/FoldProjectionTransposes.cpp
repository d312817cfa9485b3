//===- FoldProjectionTransposes.cpp - Transposes across projections -------===//
//
// The temporal block of a factorized video transformer transposes its
// [B, T, S, C] activations to [B, S, T, C] before the QKV projection, so
// that attention sees T as the sequence, and back after the output
// projection. A projection works on each row of C alone, so it does not
// matter in which order the dims in front of the rows lie: the chain of
// projections and reshapes can run in the untransposed layout, and the
// attention reads its operands and writes its result through perms that
// take over the transposes.
//
//===----------------------------------------------------------------------===//

#include "dsp/Dialect/DSP/IR/AttentionRing.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Format/AttentionLayout.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"

namespace mlir::dsp {
#define GEN_PASS_DEF_FOLDPROJECTIONTRANSPOSES
#include "dsp/Transforms/Passes.h.inc"

namespace {
struct FoldProjectionTransposes
    : impl::FoldProjectionTransposesBase<FoldProjectionTransposes> {
  void runOnOperation() override;
};

/// The order of the sequence dims (the leading dims of extent > 1, in front
/// of a row) that a chain's values have and the order that the relaid
/// values take: sequence dim i of a chain value is sequence dim `order[i]`
/// of its relaid value.
struct SequenceOrder {
  SmallVector<int64_t> extents;
  SmallVector<int64_t> order;
};

/// The sequence order that a transpose of `perm` from `source` to
/// `transposed` leaves, relaid back to the source's; none unless the
/// transpose keeps the last dim.
std::optional<SequenceOrder> sequenceOrder(ArrayRef<int64_t> source,
                                           ArrayRef<int64_t> perm,
                                           ArrayRef<int64_t> transposed) {
  const int64_t rank = static_cast<int64_t>(perm.size());
  if (rank < 2 || perm.back() != rank - 1)
    return std::nullopt;
  // The rank of each leading source dim of extent > 1 among them.
  SmallVector<int64_t> sourceIndex(rank, -1);
  int64_t count = 0;
  for (int64_t d = 0; d + 1 < rank; ++d)
    if (source[d] != 1)
      sourceIndex[d] = count++;
  SequenceOrder sequence;
  for (int64_t d = 0; d + 1 < rank; ++d)
    if (transposed[d] != 1) {
      sequence.extents.push_back(transposed[d]);
      sequence.order.push_back(sourceIndex[perm[d]]);
    }
  return sequence;
}

/// A chain value in the relaid order: its shape, and `perm` with the value
/// equal to transpose(relaid, perm).
struct Relaid {
  SmallVector<int64_t> shape;
  SmallVector<int64_t> perm;
};

/// `shape` relaid by `sequence`; none unless its leading dims of extent > 1
/// are the sequence's, in its order, in front of its last dim. Unit dims and
/// the dims from the first row dim on keep their places.
std::optional<Relaid> relay(ArrayRef<int64_t> shape,
                            const SequenceOrder &sequence) {
  SmallVector<int64_t> positions;
  for (auto [d, extent] : llvm::enumerate(shape)) {
    if (positions.size() == sequence.extents.size())
      break;
    if (extent == 1)
      continue;
    if (extent != sequence.extents[positions.size()])
      return std::nullopt;
    positions.push_back(static_cast<int64_t>(d));
  }
  if (positions.size() != sequence.extents.size() ||
      (!positions.empty() &&
       positions.back() + 1 >= static_cast<int64_t>(shape.size())))
    return std::nullopt;
  Relaid relaid{SmallVector<int64_t>(shape),
                llvm::to_vector(llvm::seq<int64_t>(0, shape.size()))};
  for (auto [i, position] : llvm::enumerate(positions)) {
    int64_t target = positions[sequence.order[i]];
    relaid.perm[position] = target;
    relaid.shape[target] = shape[position];
  }
  return relaid;
}

RankedTensorType relaidType(Value value, const Relaid &relaid) {
  return RankedTensorType::get(
      relaid.shape, cast<RankedTensorType>(value.getType()).getElementType());
}

/// `sharding` (null: none) of a chain value, for its relaid value.
ShardingAttr relaidSharding(ShardingAttr sharding, const Relaid &relaid) {
  if (!sharding)
    return nullptr;
  SmallVector<int64_t> dimOf = invertPermutationVector(relaid.perm);
  return transposedSharding(sharding, dimOf.size(),
                            [&](int64_t d) { return dimOf[d]; });
}

/// Gives `op`'s result the relaid type, and its sharding where it has one.
void relayResult(Operation *op, const Relaid &relaid) {
  Value result = op->getResult(0);
  result.setType(relaidType(result, relaid));
  if (ShardingAttr sharding = getResultSharding(op, 0))
    setShardings(op, {relaidSharding(sharding, relaid)});
}

/// Whether `op` works on each row of its chain operand `value` alone and
/// keeps the dims in front of the row: a reshape (which `relay` then checks)
/// or a projection by a matrix without a residual, whose rows would lie in
/// the other order.
bool isRowWise(Operation *op, Value value) {
  if (isa<ReshapeOp>(op))
    return true;
  auto linear = dyn_cast<LinearOp>(op);
  return linear && linear.getLhs() == value && !linear.getResidual() &&
         cast<RankedTensorType>(linear.getRhs().getType()).getRank() == 2;
}

/// Sets perm attribute `name` of `op`, or drops it where `perm` is the
/// identity.
void setPerm(AttentionOp op, const char *name, ArrayRef<int64_t> perm) {
  if (isIdentityPermutation(perm))
    op->removeAttr(name);
  else
    op->setAttr(name, DenseI64ArrayAttr::get(op.getContext(), perm));
}

/// The perm of attention operand `operand` (3 the output), or the identity.
SmallVector<int64_t> attentionPerm(AttentionOp op, unsigned operand) {
  if (auto perm = op->getAttrOfType<DenseI64ArrayAttr>(
          ::dsp::format::kAttentionPermNames[operand]))
    return SmallVector<int64_t>(perm.asArrayRef());
  return {0, 1, 2, 3};
}

/// The 4-D perm through which attention operand `operand` reads the
/// relaid value where it read `relaid.perm`'s transpose of it; none unless
/// it keeps the head dim innermost and the selected dim, if any, in place.
std::optional<SmallVector<int64_t>>
operandPerm(AttentionOp op, unsigned operand, const Relaid &relaid) {
  SmallVector<int64_t> viewPerm = relaid.perm;
  if (auto select = op->getAttrOfType<DenseI64ArrayAttr>(
          ::dsp::format::kAttentionSelectNames[operand])) {
    int64_t dim = select.asArrayRef()[0];
    if (relaid.perm[dim] != dim)
      return std::nullopt;
    viewPerm.erase(viewPerm.begin() + dim);
    for (int64_t &d : viewPerm)
      d -= d > dim;
  }
  SmallVector<int64_t> perm;
  for (int64_t dim : attentionPerm(op, operand))
    perm.push_back(viewPerm[dim]);
  if (perm.size() != 4 || perm[3] != 3)
    return std::nullopt;
  return perm;
}

/// The chain of row-wise ops from `value` on, each the single use of the
/// one before, with at least one projection among them.
SmallVector<Operation *> rowWiseChain(Value value) {
  SmallVector<Operation *> chain;
  while (value.hasOneUse() && isRowWise(*value.getUsers().begin(), value)) {
    chain.push_back(*value.getUsers().begin());
    value = chain.back()->getResult(0);
  }
  if (llvm::none_of(chain, [](Operation *op) { return isa<LinearOp>(op); }))
    chain.clear();
  return chain;
}

/// Relays `head` and the results of `chain`, the ops after it, by
/// `sequence`; none if one does not fit it.
std::optional<SmallVector<Relaid>> relayChain(Value head,
                                              ArrayRef<Operation *> chain,
                                              const SequenceOrder &sequence) {
  SmallVector<Value> values = {head};
  for (Operation *op : chain)
    values.push_back(op->getResult(0));
  SmallVector<Relaid> relaid;
  for (Value value : values) {
    std::optional<Relaid> one =
        relay(cast<RankedTensorType>(value.getType()).getShape(), sequence);
    if (!one)
      return std::nullopt;
    relaid.push_back(std::move(*one));
  }
  return relaid;
}

/// `value` in `type`: itself, or a reshape of it that only moves unit dims
/// (a view), carrying `sharding`.
Value reshapedTo(OpBuilder &builder, Location loc, Value value,
                 RankedTensorType type, ShardingAttr sharding) {
  if (value.getType() == type)
    return value;
  auto reshape = ReshapeOp::create(builder, loc, type, value);
  if (sharding)
    setShardings(reshape, {sharding});
  return reshape;
}

/// A transpose that keeps the last dim, then row-wise ops whose last result
/// only attention operands read: the ops run on the transpose's input, and
/// the attentions read through perms that take the transpose over.
void foldIntoOperands(TransposeOp transpose) {
  SmallVector<Operation *> chain = rowWiseChain(transpose.getOutput());
  if (chain.empty())
    return;
  Value last = chain.back()->getResult(0);
  SmallVector<std::pair<AttentionOp, unsigned>> operands;
  for (OpOperand &use : last.getUses()) {
    auto attention = dyn_cast<AttentionOp>(use.getOwner());
    if (!attention || use.getOperandNumber() >= 3 ||
        getAttentionRing(attention))
      return;
    operands.push_back({attention, use.getOperandNumber()});
  }
  auto source = cast<RankedTensorType>(transpose.getInput().getType());
  std::optional<SequenceOrder> sequence = sequenceOrder(
      source.getShape(), transpose.getPerm(), transpose.getType().getShape());
  if (!sequence)
    return;
  std::optional<SmallVector<Relaid>> relaid =
      relayChain(transpose.getOutput(), chain, *sequence);
  if (!relaid)
    return;
  SmallVector<SmallVector<int64_t>> perms;
  for (auto [attention, operand] : operands) {
    std::optional<SmallVector<int64_t>> perm =
        operandPerm(attention, operand, relaid->back());
    if (!perm)
      return;
    perms.push_back(std::move(*perm));
  }

  OpBuilder builder(transpose);
  Value input = reshapedTo(
      builder, transpose.getLoc(), transpose.getInput(),
      relaidType(transpose.getOutput(), relaid->front()),
      relaidSharding(getResultSharding(transpose, 0), relaid->front()));
  chain.front()->setOperand(0, input);
  for (auto [op, one] : llvm::zip(chain, ArrayRef(*relaid).drop_front()))
    relayResult(op, one);
  for (auto [use, perm] : llvm::zip(operands, perms))
    setPerm(use.first, ::dsp::format::kAttentionPermNames[use.second], perm);
  transpose.erase();
}

/// An attention whose result row-wise ops carry to a transpose that keeps
/// the last dim: the attention writes its result through a perm that takes
/// the transpose over, and the ops run in the transpose's layout.
void foldIntoOutput(AttentionOp attention) {
  if (getAttentionRing(attention))
    return;
  SmallVector<Operation *> chain = rowWiseChain(attention.getOutput());
  if (chain.empty() || !chain.back()->getResult(0).hasOneUse())
    return;
  auto transpose =
      dyn_cast<TransposeOp>(*chain.back()->getResult(0).getUsers().begin());
  if (!transpose)
    return;
  auto result = transpose.getType();
  // The chain's values are the transpose's input seen through the inverse
  // perm of its result.
  std::optional<SequenceOrder> sequence = sequenceOrder(
      result.getShape(), invertPermutationVector(transpose.getPerm()),
      cast<RankedTensorType>(transpose.getInput().getType()).getShape());
  if (!sequence)
    return;
  std::optional<SmallVector<Relaid>> relaid =
      relayChain(attention.getOutput(), chain, *sequence);
  if (!relaid)
    return;
  // The result is transpose(transpose(attended, perm), relaid perm) before;
  // the relaid result is the attended result through one perm.
  SmallVector<int64_t> written = attentionPerm(attention, 3);
  SmallVector<int64_t> inverse = invertPermutationVector(relaid->front().perm);
  SmallVector<int64_t> perm;
  for (int64_t dim : inverse)
    perm.push_back(written[dim]);
  if (perm.size() != 4 || perm[3] != 3)
    return;

  relayResult(attention, relaid->front());
  setPerm(attention, ::dsp::format::kAttentionPermNames[3], perm);
  for (auto [op, one] : llvm::zip(chain, ArrayRef(*relaid).drop_front()))
    relayResult(op, one);
  OpBuilder builder(transpose);
  transpose.replaceAllUsesWith(reshapedTo(builder, transpose.getLoc(),
                                          chain.back()->getResult(0), result,
                                          getResultSharding(transpose, 0)));
  transpose.erase();
}
} // namespace

void FoldProjectionTransposes::runOnOperation() {
  if (!isPerRank(getOperation()))
    return;
  // Folding erases the transposes, which a walk may be at.
  SmallVector<TransposeOp> transposes;
  SmallVector<AttentionOp> attentions;
  getOperation().walk([&](Operation *op) {
    if (auto transpose = dyn_cast<TransposeOp>(op))
      transposes.push_back(transpose);
    else if (auto attention = dyn_cast<AttentionOp>(op))
      attentions.push_back(attention);
  });
  for (TransposeOp transpose : transposes)
    foldIntoOperands(transpose);
  for (AttentionOp attention : attentions)
    foldIntoOutput(attention);
}
} // namespace mlir::dsp
