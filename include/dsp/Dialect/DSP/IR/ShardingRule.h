//===- ShardingRule.h - Factor mappings of dsp ops --------------*- C++ -*-===//

#ifndef DSP_DIALECT_DSP_IR_SHARDINGRULE_H
#define DSP_DIALECT_DSP_IR_SHARDINGRULE_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::dsp {

enum class FactorKind { Parallel, Reduction, Mixing };

/// The part a factor plays in the classic strategies, which shard a named
/// factor of attention and of the projections around it.
enum class FactorRole {
  None,
  /// Attention heads: the Ulysses switch shards them.
  Heads,
  /// A matmul's contraction: Megatron's row-parallel projection.
  Contracting,
  /// A matmul's result columns: Megatron's column-parallel projection.
  Columns,
};

/// How much of its data operand an op's result keeps, least first: the
/// classic strategies follow attention heads through the ops that only move
/// data.
enum class DataMovement {
  /// The op computes new values.
  None,
  /// Combines its inputs elementwise, by lookup or by joining them (add,
  /// mul, gather, concat).
  Combine,
  /// Takes a part of its input (slice).
  Split,
  /// Its input's elements in a new shape or order (reshape, transpose).
  View,
};

/// The factor mapping of one op: which factors make up each tensor dim and
/// how the op treats each factor. See ShardingRuleOpInterface.
class ShardingRule {
public:
  struct Factor {
    int64_t size;
    FactorKind kind;
  };
  /// Factor indices composing one tensor dim, major to minor.
  using DimFactors = SmallVector<int64_t, 1>;
  using TensorFactors = SmallVector<DimFactors, 4>;

  int64_t addFactor(int64_t size, FactorKind kind);
  void addOperand(TensorFactors dims) { operands.push_back(std::move(dims)); }
  void addResult(TensorFactors dims) { results.push_back(std::move(dims)); }

  ArrayRef<Factor> getFactors() const { return factors; }
  ArrayRef<TensorFactors> getOperands() const { return operands; }
  ArrayRef<TensorFactors> getResults() const { return results; }

  /// Declares that `factor` indexes the model (a weight dim, attention
  /// heads, a contraction) rather than tokens: sharding it is model
  /// parallelism. Propagation tells sequence and batch factors apart from
  /// these.
  void addModelFactor(int64_t factor) { modelFactors.push_back(factor); }
  ArrayRef<int64_t> getModelFactors() const { return modelFactors; }

  void setRole(int64_t factor, FactorRole role) { roles[factor] = role; }
  FactorRole getRole(int64_t factor) const {
    return roles.lookup_or(factor, FactorRole::None);
  }
  /// True if some factor plays `role`.
  bool hasRole(FactorRole role) const;

  void setMovement(DataMovement kind) { movement = kind; }
  DataMovement getMovement() const { return movement; }

  /// Each dim of each operand and result is its own mixing factor: the op
  /// runs only on replicated values.
  static ShardingRule getReplicatedOnly(Operation *op);
  /// Every result dim is a parallel factor; operands are broadcast against
  /// the result as numpy does.
  static ShardingRule
  getElementwise(Operation *op, DataMovement movement = DataMovement::None);

  /// The dim of a tensor that `factor` makes up on its own, or -1 when the
  /// factor is not in the tensor. Fails when the factor is part of a
  /// compound dim or of several dims: a piece of it is then no block of
  /// the tensor.
  static FailureOr<int64_t> wholeDimOf(const TensorFactors &dims,
                                       int64_t factor);

  /// Checks that the rule covers every operand and result with factor
  /// products equal to the dim sizes.
  LogicalResult verify(Operation *op) const;

  /// Prints `([a, b], [b]) -> ([a, b]) {a = 4 parallel, b = 8 mixing}`.
  void print(raw_ostream &os) const;

private:
  SmallVector<Factor> factors;
  SmallVector<TensorFactors> operands;
  SmallVector<TensorFactors> results;
  SmallVector<int64_t> modelFactors;
  llvm::SmallDenseMap<int64_t, FactorRole> roles;
  DataMovement movement = DataMovement::None;
};

StringRef stringifyFactorKind(FactorKind kind);

} // namespace mlir::dsp

#endif // DSP_DIALECT_DSP_IR_SHARDINGRULE_H
