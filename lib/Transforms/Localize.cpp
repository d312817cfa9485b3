//===- Localize.cpp - Sharded global IR to per-rank IR --------------------===//
//
// After reshard insertion every value of a multi-rank module carries the
// sharding it is held in and every op reads its operands the way it needs
// them. This pass rewrites the module into what one rank runs: each value's
// type becomes its block (pads included), and what the global form leaves
// implicit becomes an op of its own, so that serialization is 1:1.
//
//===----------------------------------------------------------------------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

namespace mlir::dsp {
#define GEN_PASS_DEF_LOCALIZE
#include "dsp/Transforms/Passes.h.inc"

namespace {
struct Localize : impl::LocalizeBase<Localize> {
  void runOnOperation() override;

private:
  LogicalResult localize(func::FuncOp function);
  LogicalResult localizeOp(Operation *op);
  /// An all_to_all between two factors of one dim as a switch between two
  /// dims of a view: reshape, all_to_all, reshape.
  LogicalResult viewFactorSwitch(AllToAllOp op);
  /// `value` with the pad of its block zeroed, for `reader`, an op that sums
  /// over it; made before the first such reader, shared by the others.
  Value zeroPad(Value value, Operation *reader);
  /// A mean over a split factor: each rank sums its block (a partial sum)
  /// and scales it by the true count, so that the all_reduce adds means.
  LogicalResult splitPartialMean(ReduceMeanOp mean);

  /// The sizes of the group's mesh axes (one: its ranks).
  SmallVector<int64_t> mesh;
  int64_t ranks = 0;
  DenseMap<Value, Value> zeroed;
};
} // namespace

/// The block type of `value` under its sharding, from its global type.
static RankedTensorType localType(Value value, ArrayRef<int64_t> mesh) {
  auto type = cast<RankedTensorType>(value.getType());
  ShardingAttr sharding = getSharding(value);
  return sharding ? sharding.getLocalType(type, mesh) : type;
}

/// The splits of `sharding`: itself, the split entries of a compound, or
/// none.
static SmallVector<ShardingAttr> splitsOf(ShardingAttr sharding) {
  if (!sharding)
    return {};
  if (sharding.isCompound())
    return llvm::filter_to_vector(sharding.getAxes(),
                                  [](ShardingAttr s) { return s.isSplit(); });
  if (sharding.isSplit())
    return {sharding};
  return {};
}

/// Whether some part of `sharding` holds partial sums.
static bool holdsPartials(ShardingAttr sharding) {
  return sharding.isPartial() ||
         (sharding.isCompound() &&
          llvm::any_of(sharding.getAxes(),
                       [](ShardingAttr s) { return s.isPartial(); }));
}

Value Localize::zeroPad(Value value, Operation *reader) {
  auto [entry, inserted] = zeroed.try_emplace(value);
  if (!inserted)
    return entry->second;
  OpBuilder builder(reader);
  ShardingAttr sharding = getSharding(value);
  Value padded = value;
  // One zero_pad per padded split: a compound's on its mesh axis.
  for (auto [axis, split] : llvm::enumerate(
           sharding.isCompound() ? sharding.getAxes() : ArrayRef(sharding))) {
    if (!split.isSplit() || split.getPad() == 0)
      continue;
    IntegerAttr onAxis =
        sharding.isCompound() ? builder.getI64IntegerAttr(axis) : nullptr;
    auto pad = ZeroPadOp::create(builder, reader->getLoc(), padded.getType(),
                                 padded, onAxis);
    setShardings(pad, {sharding});
    padded = pad;
  }
  entry->second = padded;
  return padded;
}

LogicalResult Localize::splitPartialMean(ReduceMeanOp mean) {
  // The input is a block already: the count comes from its global type.
  FailureOr<RankedTensorType> input =
      getSharding(mean.getInput())
          .getGlobalType(mean.getInput().getType(), mesh,
                         [&] { return mean.emitError(); });
  if (failed(input))
    return failure();
  int64_t count = 1;
  for (int64_t axis : mean.getAxes())
    count *= input->getDimSize(axis);
  OpBuilder builder(mean);
  Type element = mean.getType().getElementType();
  auto sum = ReduceSumOp::create(builder, mean.getLoc(), mean.getType(),
                                 mean.getInput(), mean.getAxesAttr(),
                                 mean.getKeepdimsAttr());
  sum->setAttrs(mean->getDiscardableAttrDictionary());
  auto scale = ConstantOp::create(
      builder, mean.getLoc(),
      DenseElementsAttr::get(RankedTensorType::get({}, element),
                             builder.getFloatAttr(element, 1.0 / count)));
  auto scaled =
      MulOp::create(builder, mean.getLoc(), mean.getType(), sum, scale);
  setShardings(scaled, {getResultSharding(mean, 0)});
  mean.replaceAllUsesWith(scaled.getResult());
  mean.erase();
  return success();
}

LogicalResult Localize::viewFactorSwitch(AllToAllOp op) {
  auto type = cast<RankedTensorType>(op.getType());
  ShardingAttr from = getSharding(op.getInput());
  ShardingAttr to = getResultSharding(op, 0);
  if (op.getAxis())
    return op.emitError("cannot lower a switch between two factors of one "
                        "dim on a mesh axis yet: from ")
           << from << " to " << to;
  std::optional<FactorSwitchView> view =
      mlir::dsp::viewFactorSwitch(type, from, to, ranks);
  if (!view)
    return op.emitError("cannot lower the switch from ")
           << from << " to " << to << " for " << ranks << " ranks";
  auto viewType = RankedTensorType::get(view->shape, type.getElementType());
  OpBuilder builder(op);
  auto in = ReshapeOp::create(builder, op.getLoc(),
                              view->from.getLocalType(viewType, ranks),
                              op.getInput());
  setShardings(in, {view->from});
  auto moved = AllToAllOp::create(builder, op.getLoc(),
                                  view->to.getLocalType(viewType, ranks), in,
                                  view->to.getDim(), view->from.getDim(),
                                  nullptr, nullptr, false, IntegerAttr());
  setShardings(moved, {view->to});
  auto out =
      ReshapeOp::create(builder, op.getLoc(), localType(op, mesh), moved);
  setShardings(out, {to});
  op.replaceAllUsesWith(out.getResult());
  op.erase();
  return success();
}

/// Checks that `op`, given its operands' blocks, computes its result's block.
static LogicalResult checkInferredBlock(Operation *op) {
  auto infer = dyn_cast<InferTypeOpInterface>(op);
  if (!infer)
    return success();
  SmallVector<Type> inferred;
  if (failed(infer.inferReturnTypes(
          op->getContext(), op->getLoc(), op->getOperands(),
          op->getRawDictionaryAttrs(), op->getPropertiesStorage(),
          op->getRegions(), inferred)))
    return op->emitError("cannot run on the blocks of its operands");
  if (TypeRange(inferred) != op->getResultTypes())
    return op->emitError("on the blocks of its operands computes ")
           << inferred.front() << ", not its result's block "
           << op->getResult(0).getType();
  return success();
}

LogicalResult Localize::localizeOp(Operation *op) {
  // Constants and weights are whole on every rank.
  if (isa<ConstantOp, WeightOp>(op))
    return success();
  if (op->hasAttr(DSPDialect::kOperandShardingsAttrName) ||
      op->hasAttr(DSPDialect::kReadShardingAttrName))
    return op->emitError("has shardings that no collective converts yet; run "
                         "--dsp-insert-reshards first");
  if (op->getNumResults() != 1 || !getResultSharding(op, 0))
    return op->emitError("a multi-rank program needs every op sharded; run "
                         "--dsp-propagate-sharding and --dsp-insert-reshards "
                         "(or --dsp-pipeline) first");
  auto allToAll = dyn_cast<AllToAllOp>(op);
  if (allToAll && allToAll.getSplitDim() == allToAll.getConcatDim())
    return viewFactorSwitch(allToAll);

  // An op that sums over a split factor must find zeros in its pads.
  bool collective = isCollective(op);
  if (!collective && holdsPartials(getResultSharding(op, 0)))
    for (OpOperand &operand : op->getOpOperands())
      if (llvm::any_of(splitsOf(getSharding(operand.get())),
                       [](ShardingAttr s) { return s.getPad() > 0; }))
        operand.set(zeroPad(operand.get(), op));

  // A slice keeps a split dim whole: its limit there is the block's extent.
  if (auto slice = dyn_cast<SliceOp>(op)) {
    SmallVector<int64_t> limits(slice.getLimits());
    for (ShardingAttr split : splitsOf(getSharding(slice.getInput())))
      limits[split.getDim()] =
          slice.getInput().getType().getDimSize(split.getDim());
    slice.setLimits(limits);
  }

  // A patch conv (stride = kernel) split on a kernel dim: each rank
  // convolves its part of every window, so the step is the part's extent.
  if (auto conv = dyn_cast<ConvOp>(op)) {
    SmallVector<int64_t> strides(conv.getStrides());
    for (ShardingAttr split : splitsOf(getSharding(conv.getWeight())))
      if (split.getDim() >= 2)
        strides[split.getDim() - 2] =
            conv.getWeight().getType().getDimSize(split.getDim());
    conv.setStrides(strides);
  }

  Value result = op->getResult(0);
  result.setType(localType(result, mesh));
  if (!collective && failed(checkInferredBlock(op)))
    return failure();
  if (auto mean = dyn_cast<ReduceMeanOp>(op);
      mean && holdsPartials(getResultSharding(op, 0)))
    return splitPartialMean(mean);
  return success();
}

LogicalResult Localize::localize(func::FuncOp function) {
  if (!function.getBody().hasOneBlock())
    return function.emitError("localization needs a single-block function");
  Block &body = function.getBody().front();
  for (BlockArgument argument : body.getArguments())
    argument.setType(localType(argument, mesh));
  for (Operation &op : llvm::make_early_inc_range(body.without_terminator()))
    if (failed(localizeOp(&op)))
      return failure();
  function.setType(FunctionType::get(function.getContext(),
                                     body.getArgumentTypes(),
                                     body.getTerminator()->getOperandTypes()));
  return success();
}

void Localize::runOnOperation() {
  ModuleOp module = getOperation();
  GroupAttr group = getGroup(module);
  // Without a group there is one rank and the global IR is its IR.
  if (!group || group.getPerRank())
    return;
  ranks = group.getRanks();
  mesh = group.getMeshShape();
  for (auto function : module.getOps<func::FuncOp>())
    if (!function.isExternal() && failed(localize(function)))
      return signalPassFailure();
  module->setAttr(
      DSPDialect::kGroupAttrName,
      GroupAttr::get(module.getContext(), ranks, group.getMesh(), true));
}

} // namespace mlir::dsp
