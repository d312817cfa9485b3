//===- OverlapCollectives.cpp - Pipeline switches with their GEMMs --------===//
//
// A switch (all_to_all) between two GEMMs waits for the whole product
// before any byte moves, and the next GEMM waits for every byte. Split into
// pieces along a dim the switch does not move, piece i's bytes travel on
// the communication lane while piece i+1 computes.
//
//===----------------------------------------------------------------------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::dsp {
#define GEN_PASS_DEF_OVERLAPCOLLECTIVES
#include "dsp/Transforms/Passes.h.inc"

namespace {

RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// A matmul or linear whose product rows can be computed in pieces: its
/// weight has rank 2 and its left operand the result's rank.
bool isRowSplittableGemm(Operation *op) {
  if (!isa_and_nonnull<MatMulOp, LinearOp>(op))
    return false;
  return tensorType(op->getOperand(1)).getRank() == 2 &&
         tensorType(op->getOperand(0)).getRank() ==
             tensorType(op->getResult(0)).getRank();
}

bool isView(Operation *op) {
  return isa_and_nonnull<ReshapeOp, TransposeOp>(op);
}

/// A switch and the ops pipelined with it, in program order: a GEMM and
/// views before it, views and a GEMM after it. Each op's operand 0 is the
/// result of the op before it, which nothing else reads.
struct Chain {
  SmallVector<Operation *> ops;
  size_t switchIndex = 0;
};

/// The ops from `value` on to a GEMM, each the only reader of the value
/// before it: its readers (`forward`, the GEMM reading it as its left
/// operand) or its producers (the GEMM writing it), views up to the GEMM
/// and the GEMM; empty if no GEMM ends such a run.
SmallVector<Operation *> viewsToGemm(Value value, bool forward) {
  SmallVector<Operation *> ops;
  while (value.hasOneUse()) {
    Operation *next =
        forward ? *value.getUsers().begin() : value.getDefiningOp();
    if (isRowSplittableGemm(next) &&
        (!forward || next->getOperand(0) == value)) {
      ops.push_back(next);
      return ops;
    }
    if (!isView(next))
      break;
    ops.push_back(next);
    value = forward ? next->getResult(0) : next->getOperand(0);
  }
  return {};
}

/// The chain of `allToAll`, or nullopt if no GEMM feeds or reads it.
std::optional<Chain> findChain(AllToAllOp allToAll) {
  SmallVector<Operation *> before = viewsToGemm(allToAll.getInput(), false);
  SmallVector<Operation *> after = viewsToGemm(allToAll.getOutput(), true);
  if (before.empty() && after.empty())
    return std::nullopt;
  Chain chain;
  chain.ops.assign(before.rbegin(), before.rend());
  chain.switchIndex = chain.ops.size();
  chain.ops.push_back(allToAll);
  chain.ops.append(after);
  return chain;
}

/// The dim of `to` whose pieces hold the same elements as the `chunks`
/// pieces of dim `dim` of `from`, a row-major reshape of it: the one that
/// all dims before hold as many elements as those before `dim`.
std::optional<int64_t> reshapedDim(ArrayRef<int64_t> from, ArrayRef<int64_t> to,
                                   int64_t dim, int64_t chunks) {
  int64_t outer = 1;
  for (int64_t d = 0; d < dim; ++d)
    outer *= from[d];
  int64_t running = 1;
  for (size_t d = 0; d < to.size() && running <= outer; ++d) {
    if (running == outer && to[d] % chunks == 0)
      return d;
    running *= to[d];
  }
  return std::nullopt;
}

/// The dim of `op`'s result that its operand 0's dim `dim` becomes
/// (`forward`), or the reverse.
std::optional<int64_t> mapDim(Operation *op, int64_t dim, bool forward,
                              int64_t chunks) {
  if (auto transpose = dyn_cast<TransposeOp>(op)) {
    ArrayRef<int64_t> perm = transpose.getPerm();
    if (!forward)
      return perm[dim];
    return llvm::find(perm, dim) - perm.begin();
  }
  if (isa<ReshapeOp>(op)) {
    ArrayRef<int64_t> in = tensorType(op->getOperand(0)).getShape();
    ArrayRef<int64_t> out = tensorType(op->getResult(0)).getShape();
    return forward ? reshapedDim(in, out, dim, chunks)
                   : reshapedDim(out, in, dim, chunks);
  }
  // A GEMM keeps its row dims; the last one holds columns.
  if (isRowSplittableGemm(op) &&
      dim + 1 >= tensorType(op->getResult(0)).getRank())
    return std::nullopt;
  return dim;
}

/// The dim each op of `chain` is split along, at its operand 0 and at its
/// result, or nullopt where no dim splits every value into `chunks`.
std::optional<SmallVector<std::pair<int64_t, int64_t>>>
chunkDims(const Chain &chain, int64_t chunks) {
  auto allToAll = cast<AllToAllOp>(chain.ops[chain.switchIndex]);
  ArrayRef<int64_t> shape = tensorType(allToAll.getInput()).getShape();
  auto divides = [&](Value value, int64_t dim) {
    return tensorType(value).getShape()[dim] % chunks == 0;
  };
  for (int64_t candidate = 0; candidate < static_cast<int64_t>(shape.size());
       ++candidate) {
    if (candidate == static_cast<int64_t>(allToAll.getSplitDim()) ||
        candidate == static_cast<int64_t>(allToAll.getConcatDim()) ||
        shape[candidate] % chunks != 0)
      continue;
    SmallVector<std::pair<int64_t, int64_t>> dims(chain.ops.size());
    dims[chain.switchIndex] = {candidate, candidate};
    bool found = true;
    for (size_t i = chain.switchIndex; found && i-- > 0;) {
      Operation *op = chain.ops[i];
      int64_t result = dims[i + 1].first;
      std::optional<int64_t> operand = mapDim(op, result, false, chunks);
      found = operand && divides(op->getOperand(0), *operand) &&
              mapDim(op, *operand, true, chunks) == result;
      if (found)
        dims[i] = {*operand, result};
    }
    for (size_t i = chain.switchIndex + 1; found && i < chain.ops.size(); ++i) {
      Operation *op = chain.ops[i];
      int64_t operand = dims[i - 1].second;
      std::optional<int64_t> result = mapDim(op, operand, true, chunks);
      found = result && divides(op->getResult(0), *result);
      if (found)
        dims[i] = {operand, *result};
    }
    if (found)
      return dims;
  }
  return std::nullopt;
}

RankedTensorType pieceType(RankedTensorType type, int64_t dim, int64_t chunks) {
  SmallVector<int64_t> shape(type.getShape());
  shape[dim] /= chunks;
  return type.clone(shape);
}

/// Piece `index` of `value` split into `chunks` along `dim`, with the
/// value's sharding.
Value slicePiece(OpBuilder &builder, Location loc, Value value, int64_t dim,
                 int64_t index, int64_t chunks) {
  ArrayRef<int64_t> shape = tensorType(value).getShape();
  SmallVector<int64_t> starts(shape.size(), 0), limits(shape),
      strides(shape.size(), 1);
  int64_t extent = shape[dim] / chunks;
  starts[dim] = index * extent;
  limits[dim] = starts[dim] + extent;
  auto slice = SliceOp::create(builder, loc, value, starts, limits, strides);
  if (ShardingAttr sharding = getSharding(value))
    setShardings(slice, {sharding});
  return slice.getOutput();
}

/// The residual a linear adds, if any.
Value residualOf(Operation *op) {
  auto linear = dyn_cast<LinearOp>(op);
  return linear ? linear.getResidual() : Value();
}

void pipeline(const Chain &chain, ArrayRef<std::pair<int64_t, int64_t>> dims,
              int64_t chunks) {
  Operation *last = chain.ops.back();
  OpBuilder builder(last);
  Location loc = chain.ops[chain.switchIndex]->getLoc();
  SmallVector<IRMapping> pieces(chunks);
  for (int64_t piece = 0; piece < chunks; ++piece) {
    Value input = chain.ops.front()->getOperand(0);
    pieces[piece].map(input, slicePiece(builder, loc, input, dims.front().first,
                                        piece, chunks));
    for (auto [op, dim] : llvm::zip(chain.ops, dims))
      if (Value residual = residualOf(op))
        pieces[piece].map(residual, slicePiece(builder, loc, residual,
                                               dim.second, piece, chunks));
  }
  auto clonePiece = [&](size_t i, int64_t piece) {
    Operation *clone = builder.clone(*chain.ops[i], pieces[piece]);
    clone->getResult(0).setType(pieceType(
        tensorType(chain.ops[i]->getResult(0)), dims[i].second, chunks));
    return clone;
  };
  // Every piece up to its switch, which starts and returns; then, piece by
  // piece, its wait and the rest: piece i's bytes travel while the GEMM of
  // another piece computes.
  SmallVector<Operation *> switches;
  for (int64_t piece = 0; piece < chunks; ++piece) {
    for (size_t i = 0; i < chain.switchIndex; ++i)
      clonePiece(i, piece);
    Operation *started = clonePiece(chain.switchIndex, piece);
    cast<AllToAllOp>(started).setAsync(true);
    switches.push_back(started);
  }
  SmallVector<Value> results;
  for (int64_t piece = 0; piece < chunks; ++piece) {
    Value arrived = switches[piece]->getResult(0);
    auto wait = WaitOp::create(builder, loc, arrived.getType(), arrived);
    if (ShardingAttr sharding = getSharding(arrived))
      setShardings(wait, {sharding});
    pieces[piece].map(chain.ops[chain.switchIndex]->getResult(0),
                      wait.getOutput());
    Value end = wait.getOutput();
    for (size_t i = chain.switchIndex + 1; i < chain.ops.size(); ++i)
      end = clonePiece(i, piece)->getResult(0);
    results.push_back(end);
  }
  auto concat =
      ConcatOp::create(builder, last->getLoc(), results, dims.back().second);
  if (ShardingAttr sharding = getSharding(last->getResult(0)))
    setShardings(concat, {sharding});
  last->getResult(0).replaceAllUsesWith(concat.getOutput());
  for (Operation *op : llvm::reverse(chain.ops))
    op->erase();
}

struct OverlapCollectives : impl::OverlapCollectivesBase<OverlapCollectives> {
  using Base::Base;

  void runOnOperation() override {
    if (chunks < 1) {
      getOperation().emitError("chunks is ")
          << static_cast<int64_t>(chunks) << ", expected 1 or more";
      return signalPassFailure();
    }
    if (chunks == 1 || !isPerRank(getOperation()))
      return;
    SmallVector<AllToAllOp> switches;
    getOperation().walk([&](AllToAllOp op) {
      if (!op.getAsync())
        switches.push_back(op);
    });
    for (AllToAllOp allToAll : switches) {
      std::optional<Chain> chain = findChain(allToAll);
      if (!chain)
        continue;
      if (std::optional<SmallVector<std::pair<int64_t, int64_t>>> dims =
              chunkDims(*chain, chunks))
        pipeline(*chain, *dims, chunks);
    }
  }
};

} // namespace
} // namespace mlir::dsp
