//===- FuseActivations.cpp - Fuse GELU and SiLU decompositions ------------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"
#include <cmath>

namespace mlir::dsp {
#define GEN_PASS_DEF_FUSEACTIVATIONS
#include "dsp/Transforms/Passes.h.inc"

namespace {
/// Ops a scalar activation subgraph may contain.
bool isScalarOp(Operation *op) {
  return isa<MulOp, AddOp, SubOp, DivOp, PowOp, ErfOp, TanhOp, SigmoidOp, ExpOp,
             NegOp>(op);
}

/// The ops of a scalar subgraph from `root` back to `input`, in def-before-
/// use order; empty if some path reaches anything but `input`, splat
/// constants or scalar ops.
SmallVector<Operation *> collectSubgraph(Operation *root, Value input) {
  llvm::SetVector<Operation *> ops;
  SmallVector<Operation *> worklist = {root};
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    if (!ops.insert(op))
      continue;
    for (Value operand : op->getOperands()) {
      if (operand == input || getSplatFloat(operand))
        continue;
      Operation *def = operand.getDefiningOp();
      if (!def || !isScalarOp(def) || operand.getType() != input.getType())
        return {};
      worklist.push_back(def);
    }
  }
  // Intermediate results must stay inside, or fusing would compute them
  // twice.
  for (Operation *op : ops)
    if (op != root)
      for (Operation *user : op->getUsers())
        if (!ops.contains(user))
          return {};
  SmallVector<Operation *> sorted(ops.begin(), ops.end());
  llvm::sort(sorted,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return sorted;
}

/// Evaluates the subgraph at `x`.
double evaluate(ArrayRef<Operation *> ops, Value input, double x) {
  DenseMap<Value, double> values;
  values[input] = x;
  auto get = [&](Value v) {
    if (auto c = getSplatFloat(v))
      return *c;
    return values.lookup(v);
  };
  for (Operation *op : ops) {
    double a = get(op->getOperand(0));
    double b = op->getNumOperands() > 1 ? get(op->getOperand(1)) : 0.0;
    double r = llvm::TypeSwitch<Operation *, double>(op)
                   .Case([&](MulOp) { return a * b; })
                   .Case([&](AddOp) { return a + b; })
                   .Case([&](SubOp) { return a - b; })
                   .Case([&](DivOp) { return a / b; })
                   .Case([&](PowOp) { return std::pow(a, b); })
                   .Case([&](ErfOp) { return std::erf(a); })
                   .Case([&](TanhOp) { return std::tanh(a); })
                   .Case([&](SigmoidOp) { return 1.0 / (1.0 + std::exp(-a)); })
                   .Case([&](ExpOp) { return std::exp(a); })
                   .Case([&](NegOp) { return -a; });
    values[op->getResult(0)] = r;
  }
  return values.lookup(ops.back()->getResult(0));
}

enum class Activation { None, GeluErf, GeluTanh, Silu };

Activation recognize(ArrayRef<Operation *> ops, Value input) {
  auto matches = [&](auto reference) {
    for (double x : {-4.0, -2.5, -1.0, -0.3, 0.0, 0.2, 0.7, 1.5, 3.0, 5.0})
      if (std::abs(evaluate(ops, input, x) - reference(x)) >
          1e-4 * (1.0 + std::abs(reference(x))))
        return false;
    return true;
  };
  bool usesErf =
      llvm::any_of(ops, [](Operation *op) { return isa<ErfOp>(op); });
  bool usesTanh =
      llvm::any_of(ops, [](Operation *op) { return isa<TanhOp>(op); });
  if (usesErf && matches([](double x) {
        return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
      }))
    return Activation::GeluErf;
  if (usesTanh && matches([](double x) {
        return 0.5 * x *
               (1.0 +
                std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
      }))
    return Activation::GeluTanh;
  if (matches([](double x) { return x / (1.0 + std::exp(-x)); }))
    return Activation::Silu;
  return Activation::None;
}

struct FuseActivations : impl::FuseActivationsBase<FuseActivations> {
  void runOnOperation() override {
    // Candidates for the input: values that feed at least two scalar ops,
    // as x does in x * sigmoid(x) and x * 0.5 * (1 + erf(x / sqrt 2)).
    SmallVector<Operation *> roots;
    getOperation()->walk([&](Operation *op) {
      if (isScalarOp(op))
        roots.push_back(op);
    });
    // Later roots cover more of a subgraph; try them first. A fusion erases
    // ops that come earlier in `roots`; they are skipped by address, never
    // dereferenced.
    llvm::DenseSet<Operation *> erased;
    for (Operation *root : llvm::reverse(roots)) {
      if (erased.contains(root))
        continue;
      auto type = dyn_cast<RankedTensorType>(root->getResult(0).getType());
      if (!type || !isa<FloatType>(type.getElementType()))
        continue;
      llvm::SetVector<Value> candidates;
      SmallVector<Operation *> frontier = {root};
      for (int depth = 0; depth < 10 && !frontier.empty(); ++depth) {
        SmallVector<Operation *> next;
        for (Operation *op : frontier)
          for (Value operand : op->getOperands()) {
            if (operand.getType() == type && !getSplatFloat(operand))
              candidates.insert(operand);
            if (Operation *def = operand.getDefiningOp();
                def && isScalarOp(def))
              next.push_back(def);
          }
        frontier = std::move(next);
      }
      // The farthest input covers the largest subgraph.
      for (Value input : llvm::reverse(candidates)) {
        SmallVector<Operation *> ops = collectSubgraph(root, input);
        if (ops.size() < 2)
          continue;
        Activation activation = recognize(ops, input);
        if (activation == Activation::None)
          continue;
        OpBuilder builder(root);
        Value fused;
        if (activation == Activation::Silu)
          fused = SiluOp::create(builder, root->getLoc(), input);
        else
          fused = GeluOp::create(builder, root->getLoc(), input,
                                 activation == Activation::GeluTanh ? "tanh"
                                                                    : "none");
        root->getResult(0).replaceAllUsesWith(fused);
        for (Operation *op : llvm::reverse(ops)) {
          erased.insert(op);
          op->erase();
        }
        break;
      }
    }
  }
};
} // namespace
} // namespace mlir::dsp
