//===- StrategyConstraints.h - What each strategy lets an op shard -*- C++ -*-//
//
// `auto` lets every op shard any factor; `dsp` only sequence and batch
// factors; `ulysses` and `megatron-sp` shard attention heads and, under
// Megatron, the columns of the QKV projections and the MLP's first matmul
// and the rows of the output projection and the MLP's second, all read off
// the roles that the ops' sharding rules declare; `ring` shards sequence and
// batch factors as `dsp` does and runs each self-attention over one sequence
// as a ring (query blocks stay, key and value blocks travel); `usp` does so
// on a mesh of two axes, the ring on the first, the heads split over the
// second as under Ulysses; `auto` may choose such a ring per attention;
// `none` distributes nothing.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_TRANSFORMS_STRATEGYCONSTRAINTS_H
#define DSP_TRANSFORMS_STRATEGYCONSTRAINTS_H

#include "dsp/Transforms/FactorClasses.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::dsp {

enum class Strategy { Auto, Dsp, Ulysses, MegatronSP, Ring, Usp, None };

std::optional<Strategy> parseStrategy(StringRef name);

/// What a strategy lets one op shard.
struct OpConstraint {
  /// The one role the op must shard, where a classic strategy names it; the
  /// op then has no other choice.
  std::optional<FactorRole> only;
  /// Whether the op may shard factors of the model (weights, heads).
  bool modelFactors = true;
  /// Whether an attention runs as a ring (over all ranks, or over the first
  /// axis of a mesh with its heads split over the second): not, as one more
  /// choice, or as its only one.
  enum class Ring { No, Choice, Only } ring = Ring::No;

  bool allows(FactorRole role, bool model) const {
    if (only)
      return role == *only;
    return modelFactors || !model;
  }
};

class StrategyConstraints {
public:
  /// `ranks` in a mesh of sizes `mesh` (none: one axis).
  StrategyConstraints(Strategy strategy, const PlannedOps &planned,
                      int64_t ranks, ArrayRef<int64_t> mesh);

  /// False when every op runs replicated.
  bool distributes() const { return strategy != Strategy::None; }
  OpConstraint constraintOf(Operation *op) const;

private:
  bool hasRole(Operation *op, FactorRole role) const;
  /// How `attention`, which mixes every token, may run as a ring.
  OpConstraint::Ring ringOf(Operation *attention) const;
  DataMovement movementOf(Operation *op) const;
  /// The data-movement ops between attention and the projections into and
  /// out of it: ulysses, megatron-sp and usp may shard heads there.
  DenseSet<Operation *> attentionPaths() const;
  /// A projection whose result reaches attention through data movement
  /// only: a Q, K or V projection.
  bool feedsAttention(Operation *projection) const;
  /// A projection whose input comes from attention through views only: the
  /// output projection.
  bool consumesAttention(Operation *projection) const;
  /// A matmul by model data: a projection.
  bool isProjection(Operation *op) const;
  /// Whether `op` computes each element from the same element of its
  /// operands: an activation, a bias or residual add, a modulation.
  bool isPerElement(Operation *op) const;
  /// Whether a projection reads a layer norm's output through per-element
  /// ops and views: the blocks' projections, not those of a timestep
  /// embedding.
  bool readsNormalized(Operation *projection) const;
  /// The pairs of projections with per-element ops only between them that
  /// read normalized tokens: the MLPs' first and second matmuls, and the
  /// ops between them.
  void findMlps();

  Strategy strategy;
  const PlannedOps &planned;
  int64_t ranks;
  SmallVector<int64_t> mesh;
  /// The ops that may shard model factors: under ulysses and megatron-sp
  /// those between attention and its projections, under megatron-sp also
  /// those between the MLPs' matmuls.
  DenseSet<Operation *> modelPath;
  /// Under megatron-sp, the MLPs' first and second matmuls.
  DenseSet<Operation *> mlpFirst, mlpSecond;
};

/// An attention of a sequence with itself, one sequence in the batch, no
/// mask: it mixes every token.
bool mixesEveryToken(Operation *op);

/// The mesh `usp` plans `module` on by default, (ranks / U) x U with U the
/// largest divisor of `ranks` that divides the heads of every attention
/// that mixes every token; none (one axis) where U is 1 or all ranks.
SmallVector<int64_t> uspMesh(ModuleOp module, int64_t ranks);

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_STRATEGYCONSTRAINTS_H
