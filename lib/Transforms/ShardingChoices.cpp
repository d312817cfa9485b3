//===- ShardingChoices.cpp - The graph of sharding choices and costs ------===//

#include "dsp/Transforms/ShardingChoices.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/ShardingPlan.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::dsp;

/// Values this many times smaller than the largest activation are side
/// streams.
constexpr int64_t kSideStreamRatio = 16;

ShardingChoices::ShardingChoices(
    func::FuncOp function, const PlannedOps &planned, FactorClasses &classes,
    const StrategyConstraints &constraints, const CostModel &costModel,
    ArrayRef<int64_t> mesh, bool allowReplication, ArrayRef<KeptResult> kept,
    std::optional<uint64_t> maxPricedReshards)
    : function(function), planned(planned), costModel(costModel), mesh(mesh),
      allowReplication(allowReplication), kept(kept) {
  function.getBody().front().walk([&](Operation *op) {
    for (Value result : op->getResults())
      if (auto type = dyn_cast<RankedTensorType>(result.getType()))
        if (!isModelData(result))
          largestActivation =
              std::max(largestActivation, type.getNumElements());
  });
  for (Operation *op : planned.getOps()) {
    SmallVector<OpStrategy> strategies =
        strategiesOf(op, *planned.ruleOf(op), classes, constraints);
    std::vector<double> unary;
    for (const OpStrategy &s : strategies)
      unary.push_back(s.seconds);
    opVariable[op] = graph.addVariable(unary);
    opStrategies[op] = std::move(strategies);
  }
  addArguments();
  addReads(maxPricedReshards);
  if (!pricingStopped)
    addResults();
}

bool ShardingChoices::isSideStream(Value value) const {
  return cast<RankedTensorType>(value.getType()).getNumElements() *
             kSideStreamRatio <
         largestActivation;
}

ShardingAttr ShardingChoices::placeSharding(Value value,
                                            std::optional<FactorPlace> place,
                                            bool partial, int64_t ranks) const {
  MLIRContext *context = value.getContext();
  if (!place)
    return partial ? ShardingAttr::getPartial(context)
                   : ShardingAttr::getReplicated(context);
  int64_t padded = (place->size + ranks - 1) / ranks * ranks;
  // Blocks of an evenly split factor hold the minor factors whole: the
  // layout is that of a split of the factor and everything inside it, so
  // that is the one name it gets.
  if (padded == place->size)
    return ShardingAttr::getSplit(context, place->dim, place->outer,
                                  place->size * place->inner, 1, 0);
  return ShardingAttr::getSplit(context, place->dim, place->outer, place->size,
                                place->inner, padded - place->size);
}

double ShardingChoices::reshardSeconds(Value value, ShardingAttr from,
                                       ShardingAttr to) const {
  auto [it, inserted] =
      reshardCosts.try_emplace({value.getType(), from, to}, 0.0);
  if (inserted)
    it->second = uncachedReshardSeconds(value, from, to);
  return it->second;
}

double ShardingChoices::uncachedReshardSeconds(Value value, ShardingAttr from,
                                               ShardingAttr to) const {
  if (from.isCompound() || to.isCompound())
    return meshReshardSeconds(value, from, to);
  auto type = cast<RankedTensorType>(value.getType());
  std::optional<Reshard> reshard = reshardFor(type, from, to, costModel.ranks);
  if (!reshard)
    return 0;
  // A switch between factors of one dim that no view lowers is not a plan.
  if (from.isSplit() && to.isSplit() && from.getDim() == to.getDim() &&
      !viewFactorSwitch(type, from, to, costModel.ranks))
    return std::numeric_limits<double>::infinity();
  return costModel.collectiveSeconds(reshard->kind, reshard->bytes);
}

double ShardingChoices::meshReshardSeconds(Value value, ShardingAttr from,
                                           ShardingAttr to) const {
  auto type = cast<RankedTensorType>(value.getType());
  FailureOr<SmallVector<MeshStep>> steps =
      meshReshardSteps(type, from, to, mesh);
  if (failed(steps))
    return std::numeric_limits<double>::infinity();
  double seconds = 0;
  ShardingAttr current = from;
  for (const MeshStep &step : *steps) {
    AxisView view = viewOnAxis(type, current, step.result, mesh, step.axis);
    current = step.result;
    std::optional<Reshard> reshard =
        reshardFor(view.type, view.from, view.to, view.ranks);
    if (!reshard)
      continue;
    // --dsp-localize lowers no switch between factors of one dim on an axis.
    if (view.from.isSplit() && view.to.isSplit() &&
        view.from.getDim() == view.to.getDim())
      return std::numeric_limits<double>::infinity();
    CostModel axisModel = costModel;
    axisModel.ranks = view.ranks;
    seconds += axisModel.collectiveSeconds(reshard->kind, reshard->bytes);
  }
  return seconds;
}

const std::vector<double> &ShardingChoices::edgeCosts(Value value,
                                                      const ChoiceLayouts &from,
                                                      const ChoiceLayouts &to) {
  auto key = [](const ChoiceLayouts &layouts) {
    std::vector<const void *> result;
    for (unsigned index : layouts.ofChoice)
      result.push_back(layouts.distinct[index].getAsOpaquePointer());
    return result;
  };
  auto [it, inserted] = edgeTables.try_emplace(
      EdgeKey{value.getType().getAsOpaquePointer(), key(from), key(to)});
  if (!inserted)
    return it->second;
  std::vector<double> distinctCosts;
  for (ShardingAttr source : from.distinct)
    for (ShardingAttr target : to.distinct)
      distinctCosts.push_back(reshardSeconds(value, source, target));
  std::vector<double> &costs = it->second;
  costs.reserve(from.ofChoice.size() * to.ofChoice.size());
  for (unsigned source : from.ofChoice)
    for (unsigned target : to.ofChoice)
      costs.push_back(distinctCosts[source * to.distinct.size() + target]);
  return costs;
}

ShardingChoices::ChoiceLayouts::ChoiceLayouts(
    ArrayRef<ShardingAttr> perChoice) {
  DenseMap<ShardingAttr, unsigned> indexOf;
  for (ShardingAttr layout : perChoice) {
    auto [it, inserted] = indexOf.try_emplace(layout, distinct.size());
    if (inserted)
      distinct.push_back(layout);
    ofChoice.push_back(it->second);
  }
}

ShardingChoices::OpStrategy ShardingChoices::ringStrategy(AttentionOp attention,
                                                          double flops) const {
  // Over all ranks, or over the first mesh axis while the second splits the
  // heads (usp).
  bool onMesh = mesh.size() >= 2;
  int64_t ringRanks = onMesh ? mesh[0] : costModel.ranks;
  int64_t headRanks = onMesh ? mesh[1] : 1;
  auto blocksOf = [&](Value value) {
    auto type = cast<RankedTensorType>(value.getType());
    ShardingAttr sequence = placeSharding(
        value, FactorPlace{2, 1, type.getDimSize(2), 1}, false, ringRanks);
    if (!onMesh)
      return sequence;
    ShardingAttr heads = placeSharding(
        value, FactorPlace{1, 1, type.getDimSize(1), 1}, false, headRanks);
    return ShardingAttr::getCompound(value.getContext(), {sequence, heads});
  };
  OpStrategy ring;
  for (Value operand : attention->getOperands())
    ring.operands.push_back(blocksOf(operand));
  ring.result = blocksOf(attention.getOutput());
  // Each rank computes its query rows of its heads against every key but
  // the padding.
  auto shareOf = [](int64_t size, int64_t ranks) {
    return double((size + ranks - 1) / ranks) / double(size);
  };
  ArrayRef<int64_t> query = attention.getQuery().getType().getShape();
  ring.share = shareOf(query[2], ringRanks) * shareOf(query[1], headRanks);
  SmallVector<int64_t> groupMesh =
      onMesh ? SmallVector<int64_t>(mesh) : SmallVector<int64_t>{ringRanks};
  double computeSeconds = costModel.opSeconds(
      flops * ring.share,
      opBytesPerRank(attention, ring.operands, ring.result, groupMesh),
      getElementTypeOrSelf(attention.getOutput()));
  ring.seconds =
      costModel.ringSeconds(computeSeconds,
                            ringStepBytes(attention.getKey().getType(),
                                          attention.getValue().getType(),
                                          ring.operands[1], groupMesh),
                            ringRanks);
  return ring;
}

SmallVector<ShardingChoices::OpStrategy>
ShardingChoices::strategiesOf(Operation *op, const ShardingRule &rule,
                              FactorClasses &classes,
                              const StrategyConstraints &constraints) {
  double flops = opFlops(op);
  MLIRContext *context = op->getContext();
  int64_t ranks = costModel.ranks;
  OpStrategy replicated;
  for (size_t i = 0; i < op->getNumOperands(); ++i)
    replicated.operands.push_back(ShardingAttr::getReplicated(context));
  replicated.result = ShardingAttr::getReplicated(context);
  Type elementType = getElementTypeOrSelf(op->getResult(0));
  replicated.seconds = costModel.opSeconds(
      flops, opBytesPerRank(op, {}, nullptr, ranks), elementType);
  // An op on model data alone runs whole on every rank, like the model data
  // it reads: each reader slices the part it needs, so its value never moves
  // and never ties its readers' choices together.
  if (!constraints.distributes() || ranks == 1 ||
      planned.isFromModelData(op->getResult(0)))
    return {replicated};

  bool hasSequenceFactor = false;
  SmallVector<OpStrategy> strategies;
  if (mesh.size() < 2) {
    strategies = factorStrategies(op, rule, classes, constraints, ranks,
                                  hasSequenceFactor);
  } else {
    SmallVector<SmallVector<OpStrategy>> perAxis;
    for (int64_t size : mesh)
      perAxis.push_back(factorStrategies(op, rule, classes, constraints, size,
                                         hasSequenceFactor));
    strategies = meshStrategies(op, perAxis);
  }
  OpConstraint constraint = constraints.constraintOf(op);
  if (constraint.ring == OpConstraint::Ring::Only)
    return {ringStrategy(cast<AttentionOp>(op), flops)};
  if (constraint.ring == OpConstraint::Ring::Choice)
    strategies.push_back(ringStrategy(cast<AttentionOp>(op), flops));
  // Distribute every op that has a sequence or batch factor; the
  // restricted ops of the classic strategies have no other choice.
  bool forced = constraint.only.has_value() ||
                (hasSequenceFactor && !isSideStream(op->getResult(0)) &&
                 !allowReplication);
  if (!forced || strategies.empty())
    strategies.insert(strategies.begin(), replicated);
  return strategies;
}

SmallVector<ShardingChoices::OpStrategy>
ShardingChoices::factorStrategies(Operation *op, const ShardingRule &rule,
                                  FactorClasses &classes,
                                  const StrategyConstraints &constraints,
                                  int64_t ranks, bool &hasSequenceFactor) {
  double flops = opFlops(op);
  Type elementType = getElementTypeOrSelf(op->getResult(0));
  RuleTensors tensors = tensorsOf(op, rule);
  OpConstraint constraint = constraints.constraintOf(op);
  SmallVector<OpStrategy> strategies;
  for (auto [f, factor] : llvm::enumerate(rule.getFactors())) {
    if (factor.kind == FactorKind::Mixing || factor.size < 2)
      continue;
    int64_t index = f;
    // The factor whole, and each part of it that a neighbour's rule names
    // (the heads inside a fused QKV projection's columns, say): (outer
    // within the factor, size).
    llvm::SetVector<std::pair<int64_t, int64_t>> splits;
    splits.insert({1, factor.size});
    for (auto [value, dims] : tensors) {
      auto place = placeOf(rule, *dims, index);
      if (!place)
        continue;
      for (auto [outer, size, inner] : classes.placesOn(value, place->dim)) {
        if (size < 2 || outer % place->outer != 0)
          continue;
        int64_t within = outer / place->outer;
        if (place->size % (within * size) == 0)
          splits.insert({within, size});
      }
    }
    for (auto [within, size] : splits) {
      // The split's place in each tensor the factor appears in.
      auto subPlace = [&, within = within,
                       size = size](const ShardingRule::TensorFactors &dims)
          -> std::optional<FactorPlace> {
        auto place = placeOf(rule, dims, index);
        if (!place)
          return std::nullopt;
        return FactorPlace{place->dim, place->outer * within, size,
                           place->size / (within * size) * place->inner};
      };
      bool weightOrHead = false;
      for (auto [value, dims] : tensors)
        if (auto place = subPlace(*dims))
          weightOrHead |= classes.isModel(value, *place);
      if (!constraint.allows(rule.getRole(index), weightOrHead))
        continue;
      hasSequenceFactor |= !weightOrHead;

      OpStrategy strategy;
      for (auto [i, dims] : llvm::enumerate(rule.getOperands()))
        strategy.operands.push_back(
            placeSharding(op->getOperand(i), subPlace(dims), false, ranks));
      strategy.result =
          placeSharding(op->getResult(0), subPlace(rule.getResults()[0]),
                        factor.kind == FactorKind::Reduction, ranks);
      int64_t padded = (size + ranks - 1) / ranks * ranks;
      strategy.share = double(padded) / size / double(ranks);
      strategy.seconds = costModel.opSeconds(
          flops * strategy.share,
          opBytesPerRank(op, strategy.operands, strategy.result, ranks),
          elementType);
      strategies.push_back(std::move(strategy));
    }
  }
  return strategies;
}

SmallVector<ShardingChoices::OpStrategy>
ShardingChoices::meshStrategies(Operation *op,
                                ArrayRef<SmallVector<OpStrategy>> perAxis) {
  // The op's kind, attributes and types fix its FLOPs and bytes; with the
  // strategies of each axis they fix the combinations and their costs.
  std::vector<const void *> key = {
      op->getName().getAsOpaquePointer(),
      op->getAttrDictionary().getAsOpaquePointer()};
  for (Type type : op->getOperandTypes())
    key.push_back(type.getAsOpaquePointer());
  key.push_back(op->getResult(0).getType().getAsOpaquePointer());
  for (ArrayRef<OpStrategy> axis : perAxis) {
    key.push_back(nullptr);
    for (const OpStrategy &s : axis) {
      for (ShardingAttr operand : s.operands)
        key.push_back(operand.getAsOpaquePointer());
      key.push_back(s.result.getAsOpaquePointer());
    }
  }
  auto [it, inserted] = meshStrategyCache.try_emplace(std::move(key));
  if (inserted)
    it->second = combineAxes(op, perAxis);
  return it->second;
}

SmallVector<ShardingChoices::OpStrategy>
ShardingChoices::combineAxes(Operation *op,
                             ArrayRef<SmallVector<OpStrategy>> perAxis) const {
  MLIRContext *context = op->getContext();
  // Per axis, its part of each operand and of the result, and the share.
  struct Parts {
    SmallVector<SmallVector<ShardingAttr>> operands;
    SmallVector<ShardingAttr> result;
    double share = 1;
  };
  OpStrategy none;
  none.operands.assign(op->getNumOperands(),
                       ShardingAttr::getReplicated(context));
  none.result = ShardingAttr::getReplicated(context);
  SmallVector<Parts> combinations(1);
  combinations.front().operands.resize(op->getNumOperands());
  for (ArrayRef<OpStrategy> axis : perAxis) {
    SmallVector<const OpStrategy *> choices = {&none};
    for (const OpStrategy &s : axis)
      choices.push_back(&s);
    SmallVector<Parts> extended;
    for (const Parts &parts : combinations)
      for (const OpStrategy *s : choices) {
        Parts next = parts;
        for (auto [i, operand] : llvm::enumerate(s->operands))
          next.operands[i].push_back(operand);
        next.result.push_back(s->result);
        next.share *= s->share;
        extended.push_back(std::move(next));
      }
    combinations = std::move(extended);
  }
  // Combinations share the parts of each value: each value's compound
  // sharding, its check and its bytes are worked out once per parts.
  struct Placed {
    ShardingAttr sharding;
    bool valid;
  };
  std::map<std::vector<const void *>, Placed> placedValues;
  auto place = [&](Value value, ArrayRef<ShardingAttr> axes) -> const Placed & {
    std::vector<const void *> key = {value.getAsOpaquePointer()};
    for (ShardingAttr axis : axes)
      key.push_back(axis.getAsOpaquePointer());
    auto [it, inserted] = placedValues.try_emplace(std::move(key));
    if (!inserted)
      return it->second;
    auto type = cast<RankedTensorType>(value.getType());
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    ShardingAttr sharding = ShardingAttr::getCompound(
        context, nestEvenSplits(axes, type.getShape(), mesh));
    it->second = {sharding,
                  !sharding.isCompound() ||
                      sharding.getMeshLayout(shape, mesh).check(shape).empty()};
    return it->second;
  };
  DenseMap<std::pair<Value, Attribute>, double> valueBytes;
  auto bytesOf = [&](Value value, ShardingAttr sharding) {
    auto [it, inserted] = valueBytes.try_emplace({value, sharding}, 0.0);
    if (inserted)
      it->second = valueBytesPerRank(value, sharding, mesh);
    return it->second;
  };
  double flops = opFlops(op);
  Type elementType = getElementTypeOrSelf(op->getResult(0));
  SmallVector<OpStrategy> strategies;
  for (const Parts &parts : combinations) {
    OpStrategy strategy;
    const Placed &result = place(op->getResult(0), parts.result);
    strategy.result = result.sharding;
    bool ok = result.valid;
    for (auto [i, operand] : llvm::enumerate(parts.operands)) {
      const Placed &placed = place(op->getOperand(i), operand);
      strategy.operands.push_back(placed.sharding);
      ok &= placed.valid;
    }
    if (!ok || parts.share == 1)
      continue;
    strategy.share = parts.share;
    strategy.seconds = costModel.opSeconds(
        flops * strategy.share,
        opBytesPerRank(op, strategy.operands, strategy.result, bytesOf),
        elementType);
    strategies.push_back(std::move(strategy));
  }
  return strategies;
}

void ShardingChoices::addArguments() {
  Block &body = function.getBody().front();
  for (BlockArgument argument : body.getArguments()) {
    // Each rank reads only its block of an input: whole reads are for side
    // streams and inputs no user can take in blocks.
    llvm::SetVector<ShardingAttr> choices;
    for (OpOperand &use : argument.getUses()) {
      auto it = opStrategies.find(use.getOwner());
      if (it == opStrategies.end())
        continue;
      for (const OpStrategy &s : it->second)
        if (s.operands[use.getOperandNumber()].isSplit() ||
            s.operands[use.getOperandNumber()].isCompound())
          choices.insert(s.operands[use.getOperandNumber()]);
    }
    if (choices.empty() || isSideStream(argument) || allowReplication)
      choices.insert(ShardingAttr::getReplicated(function.getContext()));
    argumentChoices[argument] =
        SmallVector<ShardingAttr>(choices.begin(), choices.end());
  }
  // An argument may be read in any block its users want, at no cost.
  for (BlockArgument argument : body.getArguments())
    argumentVariable[argument] = graph.addVariable(
        std::vector<double>(argumentChoices[argument].size(), 0.0));
}

SmallVector<ShardingAttr> ShardingChoices::producerChoices(Value value) {
  if (auto argument = dyn_cast<BlockArgument>(value))
    return argumentChoices[argument];
  SmallVector<ShardingAttr> results;
  for (const OpStrategy &s : opStrategies[value.getDefiningOp()])
    results.push_back(s.result);
  return results;
}

int ShardingChoices::producerVariable(Value value) {
  if (auto argument = dyn_cast<BlockArgument>(value))
    return argumentVariable[argument];
  return opVariable[value.getDefiningOp()];
}

void ShardingChoices::addReads(std::optional<uint64_t> maxPricedReshards) {
  // A value read by several consumers is converted once per layout they
  // need and the conversions are shared, so it gets a variable of its own:
  // the layout it is converted to, which every consumer reads from. Its
  // edges charge one conversion from the producer and one more for a
  // consumer that needs yet another layout. Values read once connect to
  // the producer directly.
  llvm::MapVector<Value, SmallVector<OpOperand *>> readers;
  for (Operation *op : planned.getOps())
    for (OpOperand &operand : op->getOpOperands())
      if (!planned.isFromModelData(operand.get()))
        readers[operand.get()].push_back(&operand);
  auto needOf = [&](OpOperand *operand, const OpStrategy &s) {
    return s.operands[operand->getOperandNumber()];
  };
  // The edges are listed first and priced after: past the budget, the
  // conversions they need are counted, never priced.
  struct Read {
    Value value;
    int from, to;
    ChoiceLayouts fromLayouts, toLayouts;
  };
  std::vector<Read> reads;
  auto addRead = [&](Value value, int fromVariable, ArrayRef<ShardingAttr> from,
                     OpOperand *operand) {
    SmallVector<ShardingAttr> needs;
    for (const OpStrategy &s : opStrategies[operand->getOwner()])
      needs.push_back(needOf(operand, s));
    reads.push_back({value, fromVariable, opVariable[operand->getOwner()],
                     ChoiceLayouts(from), ChoiceLayouts(needs)});
  };
  for (auto &[value, operands] : readers) {
    SmallVector<ShardingAttr> from = producerChoices(value);
    if (operands.size() == 1) {
      addRead(value, producerVariable(value), from, operands.front());
      continue;
    }
    llvm::SetVector<ShardingAttr> layouts(from.begin(), from.end());
    for (OpOperand *operand : operands)
      for (const OpStrategy &s : opStrategies[operand->getOwner()])
        layouts.insert(needOf(operand, s));
    SmallVector<ShardingAttr> layoutList(layouts.begin(), layouts.end());
    int layoutVariable =
        graph.addVariable(std::vector<double>(layoutList.size(), 0.0));
    layoutVariables.push_back({value, layoutVariable, layoutList});
    reads.push_back({value, producerVariable(value), layoutVariable,
                     ChoiceLayouts(from), ChoiceLayouts(layoutList)});
    for (OpOperand *operand : operands)
      addRead(value, layoutVariable, layoutList, operand);
  }
  if (maxPricedReshards) {
    DenseSet<std::tuple<Type, Attribute, Attribute>> needed;
    for (const Read &read : reads)
      for (ShardingAttr source : read.fromLayouts.distinct)
        for (ShardingAttr target : read.toLayouts.distinct)
          if (needed.insert({read.value.getType(), source, target}).second &&
              needed.size() > *maxPricedReshards) {
            pricingStopped = true;
            return;
          }
  }
  for (const Read &read : reads)
    graph.addEdge(read.from, read.to,
                  edgeCosts(read.value, read.fromLayouts, read.toLayouts));
}

void ShardingChoices::addResults() {
  auto replicated = ShardingAttr::getReplicated(function.getContext());
  Block &body = function.getBody().front();
  for (OpOperand &returned : body.getTerminator()->getOpOperands()) {
    Value value = returned.get();
    if (planned.isFromModelData(value))
      continue;
    SmallVector<ShardingAttr> from = producerChoices(value);
    int variable = producerVariable(value);
    const KeptResult *pin = llvm::find_if(kept, [&](const KeptResult &k) {
      return k.result == returned.getOperandNumber();
    });
    if (pin != kept.end()) {
      BlockArgument argument = body.getArgument(pin->argument);
      int target = argumentVariable[argument];
      // An argument returned as it is keeps its own sharding.
      if (target == variable)
        continue;
      ArrayRef<ShardingAttr> to = argumentChoices[argument];
      std::vector<double> costs;
      for (ShardingAttr source : from)
        for (ShardingAttr layout : to)
          costs.push_back(reshardSeconds(value, source, layout));
      graph.addEdge(variable, target, costs);
      continue;
    }
    // Gathered once at the end.
    std::vector<double> diagonal(from.size() * from.size(), 0.0);
    for (size_t i = 0; i < from.size(); ++i)
      diagonal[i * from.size() + i] =
          reshardSeconds(value, from[i], replicated);
    graph.addEdge(variable, variable, diagonal);
  }
}

void ShardingChoices::apply(const CostGraph::Solution &solution) {
  MLIRContext *context = function.getContext();
  for (Operation *op : planned.getOps()) {
    const OpStrategy &chosen =
        opStrategies[op][solution.choices[opVariable[op]]];
    setShardings(op, {chosen.result});
    SmallVector<Attribute> needs(chosen.operands.begin(),
                                 chosen.operands.end());
    op->setAttr(DSPDialect::kOperandShardingsAttrName,
                ArrayAttr::get(context, needs));
  }
  auto argumentSharding = [&](BlockArgument argument) {
    return argumentChoices[argument]
                          [solution.choices[argumentVariable[argument]]];
  };
  for (BlockArgument argument : function.getBody().getArguments())
    function.setArgAttr(argument.getArgNumber(), DSPDialect::kShardingAttrName,
                        argumentSharding(argument));
  for (const KeptResult &pin : kept)
    function.setResultAttr(
        pin.result, DSPDialect::kShardingAttrName,
        argumentSharding(function.getArgument(pin.argument)));
  // Where the solution converts a value before its readers, insertion must
  // take the same route.
  for (const LayoutVariable &layout : layoutVariables) {
    ShardingAttr read = layout.layouts[solution.choices[layout.variable]];
    if (read == getSharding(layout.value))
      continue;
    if (auto argument = dyn_cast<BlockArgument>(layout.value))
      function.setArgAttr(argument.getArgNumber(),
                          DSPDialect::kReadShardingAttrName, read);
    else
      layout.value.getDefiningOp()->setAttr(DSPDialect::kReadShardingAttrName,
                                            read);
  }
}
