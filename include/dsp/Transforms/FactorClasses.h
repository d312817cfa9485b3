//===- FactorClasses.h - Factors that shard together ------------*- C++ -*-===//
//
// Sharding propagation links the places of each factor of an op's rule
// across the values the op touches. The classes that result tell the factors
// of the model (those linked to a factor some rule declares a model factor:
// weight dims, attention heads, contractions) from the sequence and batch
// factors, and which parts of a factor a neighbour names (the heads inside
// a fused projection's columns).
//
//===----------------------------------------------------------------------===//

#ifndef DSP_TRANSFORMS_FACTORCLASSES_H
#define DSP_TRANSFORMS_FACTORCLASSES_H

#include "dsp/Dialect/DSP/IR/ShardingRule.h"
#include "mlir/IR/Block.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include <tuple>
#include <vector>

namespace mlir::dsp {

/// Where one factor of a rule sits in one tensor: a dim, and the products of
/// the factors before and after it in that dim.
struct FactorPlace {
  int64_t dim, outer, size, inner;
};

std::optional<FactorPlace> placeOf(const ShardingRule &rule,
                                   const ShardingRule::TensorFactors &dims,
                                   int64_t factor);

/// Every value an op touches with the factors of its rule in it: the
/// operands, then the result.
using RuleTensors =
    SmallVector<std::pair<Value, const ShardingRule::TensorFactors *>>;
RuleTensors tensorsOf(Operation *op, const ShardingRule &rule);

/// The dsp ops that read nothing (constants, weights) hold model data that
/// every rank has whole; propagation plans the ops that read them.
bool isModelData(Value value);

/// The ops of one function that propagation plans, in order, with their
/// verified rules.
class PlannedOps {
public:
  /// Fails, with an error on the op, where an op has no rule propagation
  /// can use.
  static FailureOr<PlannedOps> collect(Block &body);

  ArrayRef<Operation *> getOps() const { return ops; }
  /// The rule of `op`, or null for an op that is not planned.
  const ShardingRule *ruleOf(Operation *op) const;
  /// Whether `value` is model data or computed from model data alone (a
  /// rotary table, a mask, position ids): no input of the function reaches
  /// it, so every rank can compute whichever part of it it needs.
  bool isFromModelData(Value value) const;

private:
  SmallVector<Operation *> ops;
  DenseMap<Operation *, ShardingRule> rules;
  /// The planned ops whose operands are all from model data.
  DenseSet<Operation *> fromModelData;
};

/// Identifies factor places that must be sharded together or not at all,
/// to tell sequence and batch factors from those of weights and heads.
class FactorClasses {
public:
  /// Links the places of every factor of every planned op, seeds the model
  /// factors the rules declare, and spreads the parts of a factor that one
  /// neighbour names to every tensor the factor spans.
  static FactorClasses build(const PlannedOps &planned);

  /// The places the rules of all ops name in one dim of one value: (outer,
  /// size, inner).
  SmallVector<std::tuple<int64_t, int64_t, int64_t>> placesOn(Value value,
                                                              int64_t dim);
  bool isModel(Value value, FactorPlace place);

private:
  /// Puts `places` in one class.
  void linkAll(ArrayRef<std::pair<Value, FactorPlace>> places);
  void seed(Value value, FactorPlace place);
  /// Records `place` on `value` (no link): a part that a neighbour names.
  bool addPlace(Value value, FactorPlace place);
  /// Places of one dim of one value that start at the same element share a
  /// class: sharding a compound factor in blocks splits its major part
  /// first, so sharding either one splits the same leading factor.
  void linkSameStart();
  unsigned id(Value value, FactorPlace place);

  using Key = std::tuple<Value, int64_t, int64_t, int64_t>;
  DenseMap<Key, unsigned> ids;
  llvm::EquivalenceClasses<unsigned> classes;
  DenseMap<
      std::pair<Value, int64_t>,
      std::vector<std::pair<unsigned, std::tuple<int64_t, int64_t, int64_t>>>>
      byDim;
  SmallVector<unsigned> seeds;
  llvm::DenseSet<unsigned> modelLeaders;
};

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_FACTORCLASSES_H
