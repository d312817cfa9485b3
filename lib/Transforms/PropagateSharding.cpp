//===- PropagateSharding.cpp - Choose shardings by exact cost minimum -----===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Format/Checked.h"
#include "dsp/Transforms/CostModel.h"
#include "dsp/Transforms/ExactSolver.h"
#include "dsp/Transforms/Passes.h"
#include "dsp/Transforms/ShardingPlan.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir::dsp {
#define GEN_PASS_DEF_PROPAGATESHARDING
#include "dsp/Transforms/Passes.h.inc"

namespace {
enum class Strategy { Auto, Dsp, Ulysses, MegatronSP, None };

/// Values this many times smaller than the largest activation (text tokens,
/// a CLS token) are side streams: distributing them is the cost model's
/// choice, not a rule.
constexpr int64_t kSideStreamRatio = 16;

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

/// One way to run an op: what it needs of its operands, what its result
/// becomes, and its compute time.
struct OpStrategy {
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
  void seed(Value value, FactorPlace place) {
    seeds.push_back(id(value, place));
  }
  /// Places of one dim of one value that start at the same element share a
  /// class: sharding a compound factor in blocks splits its major part
  /// first, so sharding either one splits the same leading factor.
  void linkSameStart() {
    for (auto &[dim, places] : byDim)
      for (size_t i = 1; i < places.size(); ++i)
        for (size_t j = 0; j < i; ++j)
          if (std::get<0>(places[i].second) == std::get<0>(places[j].second)) {
            classes.unionSets(places[i].first, places[j].first);
            break;
          }
    for (unsigned s : seeds)
      modelLeaders.insert(classes.getLeaderValue(s));
  }
  /// Records `place` on `value` (no link): a part that a neighbour names.
  bool addPlace(Value value, FactorPlace place) {
    size_t before = ids.size();
    id(value, place);
    return ids.size() != before;
  }

  /// The places the rules of all ops name in one dim of one value: (outer,
  /// size, inner).
  SmallVector<std::tuple<int64_t, int64_t, int64_t>> placesOn(Value value,
                                                              int64_t dim) {
    SmallVector<std::tuple<int64_t, int64_t, int64_t>> places;
    auto it = byDim.find({value, dim});
    if (it != byDim.end())
      for (auto &entry : it->second)
        places.push_back(entry.second);
    return places;
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
  DenseMap<
      std::pair<Value, int64_t>,
      std::vector<std::pair<unsigned, std::tuple<int64_t, int64_t, int64_t>>>>
      byDim;
  SmallVector<unsigned> seeds;
  llvm::DenseSet<unsigned> modelLeaders;
};

bool isWeight(Value value) {
  return value.getDefiningOp<ConstantOp>() || value.getDefiningOp<WeightOp>();
}

/// Ops that only move or rescale data between a projection and attention.
bool isPassThrough(Operation *op) {
  return isa<ReshapeOp, TransposeOp, AddOp, MulOp, GatherOp, SliceOp, ConcatOp>(
      op);
}

/// The data-movement ops between attention and the projections into and out
/// of it: ulysses and megatron-sp may shard heads there.
DenseSet<Operation *> attentionPaths(Block &body) {
  DenseSet<Operation *> path;
  for (auto attention : body.getOps<AttentionOp>()) {
    SmallVector<Value> worklist(attention->getOperands());
    while (!worklist.empty()) {
      Operation *def = worklist.pop_back_val().getDefiningOp();
      if (!def || !isPassThrough(def) || !path.insert(def).second)
        continue;
      llvm::append_range(worklist, def->getOperands());
    }
    SmallVector<Operation *> users(attention->getUsers());
    while (!users.empty()) {
      Operation *user = users.pop_back_val();
      // A slice splits a joint stream (text and video) back into its parts.
      if (!isa<ReshapeOp, TransposeOp, SliceOp>(user) ||
          !path.insert(user).second)
        continue;
      llvm::append_range(users, user->getUsers());
    }
  }
  return path;
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

struct PropagateSharding : impl::PropagateShardingBase<PropagateSharding> {
  using PropagateShardingBase::PropagateShardingBase;

  void runOnOperation() override;

private:
  LogicalResult setUpCostModel(ModuleOp module);
  SmallVector<OpStrategy> strategiesOf(Operation *op, const ShardingRule &rule,
                                       Strategy mode, FactorClasses &classes);

  /// Elements of the largest activation of the function being planned.
  int64_t largestActivation = 0;

  /// Under ulysses and megatron-sp, the ops between attention and its
  /// projections.
  DenseSet<Operation *> headPath;
  ShardingAttr placeSharding(Value value, std::optional<FactorPlace> place,
                             bool partial);
  /// The cost of turning `from` into `to` on `value`.
  double reshardSeconds(Value value, ShardingAttr from, ShardingAttr to);

  CostModel costModel;
};
} // namespace

LogicalResult PropagateSharding::setUpCostModel(ModuleOp module) {
  costModel.ranks = ranks;
  if (!costModel.applyPreset(preset))
    return module.emitError("unknown link preset '")
           << preset << "'; use nvlink or infiniband";
  if (latencyUs >= 0)
    costModel.latency = latencyUs * 1e-6;
  if (busBandwidthGBs > 0)
    costModel.busBandwidth = busBandwidthGBs * 1e9;
  if (tflops <= 0)
    return module.emitError("tflops must be positive");
  costModel.flopsPerSecond = tflops * 1e12;
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
  // Blocks of an evenly split factor hold the minor factors whole: the
  // layout is that of a split of the factor and everything inside it, so
  // that is the one name it gets.
  if (padded == place->size)
    return ShardingAttr::getSplit(context, place->dim, place->outer,
                                  place->size * place->inner, 1, 0);
  return ShardingAttr::getSplit(context, place->dim, place->outer, place->size,
                                place->inner, padded - place->size);
}

double PropagateSharding::reshardSeconds(Value value, ShardingAttr from,
                                         ShardingAttr to) {
  auto type = cast<RankedTensorType>(value.getType());
  std::optional<Reshard> reshard = reshardFor(type, from, to, ranks);
  if (!reshard)
    return 0;
  // A switch between factors of one dim that no view lowers is not a plan.
  if (from.isSplit() && to.isSplit() && from.getDim() == to.getDim() &&
      !viewFactorSwitch(type, from, to, ranks))
    return std::numeric_limits<double>::infinity();
  return costModel.collectiveSeconds(reshard->kind, reshard->bytes);
}

SmallVector<OpStrategy>
PropagateSharding::strategiesOf(Operation *op, const ShardingRule &rule,
                                Strategy mode, FactorClasses &classes) {
  double flops = opFlops(op);
  MLIRContext *context = op->getContext();
  OpStrategy replicated;
  for (size_t i = 0; i < op->getNumOperands(); ++i)
    replicated.operands.push_back(ShardingAttr::getReplicated(context));
  replicated.result = ShardingAttr::getReplicated(context);
  replicated.seconds = costModel.computeSeconds(flops);
  if (mode == Strategy::None || ranks == 1)
    return {replicated};

  // Every value an op touches, with the factors of the rule in it.
  SmallVector<std::pair<Value, const ShardingRule::TensorFactors *>> tensors;
  for (auto [i, dims] : llvm::enumerate(rule.getOperands()))
    tensors.push_back({op->getOperand(i), &dims});
  tensors.push_back({op->getResult(0), &rule.getResults()[0]});

  auto attention = dyn_cast<AttentionOp>(op);
  auto matmul = dyn_cast<MatMulOp>(op);
  bool headsOnly =
      attention && (mode == Strategy::Ulysses || mode == Strategy::MegatronSP);
  bool megatronColumns =
      matmul && mode == Strategy::MegatronSP && feedsAttention(matmul);
  bool megatronRows =
      matmul && mode == Strategy::MegatronSP && consumesAttention(matmul);
  // Heads travel between the projections and attention: where the switch
  // to heads happens on that path is the solver's choice.
  if ((mode == Strategy::MegatronSP || mode == Strategy::Ulysses) &&
      headPath.contains(op))
    mode = Strategy::Auto;
  int64_t resultRank =
      cast<RankedTensorType>(op->getResult(0).getType()).getRank();

  SmallVector<OpStrategy> strategies;
  bool hasSequenceFactor = false;
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
      auto inResult = subPlace(rule.getResults()[0]);
      bool weightOrHead = false;
      for (auto [value, dims] : tensors)
        if (auto place = subPlace(*dims))
          weightOrHead |= classes.isModel(value, *place);
      if (headsOnly) {
        auto place = subPlace(rule.getOperands()[0]);
        if (!place || place->dim != 1)
          continue;
      } else if (megatronColumns) {
        if (!inResult || inResult->dim != resultRank - 1)
          continue;
      } else if (megatronRows) {
        if (factor.kind != FactorKind::Reduction)
          continue;
      } else if (mode != Strategy::Auto && weightOrHead) {
        continue;
      }
      hasSequenceFactor |= !weightOrHead;

      OpStrategy strategy;
      for (auto [i, dims] : llvm::enumerate(rule.getOperands()))
        strategy.operands.push_back(
            placeSharding(op->getOperand(i), subPlace(dims), false));
      strategy.result = placeSharding(op->getResult(0), inResult,
                                      factor.kind == FactorKind::Reduction);
      int64_t padded = (size + ranks - 1) / ranks * ranks;
      strategy.seconds = costModel.computeSeconds(flops * double(padded) /
                                                  size / double(ranks));
      strategies.push_back(std::move(strategy));
    }
  }
  // Distribute every op that has a sequence or batch factor; the
  // restricted ops of the classic strategies have no other choice.
  bool sideStream =
      cast<RankedTensorType>(op->getResult(0).getType()).getNumElements() *
          kSideStreamRatio <
      largestActivation;
  bool forced = headsOnly || megatronColumns || megatronRows ||
                (hasSequenceFactor && !sideStream && !allowReplication);
  if (!forced || strategies.empty())
    strategies.insert(strategies.begin(), replicated);
  return strategies;
}

void PropagateSharding::runOnOperation() {
  ModuleOp module = getOperation();
  if (ranks < 1 || ranks > ::dsp::format::kMaxRanks) {
    module.emitError() << "ranks must be between 1 and "
                       << ::dsp::format::kMaxRanks << ", got "
                       << int64_t(ranks);
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
                       << existing << " ranks; cannot plan it for "
                       << int64_t(ranks);
    return signalPassFailure();
  }
  if (failed(setUpCostModel(module)))
    return signalPassFailure();
  MLIRContext *context = &getContext();
  module->setAttr(DSPDialect::kGroupAttrName, GroupAttr::get(context, ranks));
  module->setAttr(DSPDialect::kCostModelAttrName,
                  costModelAttr(context, costModel));

  for (auto function : module.getOps<func::FuncOp>()) {
    if (function.isExternal())
      continue;
    if (!function.getBody().hasOneBlock()) {
      function.emitError("sharding propagation needs a single-block function");
      return signalPassFailure();
    }
    Block &body = function.getBody().front();
    if (*mode == Strategy::MegatronSP || *mode == Strategy::Ulysses)
      headPath = attentionPaths(body);
    largestActivation = 0;
    body.walk([&](Operation *op) {
      if (isa<ConstantOp, WeightOp>(op))
        return;
      for (Value result : op->getResults())
        if (auto type = dyn_cast<RankedTensorType>(result.getType()))
          largestActivation =
              std::max(largestActivation, type.getNumElements());
    });

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
        classes.seed(op.getOperand(operand), {dim, 1, type.getDimSize(dim), 1});
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
        for (int64_t d = 0;
             d < cast<ConvOp>(op).getWeight().getType().getRank(); ++d)
          seedOperand(1, d);
      }
      ops.push_back(&op);
      rules.try_emplace(&op, std::move(rule));
    }
    // A part of a factor that one neighbour names is a part of that factor
    // in every tensor the factor spans: a projection's columns learn the
    // heads its consumer's reshape splits them into.
    for (bool changed = true; changed;) {
      changed = false;
      for (Operation *op : ops) {
        const ShardingRule &rule = rules.find(op)->second;
        SmallVector<std::pair<Value, const ShardingRule::TensorFactors *>>
            tensors;
        for (auto [i, dims] : llvm::enumerate(rule.getOperands()))
          tensors.push_back({op->getOperand(i), &dims});
        tensors.push_back({op->getResult(0), &rule.getResults()[0]});
        for (size_t f = 0; f < rule.getFactors().size(); ++f) {
          llvm::SetVector<std::pair<int64_t, int64_t>> parts;
          for (auto [value, dims] : tensors)
            if (auto place = placeOf(rule, *dims, f))
              for (auto [outer, size, inner] :
                   classes.placesOn(value, place->dim))
                if (size >= 2 && outer % place->outer == 0 &&
                    place->size % (outer / place->outer * size) == 0)
                  parts.insert({outer / place->outer, size});
          for (auto [value, dims] : tensors)
            if (auto place = placeOf(rule, *dims, f))
              for (auto [within, size] : parts)
                changed |= classes.addPlace(
                    value, {place->dim, place->outer * within, size,
                            place->size / (within * size) * place->inner});
        }
      }
    }
    classes.linkSameStart();

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
      // Each rank reads only its block of an input: whole reads are for
      // side streams and inputs no user can take in blocks.
      llvm::SetVector<ShardingAttr> choices;
      for (OpOperand &use : argument.getUses()) {
        auto it = opStrategies.find(use.getOwner());
        if (it == opStrategies.end())
          continue;
        for (const OpStrategy &s : it->second)
          if (s.operands[use.getOperandNumber()].isSplit())
            choices.insert(s.operands[use.getOperandNumber()]);
      }
      bool sideStream =
          cast<RankedTensorType>(argument.getType()).getNumElements() *
              kSideStreamRatio <
          largestActivation;
      if (choices.empty() || sideStream || allowReplication)
        choices.insert(ShardingAttr::getReplicated(context));
      argumentChoices[argument] =
          SmallVector<ShardingAttr>(choices.begin(), choices.end());
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
    // A value read by several consumers is converted once per layout they
    // need and the conversions are shared, so it gets a variable of its own:
    // the layout it is converted to, which every consumer reads from. Its
    // edges charge one conversion from the producer and one more for a
    // consumer that needs yet another layout. Values read once, and the
    // gather of the results, connect to the producer directly.
    Operation *terminator = body.getTerminator();
    llvm::MapVector<Value, SmallVector<OpOperand *>> readers;
    struct LayoutVariable {
      Value value;
      int variable;
      SmallVector<ShardingAttr> layouts;
    };
    SmallVector<LayoutVariable> layoutVariables;
    for (Operation *op : ops)
      for (OpOperand &operand : op->getOpOperands())
        if (!isWeight(operand.get()))
          readers[operand.get()].push_back(&operand);
    auto gatherCosts = [&](Value value, ArrayRef<ShardingAttr> from) {
      std::vector<double> costs;
      for (ShardingAttr source : from)
        costs.push_back(reshardSeconds(value, source,
                                       ShardingAttr::getReplicated(context)));
      return costs;
    };
    auto needOf = [&](OpOperand *operand, const OpStrategy &s) {
      return s.operands[operand->getOperandNumber()];
    };
    auto addReads = [&](Value value, int fromVariable,
                        ArrayRef<ShardingAttr> from, OpOperand *operand) {
      std::vector<double> costs;
      for (ShardingAttr source : from)
        for (const OpStrategy &s : opStrategies[operand->getOwner()])
          costs.push_back(reshardSeconds(value, source, needOf(operand, s)));
      graph.addEdge(fromVariable, opVariable[operand->getOwner()], costs);
    };
    for (auto &[value, operands] : readers) {
      SmallVector<ShardingAttr> from = producerChoices(value);
      if (operands.size() == 1) {
        addReads(value, producerVariable(value), from, operands.front());
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
      std::vector<double> costs;
      for (ShardingAttr source : from)
        for (ShardingAttr layout : layoutList)
          costs.push_back(reshardSeconds(value, source, layout));
      graph.addEdge(producerVariable(value), layoutVariable, costs);
      for (OpOperand *operand : operands)
        addReads(value, layoutVariable, layoutList, operand);
    }
    // Results are gathered once at the end.
    for (Value value : terminator->getOperands()) {
      if (isWeight(value))
        continue;
      std::vector<double> costs = gatherCosts(value, producerChoices(value));
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
    // Where the solution converts a value before its readers, insertion
    // must take the same route.
    for (const LayoutVariable &layout : layoutVariables) {
      ShardingAttr read = layout.layouts[solution->choices[layout.variable]];
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
}
} // namespace mlir::dsp
