//===- ShardingChoices.h - The graph of sharding choices and costs -*- C++ -*-//
//
// One variable per planned op (its strategies: which factor it shards, with
// its compute time), per function argument (the block each rank reads) and
// per value read by several ops (the sharding it is converted to once before
// its readers); edges carry the cost of the collectives between the
// shardings. The exact solver picks one choice per variable; `apply` writes
// the choices onto the IR.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_TRANSFORMS_SHARDINGCHOICES_H
#define DSP_TRANSFORMS_SHARDINGCHOICES_H

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/CostModel.h"
#include "dsp/Transforms/ExactSolver.h"
#include "dsp/Transforms/StrategyConstraints.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <map>
#include <optional>

namespace mlir::dsp {

/// A function result that keeps the sharding of an argument.
struct KeptResult {
  unsigned result;
  unsigned argument;
};

class ShardingChoices {
public:
  /// Builds the choices of `function`, whose ops are `planned`. Ops that
  /// have a sequence or batch factor are always distributed unless
  /// `allowReplication`. On a `mesh` of two or more axes an op shards one
  /// factor (or none) per mesh axis: compound shardings. Results are
  /// gathered at the end, except the `kept` ones, which are converted to
  /// their argument's sharding. Nothing is priced when the reads of
  /// values need more than `maxPricedReshards` distinct conversions (by
  /// type and pair of shardings), when given: the choices are then
  /// incomplete and must not be solved.
  ShardingChoices(func::FuncOp function, const PlannedOps &planned,
                  FactorClasses &classes,
                  const StrategyConstraints &constraints,
                  const CostModel &costModel, ArrayRef<int64_t> mesh,
                  bool allowReplication, ArrayRef<KeptResult> kept,
                  std::optional<uint64_t> maxPricedReshards = std::nullopt);

  const CostGraph &getGraph() const { return graph; }
  /// Whether pricing stopped at `maxPricedReshards`.
  bool isIncomplete() const { return pricingStopped; }
  func::FuncOp getFunction() const { return function; }

  /// Records the chosen shardings: each op's result and operand needs, each
  /// argument's block (and each kept result's), and where a value is
  /// converted before its readers.
  void apply(const CostGraph::Solution &solution);

private:
  /// One way to run an op: what it needs of its operands, what its result
  /// becomes, and its compute time.
  struct OpStrategy {
    SmallVector<ShardingAttr> operands;
    ShardingAttr result;
    double seconds = 0;
    /// The fraction of the op's FLOPs one rank runs, pads included.
    double share = 1;
  };
  /// A value read by several ops and the shardings it may be read in.
  struct LayoutVariable {
    Value value;
    int variable;
    SmallVector<ShardingAttr> layouts;
  };

  SmallVector<OpStrategy> strategiesOf(Operation *op, const ShardingRule &rule,
                                       FactorClasses &classes,
                                       const StrategyConstraints &constraints);
  /// The strategies that shard one factor of `op` over `ranks` ranks;
  /// sets `hasSequenceFactor` if one shards no weight or head factor.
  SmallVector<OpStrategy>
  factorStrategies(Operation *op, const ShardingRule &rule,
                   FactorClasses &classes,
                   const StrategyConstraints &constraints, int64_t ranks,
                   bool &hasSequenceFactor);
  /// Every combination of one strategy of `perAxis[k]` (or none) per mesh
  /// axis k that shards something and whose compound shardings are valid;
  /// computed once per kind of op, types and strategies: the layers of a
  /// model repeat them.
  SmallVector<OpStrategy>
  meshStrategies(Operation *op, ArrayRef<SmallVector<OpStrategy>> perAxis);
  SmallVector<OpStrategy>
  combineAxes(Operation *op, ArrayRef<SmallVector<OpStrategy>> perAxis) const;
  void addArguments();
  /// Sets pricingStopped, and adds no edge, where the reads need more than
  /// `maxPricedReshards` distinct conversions.
  void addReads(std::optional<uint64_t> maxPricedReshards);
  /// The cost of what becomes of the results at the end: a gather, or the
  /// conversion of a kept result to its argument's sharding.
  void addResults();
  ShardingAttr placeSharding(Value value, std::optional<FactorPlace> place,
                             bool partial, int64_t ranks) const;
  /// The cost of the collectives, one per mesh axis, that turn `from` into
  /// `to` on `value` (meshReshardSteps).
  double meshReshardSeconds(Value value, ShardingAttr from,
                            ShardingAttr to) const;
  /// `attention` as a ring: queries, keys and values in blocks of their
  /// sequences, the key and value blocks passed around the ranks; on a mesh
  /// (usp) around those of the first axis, the heads split over the second.
  OpStrategy ringStrategy(AttentionOp attention, double flops) const;
  /// The cost of turning `from` into `to` on `value`, computed once per
  /// type and pair of shardings: the layers of a model repeat them.
  double reshardSeconds(Value value, ShardingAttr from, ShardingAttr to) const;
  double uncachedReshardSeconds(Value value, ShardingAttr from,
                                ShardingAttr to) const;
  /// The layout of each choice of a variable, kept as the distinct layouts
  /// and the index of each choice's among them: hundreds of choices share a
  /// few layouts, and each pair of layouts is priced once.
  struct ChoiceLayouts {
    explicit ChoiceLayouts(ArrayRef<ShardingAttr> perChoice);
    SmallVector<ShardingAttr> distinct;
    SmallVector<unsigned> ofChoice;
  };
  /// reshardSeconds from each choice of `from` (rows) to each of `to`,
  /// computed once per type and pair of lists: the layers repeat them.
  const std::vector<double> &edgeCosts(Value value, const ChoiceLayouts &from,
                                       const ChoiceLayouts &to);
  /// Values many times smaller than the largest activation (text tokens, a
  /// CLS token): distributing them is the cost model's choice, not a rule.
  bool isSideStream(Value value) const;
  SmallVector<ShardingAttr> producerChoices(Value value);
  int producerVariable(Value value);

  func::FuncOp function;
  const PlannedOps &planned;
  const CostModel &costModel;
  SmallVector<int64_t> mesh;
  bool allowReplication;
  SmallVector<KeptResult> kept;
  /// Elements of the largest activation of the function.
  int64_t largestActivation = 0;

  CostGraph graph;
  DenseMap<Operation *, int> opVariable;
  DenseMap<Operation *, SmallVector<OpStrategy>> opStrategies;
  DenseMap<Value, SmallVector<ShardingAttr>> argumentChoices;
  DenseMap<Value, int> argumentVariable;
  SmallVector<LayoutVariable> layoutVariables;
  mutable DenseMap<std::tuple<Type, Attribute, Attribute>, double> reshardCosts;
  bool pricingStopped = false;
  /// edgeCosts by the type and the lists, as the uniqued pointers.
  using EdgeKey = std::tuple<const void *, std::vector<const void *>,
                             std::vector<const void *>>;
  std::map<EdgeKey, std::vector<double>> edgeTables;
  std::map<std::vector<const void *>, SmallVector<OpStrategy>>
      meshStrategyCache;
};

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_SHARDINGCHOICES_H
