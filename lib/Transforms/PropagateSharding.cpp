//===- PropagateSharding.cpp - Choose shardings by exact cost minimum -----===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/CostModel.h"
#include "dsp/Transforms/ExactSolver.h"
#include "dsp/Transforms/Passes.h"
#include "dsp/Transforms/ShardingPlan.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSwitch.h"
#include <cmath>

namespace mlir::dsp {
#define GEN_PASS_DEF_PROPAGATESHARDING
#include "dsp/Transforms/Passes.h.inc"

namespace {
enum class Strategy { Auto, Dsp, Ulysses, MegatronSP, None };

std::optional<Strategy> parseStrategy(StringRef name) {
  return llvm::StringSwitch<std::optional<Strategy>>(name)
      .Case("auto", Strategy::Auto)
      .Case("dsp", Strategy::Dsp)
      .Case("ulysses", Strategy::Ulysses)
      .Case("megatron-sp", Strategy::MegatronSP)
      .Case("none", Strategy::None)
      .Default(std::nullopt);
}

/// Where one factor of a rule sits in one tensor: a dim, and the products of
/// the factors before and after it in that dim.
struct FactorPlace {
  int64_t dim, outer, size, inner;
};

std::optional<FactorPlace> placeOf(const ShardingRule &rule,
                                   const ShardingRule::TensorFactors &dims,
                                   int64_t factor) {
  for (auto [d, factors] : llvm::enumerate(dims)) {
    auto it = llvm::find(factors, factor);
    if (it == factors.end())
      continue;
    int64_t outer = 1, inner = 1;
    for (auto f = factors.begin(); f != it; ++f)
      outer *= rule.getFactors()[*f].size;
    for (auto f = std::next(it); f != factors.end(); ++f)
      inner *= rule.getFactors()[*f].size;
    return FactorPlace{static_cast<int64_t>(d), outer,
                       rule.getFactors()[factor].size, inner};
  }
  return std::nullopt;
}

/// One way to run an op: the factor it shards (none: -1), what it needs of
/// its operands and what its result becomes.
struct OpStrategy {
  int64_t factor = -1;
  SmallVector<ShardingAttr> operands;
  ShardingAttr result;
  double seconds = 0;
};

/// Identifies factor places that must be sharded together or not at all,
/// to tell sequence and batch factors from those of weights and heads.
class FactorClasses {
public:
  using Key = std::tuple<Value, int64_t, int64_t, int64_t>;

  void link(Value a, FactorPlace pa, Value b, FactorPlace pb) {
    classes.unionSets(id(a, pa), id(b, pb));
  }
  void seed(Value value, FactorPlace place) { seeds.push_back(id(value, place)); }
  /// Places of one dim of one value that overlap share a class: sharding one
  /// moves the other.
  void linkOverlaps() {
    for (auto &[dim, places] : byDim)
      for (size_t i = 0; i < places.size(); ++i)
        for (size_t j = i + 1; j < places.size(); ++j) {
          auto [oi, si, ii] = places[i].second;
          auto [oj, sj, ij] = places[j].second;
          double lo = std::max(std::log2(double(oi)), std::log2(double(oj)));
          double hi = std::min(std::log2(double(oi * si)),
                               std::log2(double(oj * sj)));
          if (hi - lo > 1e-9)
            classes.unionSets(places[i].first, places[j].first);
        }
    for (unsigned s : seeds)
      modelLeaders.insert(classes.getLeaderValue(s));
  }
  bool isModel(Value value, FactorPlace place) {
    return modelLeaders.contains(classes.getLeaderValue(id(value, place)));
  }

private:
  unsigned id(Value value, FactorPlace place) {
    Key key{value, place.dim, place.outer, place.size};
    auto [it, inserted] = ids.try_emplace(key, ids.size());
    if (inserted) {
      classes.insert(it->second);
      byDim[{value, place.dim}].push_back(
          {it->second, {place.outer, place.size, place.inner}});
    }
    return it->second;
  }

  DenseMap<Key, unsigned> ids;
  llvm::EquivalenceClasses<unsigned> classes;
  DenseMap<std::pair<Value, int64_t>,
           std::vector<std::pair<unsigned, std::tuple<int64_t, int64_t,
                                                      int64_t>>>>
      byDim;
  SmallVector<unsigned> seeds;
  llvm::DenseSet<unsigned> modelLeaders;
};

bool isWeight(Value value) {
  return value.getDefiningOp<ConstantOp>() || value.getDefiningOp<WeightOp>();
}

/// Ops that only move or rescale data between a projection and attention.
bool isPassThrough(Operation *op) {
  return isa<ReshapeOp, TransposeOp, AddOp, MulOp, GatherOp, SliceOp>(op);
}

/// A matmul whose result reaches an attention operand through data
/// movement only: a Q, K or V projection.
bool feedsAttention(MatMulOp matmul) {
  SmallVector<Value> worklist = {matmul.getOutput()};
  for (int depth = 0; depth < 8 && !worklist.empty(); ++depth) {
    SmallVector<Value> next;
    for (Value v : worklist)
      for (Operation *user : v.getUsers()) {
        if (isa<AttentionOp>(user))
          return true;
        if (isPassThrough(user))
          next.push_back(user->getResult(0));
      }
    worklist = std::move(next);
  }
  return false;
}

/// A matmul whose input comes from an attention result through data
/// movement only: the output projection.
bool consumesAttention(MatMulOp matmul) {
  Value v = matmul.getLhs();
  for (int depth = 0; depth < 8; ++depth) {
    Operation *def = v.getDefiningOp();
    if (!def)
      return false;
    if (isa<AttentionOp>(def))
      return true;
    if (!isa<ReshapeOp, TransposeOp>(def))
      return false;
    v = def->getOperand(0);
  }
  return false;
}

struct PropagateSharding
    : impl::PropagateShardingBase<PropagateSharding> {
  using PropagateShardingBase::PropagateShardingBase;

  void runOnOperation() override;

private:
  LogicalResult setUpCostModel(ModuleOp module);
  SmallVector<OpStrategy> strategiesOf(Operation *op, const ShardingRule &rule,
                                       Strategy mode, FactorClasses &classes);
  ShardingAttr placeSharding(Value value, std::optional<FactorPlace> place,
                             bool partial);
  /// The cost of turning `from` into `to` on `value`.
  double reshardSeconds(Value value, ShardingAttr from, ShardingAttr to);

  CostModel model;
};
} // namespace

LogicalResult PropagateSharding::setUpCostModel(ModuleOp module) {
  model.ranks = ranks;
  if (!model.applyPreset(preset))
    return module.emitError("unknown link preset '")
           << preset << "'; use nvlink or infiniband";
  if (latencyUs >= 0)
    model.latency = latencyUs * 1e-6;
  if (busBandwidthGBs > 0)
    model.busBandwidth = busBandwidthGBs * 1e9;
  if (tflops <= 0)
    return module.emitError("tflops must be positive");
  model.flopsPerSecond = tflops * 1e12;
  return success();
}

ShardingAttr PropagateSharding::placeSharding(Value value,
                                              std::optional<FactorPlace> place,
                                              bool partial) {
  MLIRContext *context = value.getContext();
  if (!place)
    return partial ? ShardingAttr::getPartial(context)
                   : ShardingAttr::getReplicated(context);
  int64_t padded = (place->size + ranks - 1) / ranks * ranks;
  return ShardingAttr::getSplit(context, place->dim, place->outer, place->size,
                                place->inner, padded - place->size);
}

double PropagateSharding::reshardSeconds(Value value, ShardingAttr from,
                                         ShardingAttr to) {
  std::optional<CollectiveKind> kind = collectiveFor(from, to);
  if (!kind)
    return 0;
  return model.collectiveSeconds(
      *kind, reshardBytes(cast<RankedTensorType>(value.getType()), from, to));
}

SmallVector<OpStrategy>
PropagateSharding::strategiesOf(Operation *op, const ShardingRule &rule,
                                Strategy mode, FactorClasses &classes) {
  SmallVector<OpStrategy> strategies;
  double flops = opFlops(op);
  MLIRContext *context = op->getContext();
  OpStrategy replicated;
  for (size_t i = 0; i < op->getNumOperands(); ++i)
    replicated.operands.push_back(ShardingAttr::getReplicated(context));
  replicated.result = ShardingAttr::getReplicated(context);
  replicated.seconds = model.computeSeconds(flops);
  strategies.push_back(replicated);
  if (mode == Strategy::None || ranks == 1)
    return strategies;

  // The factors an op of this kind may shard under the strategy.
  SmallVector<int64_t> allowed;
  auto attention = dyn_cast<AttentionOp>(op);
  auto matmul = dyn_cast<MatMulOp>(op);
  bool headsOnly = attention && (mode == Strategy::Ulysses ||
                                 mode == Strategy::MegatronSP);
  bool megatronColumns =
      matmul && mode == Strategy::MegatronSP && feedsAttention(matmul);
  bool megatronRows =
      matmul && mode == Strategy::MegatronSP && consumesAttention(matmul);
  for (auto [f, factor] : llvm::enumerate(rule.getFactors())) {
    if (factor.kind == FactorKind::Mixing || factor.size < 2)
      continue;
    int64_t index = f;
    auto inResult = placeOf(rule, rule.getResults()[0], index);
    if (headsOnly) {
      // The heads are dim 1 of the attention's operands.
      auto place = placeOf(rule, rule.getOperands()[0], index);
      if (!place || place->dim != 1)
        continue;
    } else if (megatronColumns) {
      int64_t lastDim =
          cast<RankedTensorType>(op->getResult(0).getType()).getRank() - 1;
      if (!inResult || inResult->dim != lastDim)
        continue;
    } else if (megatronRows) {
      if (factor.kind != FactorKind::Reduction)
        continue;
    } else if (mode != Strategy::Auto) {
      // Sequence and batch factors only.
      bool model = false;
      for (auto [i, dims] : llvm::enumerate(rule.getOperands()))
        if (auto place = placeOf(rule, dims, index))
          model |= classes.isModel(op->getOperand(i), *place);
      if (inResult)
        model |= classes.isModel(op->getResult(0), *inResult);
      if (model)
        continue;
    }
    allowed.push_back(index);
  }
  // Distribute every op that has a sequence or batch factor.
  bool hasSequenceFactor = llvm::any_of(allowed, [&](int64_t f) {
    for (auto [i, dims] : llvm::enumerate(rule.getOperands()))
      if (auto place = placeOf(rule, dims, f))
        if (classes.isModel(op->getOperand(i), *place))
          return false;
    auto place = placeOf(rule, rule.getResults()[0], f);
    return !place || !classes.isModel(op->getResult(0), *place);
  });
  if (headsOnly || megatronColumns || megatronRows ||
      (hasSequenceFactor && !allowReplication))
    strategies.clear();

  for (int64_t f : allowed) {
    OpStrategy strategy;
    strategy.factor = f;
    for (auto [i, dims] : llvm::enumerate(rule.getOperands()))
      strategy.operands.push_back(
          placeSharding(op->getOperand(i), placeOf(rule, dims, f), false));
    bool reduction = rule.getFactors()[f].kind == FactorKind::Reduction;
    strategy.result = placeSharding(
        op->getResult(0), placeOf(rule, rule.getResults()[0], f), reduction);
    int64_t size = rule.getFactors()[f].size;
    int64_t padded = (size + ranks - 1) / ranks * ranks;
    strategy.seconds = model.computeSeconds(flops * double(padded) / size /
                                            double(ranks));
    strategies.push_back(std::move(strategy));
  }
  if (strategies.empty())
    strategies.push_back(replicated);
  return strategies;
}

void PropagateSharding::runOnOperation() {
  ModuleOp module = getOperation();
  if (ranks < 1) {
    module.emitError() << "ranks must be at least 1, got " << ranks;
    return signalPassFailure();
  }
  std::optional<Strategy> mode = parseStrategy(strategy);
  if (!mode) {
    module.emitError() << "unknown strategy '" << strategy
                       << "'; use auto, dsp, ulysses, megatron-sp or none";
    return signalPassFailure();
  }
  int64_t existing = getGroupRanks(module);
  if (existing != 0 && existing != ranks) {
    module.emitError() << "the module already has a device group of "
                       << existing << " ranks; cannot plan it for " << ranks;
    return signalPassFailure();
  }
  if (failed(setUpCostModel(module)))
    return signalPassFailure();
  MLIRContext *context = &getContext();
  module->setAttr(DSPDialect::kGroupAttrName, GroupAttr::get(context, ranks));
  module->setAttr(DSPDialect::kCostModelAttrName, costModelAttr(context, model));

  for (auto function : module.getOps<func::FuncOp>()) {
    if (function.isExternal())
      continue;
    if (!function.getBody().hasOneBlock()) {
      function.emitError("sharding propagation needs a single-block function");
      return signalPassFailure();
    }
    Block &body = function.getBody().front();

    // The ops to plan, their rules, and the classes of their factors.
    SmallVector<Operation *> ops;
    DenseMap<Operation *, ShardingRule> rules;
    FactorClasses classes;
    for (Operation &op : body) {
      if (isa<ConstantOp, WeightOp, func::ReturnOp>(op))
        continue;
      auto ruleOp = dyn_cast<ShardingRuleOpInterface>(op);
      if (!ruleOp || op.getNumResults() != 1) {
        op.emitError("sharding propagation handles dsp ops with one result "
                     "only");
        return signalPassFailure();
      }
      ShardingRule rule = ruleOp.getShardingRule();
      if (failed(rule.verify(&op)))
        return signalPassFailure();
      // Link every place of each factor; seed weight and head factors.
      for (size_t f = 0; f < rule.getFactors().size(); ++f) {
        std::optional<std::pair<Value, FactorPlace>> first;
        auto visit = [&](Value value, const ShardingRule::TensorFactors &dims) {
          auto place = placeOf(rule, dims, f);
          if (!place)
            return;
          if (first)
            classes.link(first->first, first->second, value, *place);
          else
            first = {value, *place};
        };
        for (auto [i, dims] : llvm::enumerate(rule.getOperands()))
          visit(op.getOperand(i), dims);
        visit(op.getResult(0), rule.getResults()[0]);
      }
      auto seedOperand = [&](unsigned operand, int64_t dim) {
        auto type = cast<RankedTensorType>(op.getOperand(operand).getType());
        classes.seed(op.getOperand(operand),
                     {dim, 1, type.getDimSize(dim), 1});
      };
      if (auto matmul = dyn_cast<MatMulOp>(op)) {
        int64_t rank = matmul.getRhs().getType().getRank();
        seedOperand(1, rank - 2);
        if (isWeight(matmul.getRhs()))
          seedOperand(1, rank - 1);
      } else if (isa<AttentionOp>(op)) {
        seedOperand(0, 1);
        seedOperand(0, 3);
        seedOperand(2, 3);
      } else if (isa<ConvOp>(op)) {
        for (int64_t d = 0; d < cast<ConvOp>(op).getWeight().getType().getRank();
             ++d)
          seedOperand(1, d);
      }
      ops.push_back(&op);
      rules.try_emplace(&op, std::move(rule));
    }
    classes.linkOverlaps();

    // Variables: one per op (its strategies) and per argument (its block).
    CostGraph graph;
    DenseMap<Operation *, int> opVariable;
    DenseMap<Operation *, SmallVector<OpStrategy>> opStrategies;
    for (Operation *op : ops) {
      SmallVector<OpStrategy> strategies =
          strategiesOf(op, rules.find(op)->second, *mode, classes);
      std::vector<double> unary;
      for (const OpStrategy &s : strategies)
        unary.push_back(s.seconds);
      opVariable[op] = graph.addVariable(unary);
      opStrategies[op] = std::move(strategies);
    }
    // An argument may be read in any block its users want, at no cost.
    DenseMap<Value, SmallVector<ShardingAttr>> argumentChoices;
    for (BlockArgument argument : body.getArguments()) {
      llvm::SetVector<ShardingAttr> choices;
      choices.insert(ShardingAttr::getReplicated(context));
      for (OpOperand &use : argument.getUses()) {
        auto it = opStrategies.find(use.getOwner());
        if (it == opStrategies.end())
          continue;
        for (const OpStrategy &s : it->second)
          choices.insert(s.operands[use.getOperandNumber()]);
      }
      argumentChoices[argument] = SmallVector<ShardingAttr>(choices.begin(),
                                                            choices.end());
    }
    DenseMap<Value, int> argumentVariable;
    for (BlockArgument argument : body.getArguments())
      argumentVariable[argument] = graph.addVariable(
          std::vector<double>(argumentChoices[argument].size(), 0.0));

    // Edges: producer's result sharding to consumer's operand need.
    auto producerChoices = [&](Value value) -> SmallVector<ShardingAttr> {
      if (auto argument = dyn_cast<BlockArgument>(value))
        return argumentChoices[argument];
      SmallVector<ShardingAttr> results;
      for (const OpStrategy &s : opStrategies[value.getDefiningOp()])
        results.push_back(s.result);
      return results;
    };
    auto producerVariable = [&](Value value) {
      if (auto argument = dyn_cast<BlockArgument>(value))
        return argumentVariable[argument];
      return opVariable[value.getDefiningOp()];
    };
    for (Operation *op : ops) {
      for (OpOperand &operand : op->getOpOperands()) {
        Value value = operand.get();
        if (isWeight(value))
          continue;
        SmallVector<ShardingAttr> from = producerChoices(value);
        const SmallVector<OpStrategy> &to = opStrategies[op];
        std::vector<double> costs;
        for (ShardingAttr source : from)
          for (const OpStrategy &s : to)
            costs.push_back(reshardSeconds(
                value, source, s.operands[operand.getOperandNumber()]));
        graph.addEdge(producerVariable(value), opVariable[op], costs);
      }
    }
    // Results are gathered once at the end.
    Operation *terminator = body.getTerminator();
    for (Value value : terminator->getOperands()) {
      if (isWeight(value))
        continue;
      SmallVector<ShardingAttr> from = producerChoices(value);
      std::vector<double> costs;
      for (ShardingAttr source : from)
        costs.push_back(reshardSeconds(value, source,
                                       ShardingAttr::getReplicated(context)));
      int variable = producerVariable(value);
      graph.addEdge(variable, variable, [&] {
        std::vector<double> diagonal(costs.size() * costs.size(), 0.0);
        for (size_t i = 0; i < costs.size(); ++i)
          diagonal[i * costs.size() + i] = costs[i];
        return diagonal;
      }());
    }

    std::string error;
    std::optional<CostGraph::Solution> solution = graph.solve(error);
    if (!solution) {
      function.emitError(error);
      return signalPassFailure();
    }

    for (Operation *op : ops) {
      const OpStrategy &chosen =
          opStrategies[op][solution->choices[opVariable[op]]];
      setShardings(op, {chosen.result});
      SmallVector<Attribute> needs(chosen.operands.begin(),
                                   chosen.operands.end());
      op->setAttr(DSPDialect::kOperandShardingsAttrName,
                  ArrayAttr::get(context, needs));
    }
    for (BlockArgument argument : body.getArguments())
      function.setArgAttr(
          argument.getArgNumber(), DSPDialect::kShardingAttrName,
          argumentChoices[argument]
                         [solution->choices[argumentVariable[argument]]]);
  }
}
} // namespace mlir::dsp
