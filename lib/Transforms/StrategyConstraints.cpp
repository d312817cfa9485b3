//===- StrategyConstraints.cpp - What each strategy lets an op shard ------===//

#include "dsp/Transforms/StrategyConstraints.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "llvm/ADT/StringSwitch.h"
#include <numeric>

using namespace mlir;
using namespace mlir::dsp;

std::optional<Strategy> mlir::dsp::parseStrategy(StringRef name) {
  return llvm::StringSwitch<std::optional<Strategy>>(name)
      .Case("auto", Strategy::Auto)
      .Case("dsp", Strategy::Dsp)
      .Case("ulysses", Strategy::Ulysses)
      .Case("megatron-sp", Strategy::MegatronSP)
      .Case("ring", Strategy::Ring)
      .Case("usp", Strategy::Usp)
      .Case("none", Strategy::None)
      .Default(std::nullopt);
}

/// Heads travel between the projections and attention under these
/// strategies.
static bool shardsHeads(Strategy strategy) {
  return strategy == Strategy::Ulysses || strategy == Strategy::MegatronSP;
}

StrategyConstraints::StrategyConstraints(Strategy strategy,
                                         const PlannedOps &planned,
                                         int64_t ranks, ArrayRef<int64_t> mesh)
    : strategy(strategy), planned(planned), ranks(ranks), mesh(mesh) {
  if (shardsHeads(strategy) || strategy == Strategy::Usp)
    modelPath = attentionPaths();
  if (strategy == Strategy::MegatronSP)
    findMlps();
}

bool StrategyConstraints::hasRole(Operation *op, FactorRole role) const {
  const ShardingRule *rule = planned.ruleOf(op);
  return rule && rule->hasRole(role);
}

bool mlir::dsp::mixesEveryToken(Operation *op) {
  auto attention = dyn_cast<AttentionOp>(op);
  if (!attention || attention.getMask())
    return false;
  ArrayRef<int64_t> query = attention.getQuery().getType().getShape();
  return query[0] == 1 &&
         query[2] == attention.getKey().getType().getDimSize(2);
}

SmallVector<int64_t> mlir::dsp::uspMesh(ModuleOp module, int64_t ranks) {
  int64_t heads = 0;
  module.walk([&](AttentionOp attention) {
    if (mixesEveryToken(attention))
      heads = std::gcd(heads, attention.getQuery().getType().getDimSize(1));
  });
  int64_t ulysses = std::gcd(heads, ranks);
  if (ulysses <= 1 || ulysses == ranks)
    return {};
  return {ranks / ulysses, ulysses};
}

OpConstraint::Ring StrategyConstraints::ringOf(Operation *attention) const {
  switch (strategy) {
  case Strategy::Ring:
    return OpConstraint::Ring::Only;
  case Strategy::Usp: {
    // On one axis whose ranks divide the heads, usp is Ulysses.
    int64_t heads =
        cast<AttentionOp>(attention).getQuery().getType().getDimSize(1);
    return mesh.size() < 2 && heads % ranks == 0 ? OpConstraint::Ring::No
                                                 : OpConstraint::Ring::Only;
  }
  case Strategy::Auto: {
    // Only the cpu backend has the kernel so far; a ring on a mesh takes its
    // first axis and splits the heads over the second.
    TargetAttr target = getTarget(attention);
    bool hasKernel = !target || !target.isCuda();
    return hasKernel && mesh.size() <= 2 ? OpConstraint::Ring::Choice
                                         : OpConstraint::Ring::No;
  }
  default:
    return OpConstraint::Ring::No;
  }
}

DataMovement StrategyConstraints::movementOf(Operation *op) const {
  const ShardingRule *rule = op ? planned.ruleOf(op) : nullptr;
  return rule ? rule->getMovement() : DataMovement::None;
}

/// Whether `op` keeps a part of its first operand: a slice, the gather of Q
/// out of a fused QKV tensor.
static bool takesPart(Operation *op) {
  return cast<ShapedType>(op->getResult(0).getType()).getNumElements() <
         cast<ShapedType>(op->getOperand(0).getType()).getNumElements();
}

DenseSet<Operation *> StrategyConstraints::attentionPaths() const {
  DenseSet<Operation *> path;
  for (Operation *attention : planned.getOps()) {
    // usp switches to heads only the attention it does not run as a ring
    // whole.
    if (!hasRole(attention, FactorRole::Heads) ||
        (strategy == Strategy::Usp && !mixesEveryToken(attention)))
      continue;
    SmallVector<Value> worklist(attention->getOperands());
    while (!worklist.empty()) {
      Operation *def = worklist.pop_back_val().getDefiningOp();
      // Ulysses switches Q, K and V each to heads: a fused QKV tensor is
      // split into them before the switch.
      if (movementOf(def) == DataMovement::None ||
          (strategy != Strategy::MegatronSP && takesPart(def)) ||
          !path.insert(def).second)
        continue;
      llvm::append_range(worklist, def->getOperands());
    }
    SmallVector<Operation *> users(attention->getUsers());
    while (!users.empty()) {
      Operation *user = users.pop_back_val();
      // A slice splits a joint stream (text and video) back into its parts.
      if (movementOf(user) < DataMovement::Split || !path.insert(user).second)
        continue;
      llvm::append_range(users, user->getUsers());
    }
  }
  return path;
}

bool StrategyConstraints::feedsAttention(Operation *projection) const {
  SmallVector<Value> worklist = {projection->getResult(0)};
  for (int depth = 0; depth < 8 && !worklist.empty(); ++depth) {
    SmallVector<Value> next;
    for (Value v : worklist)
      for (Operation *user : v.getUsers()) {
        if (hasRole(user, FactorRole::Heads))
          return true;
        if (movementOf(user) != DataMovement::None)
          next.push_back(user->getResult(0));
      }
    worklist = std::move(next);
  }
  return false;
}

bool StrategyConstraints::consumesAttention(Operation *projection) const {
  Value v = projection->getOperand(0);
  for (int depth = 0; depth < 8; ++depth) {
    Operation *def = v.getDefiningOp();
    if (!def)
      return false;
    if (hasRole(def, FactorRole::Heads))
      return true;
    if (movementOf(def) != DataMovement::View)
      return false;
    v = def->getOperand(0);
  }
  return false;
}

bool StrategyConstraints::isProjection(Operation *op) const {
  return isa<MatMulOp>(op) && planned.isFromModelData(op->getOperand(1));
}

bool StrategyConstraints::isPerElement(Operation *op) const {
  const ShardingRule *rule = op ? planned.ruleOf(op) : nullptr;
  return rule && rule->getMovement() <= DataMovement::Combine &&
         llvm::all_of(rule->getFactors(), [](const ShardingRule::Factor &f) {
           return f.kind == FactorKind::Parallel;
         });
}

bool StrategyConstraints::readsNormalized(Operation *projection) const {
  SmallVector<Value> worklist = {projection->getOperand(0)};
  for (int depth = 0; depth < 8 && !worklist.empty(); ++depth) {
    SmallVector<Value> next;
    for (Value v : worklist) {
      Operation *def = v.getDefiningOp();
      if (isa_and_nonnull<LayerNormOp>(def))
        return true;
      if (isPerElement(def) || movementOf(def) == DataMovement::View)
        llvm::append_range(next, def->getOperands());
    }
    worklist = std::move(next);
  }
  return false;
}

void StrategyConstraints::findMlps() {
  for (Operation *second : planned.getOps()) {
    if (!isProjection(second))
      continue;
    SmallVector<Operation *> between;
    Value hidden = second->getOperand(0);
    while (isPerElement(hidden.getDefiningOp())) {
      between.push_back(hidden.getDefiningOp());
      auto operands = between.back()->getOperands();
      auto activation = llvm::find_if(operands, [&](Value operand) {
        return !planned.isFromModelData(operand);
      });
      if (activation == operands.end())
        break;
      hidden = *activation;
    }
    Operation *first = hidden.getDefiningOp();
    if (first && first != second && isProjection(first) &&
        readsNormalized(first) && !feedsAttention(first)) {
      mlpFirst.insert(first);
      mlpSecond.insert(second);
      modelPath.insert(between.begin(), between.end());
    }
  }
}

OpConstraint StrategyConstraints::constraintOf(Operation *op) const {
  OpConstraint constraint;
  bool megatron = strategy == Strategy::MegatronSP;
  if (shardsHeads(strategy) && hasRole(op, FactorRole::Heads))
    constraint.only = FactorRole::Heads;
  else if (megatron && hasRole(op, FactorRole::Columns) &&
           (feedsAttention(op) || mlpFirst.contains(op)))
    constraint.only = FactorRole::Columns;
  else if (megatron && hasRole(op, FactorRole::Contracting) &&
           (consumesAttention(op) || mlpSecond.contains(op)))
    constraint.only = FactorRole::Contracting;
  // Where on the path between the projections and attention the switch to
  // heads happens is the solver's choice.
  constraint.modelFactors =
      strategy == Strategy::Auto || modelPath.contains(op);
  if (mixesEveryToken(op)) {
    constraint.ring = ringOf(op);
    if (strategy == Strategy::Usp && constraint.ring == OpConstraint::Ring::No)
      constraint.only = FactorRole::Heads;
  }
  return constraint;
}
