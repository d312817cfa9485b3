//===- LowerFusedToGpu.cpp - GPU kernels for dsp.fused ops ----------------===//
//
// Each dsp.fused op becomes a linalg.generic on memrefs in a scratch module
// nested in the one being compiled; MLIR's GPU path maps it to a kernel
// there, and the outlined gpu.module moves up next to the function, which
// launches it with dsp.launch.
//
//===----------------------------------------------------------------------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/Conversion/SCFToGPU/SCFToGPUPass.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace mlir::dsp {
#define GEN_PASS_DEF_LOWERFUSEDTOGPU
#include "dsp/Transforms/Passes.h.inc"

namespace {
/// Threads of one block, along the innermost merged dim.
constexpr int64_t kBlockThreads = 256;

/// The type a stored element is computed in: f32 for f16 and bf16.
Type computeTypeOf(Type storage) {
  if (isa<Float16Type, BFloat16Type>(storage))
    return Float32Type::get(storage.getContext());
  return storage;
}

Value floatConstant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

/// 1 / (1 + e^-x).
Value sigmoid(OpBuilder &b, Location loc, Value x) {
  Value one = floatConstant(b, loc, 1.0);
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(b, loc, one,
                               arith::AddFOp::create(b, loc, one, e));
}

Value gelu(OpBuilder &b, Location loc, Value x, bool tanhApproximation) {
  Value half = floatConstant(b, loc, 0.5);
  Value one = floatConstant(b, loc, 1.0);
  Value inner;
  if (tanhApproximation) {
    Value cube =
        arith::MulFOp::create(b, loc, x, arith::MulFOp::create(b, loc, x, x));
    Value poly = arith::AddFOp::create(
        b, loc, x,
        arith::MulFOp::create(b, loc, floatConstant(b, loc, 0.044715), cube));
    inner = math::TanhOp::create(
        b, loc,
        arith::MulFOp::create(
            b, loc, floatConstant(b, loc, std::sqrt(2.0 / M_PI)), poly));
  } else {
    inner = math::ErfOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, x,
                              floatConstant(b, loc, 1.0 / std::sqrt(2.0))));
  }
  return arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, half, x),
                               arith::AddFOp::create(b, loc, one, inner));
}

/// Converts a scalar between compute types as dsp.cast does: floats to
/// integers round toward zero and saturate (NaN is 0), to booleans compare
/// with zero.
Value castScalar(OpBuilder &b, Location loc, Value x, Type to) {
  Type from = x.getType();
  if (from == to)
    return x;
  if (to.isInteger(1))
    return isa<FloatType>(from)
               ? arith::CmpFOp::create(
                     b, loc, arith::CmpFPredicate::UNE, x,
                     arith::ConstantOp::create(b, loc, b.getFloatAttr(from, 0)))
                     .getResult()
               : arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, x,
                                       arith::ConstantOp::create(
                                           b, loc, b.getIntegerAttr(from, 0)))
                     .getResult();
  if (isa<FloatType>(to)) {
    if (isa<FloatType>(from))
      return arith::ExtFOp::create(b, loc, to, x);
    if (from.isInteger(1))
      return arith::UIToFPOp::create(b, loc, to, x);
    return arith::SIToFPOp::create(b, loc, to, x);
  }
  if (isa<FloatType>(from)) {
    unsigned width = to.getIntOrFloatBitWidth();
    double limit = std::ldexp(1.0, width - 1);
    Value clamped = arith::MaximumFOp::create(
        b, loc, x,
        arith::ConstantOp::create(b, loc, b.getFloatAttr(from, -limit)));
    // The largest float below 2^(width-1) converts without overflow.
    clamped = arith::MinimumFOp::create(
        b, loc, clamped,
        arith::ConstantOp::create(
            b, loc, b.getFloatAttr(from, std::nextafter(float(limit), 0.0f))));
    Value converted = arith::FPToSIOp::create(b, loc, to, clamped);
    Value isNan =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, x, x);
    return arith::SelectOp::create(
        b, loc, isNan,
        arith::ConstantOp::create(b, loc, b.getIntegerAttr(to, 0)), converted);
  }
  if (from.isInteger(1))
    return arith::ExtUIOp::create(b, loc, to, x);
  if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
    return arith::ExtSIOp::create(b, loc, to, x);
  return arith::TruncIOp::create(b, loc, to, x);
}

/// Integer division as the cpu backend defines it: by zero is 0, by -1
/// wraps.
Value divideIntegers(OpBuilder &b, Location loc, Value x, Value y) {
  Type type = x.getType();
  Value zero = arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, 0));
  Value minusOne =
      arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, -1));
  Value isZero =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, y, zero);
  Value isMinusOne =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, y, minusOne);
  // A divisor of 0 or -1 never reaches the division.
  Value one = arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, 1));
  Value safe = arith::SelectOp::create(
      b, loc, arith::OrIOp::create(b, loc, isZero, isMinusOne), one, y);
  Value quotient = arith::DivSIOp::create(b, loc, x, safe);
  Value negated = arith::SubIOp::create(b, loc, zero, x);
  return arith::SelectOp::create(
      b, loc, isZero, zero,
      arith::SelectOp::create(b, loc, isMinusOne, negated, quotient));
}

Value compare(OpBuilder &b, Location loc, Value x, Value y,
              arith::CmpFPredicate floatPredicate,
              arith::CmpIPredicate intPredicate) {
  if (isa<FloatType>(x.getType()))
    return arith::CmpFOp::create(b, loc, floatPredicate, x, y);
  return arith::CmpIOp::create(b, loc, intPredicate, x, y);
}

/// The scalar of the result of `op`, an op of a dsp.fused body, from the
/// scalars of its operands (compute types). This is the one list of what
/// each element-wise op computes on the GPU; failure names an op it lacks.
FailureOr<Value> emitScalar(OpBuilder &b, Operation *op, ArrayRef<Value> in,
                            Type resultType) {
  Location loc = op->getLoc();
  bool isFloat = !in.empty() && isa<FloatType>(in[0].getType());
  auto binary = [&](auto floatOp, auto intOp) -> Value {
    using FloatOp = decltype(floatOp);
    using IntOp = decltype(intOp);
    if (isFloat)
      return FloatOp::create(b, loc, in[0], in[1]);
    return IntOp::create(b, loc, in[0], in[1]);
  };
  return TypeSwitch<Operation *, FailureOr<Value>>(op)
      .Case([&](ConstantOp constant) -> FailureOr<Value> {
        auto dense = cast<DenseElementsAttr>(constant.getValue());
        TypedAttr splat;
        if (isa<FloatType>(resultType))
          splat = b.getFloatAttr(
              resultType, dense.getSplatValue<APFloat>().convertToDouble());
        else
          splat = b.getIntegerAttr(resultType,
                                   dense.getSplatValue<APInt>().getSExtValue());
        return arith::ConstantOp::create(b, loc, splat).getResult();
      })
      .Case([&](NegOp) { return arith::NegFOp::create(b, loc, in[0]); })
      .Case([&](ExpOp) { return math::ExpOp::create(b, loc, in[0]); })
      .Case([&](LogOp) { return math::LogOp::create(b, loc, in[0]); })
      .Case([&](SqrtOp) { return math::SqrtOp::create(b, loc, in[0]); })
      .Case([&](ReciprocalOp) {
        return arith::DivFOp::create(b, loc, floatConstant(b, loc, 1.0), in[0]);
      })
      .Case([&](AbsOp) { return math::AbsFOp::create(b, loc, in[0]); })
      .Case([&](ErfOp) { return math::ErfOp::create(b, loc, in[0]); })
      .Case([&](TanhOp) { return math::TanhOp::create(b, loc, in[0]); })
      .Case([&](SigmoidOp) { return sigmoid(b, loc, in[0]); })
      .Case([&](ReluOp) {
        Value zero = floatConstant(b, loc, 0.0);
        Value positive = arith::CmpFOp::create(
            b, loc, arith::CmpFPredicate::OGT, in[0], zero);
        return arith::SelectOp::create(b, loc, positive, in[0], zero);
      })
      .Case([&](SinOp) { return math::SinOp::create(b, loc, in[0]); })
      .Case([&](CosOp) { return math::CosOp::create(b, loc, in[0]); })
      .Case([&](SiluOp) {
        return arith::MulFOp::create(b, loc, in[0], sigmoid(b, loc, in[0]));
      })
      .Case([&](GeluOp gelu_) {
        return gelu(b, loc, in[0], gelu_.getApproximate() == "tanh");
      })
      .Case([&](IsNaNOp) {
        return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, in[0],
                                     in[0]);
      })
      .Case([&](NotOp) {
        return arith::XOrIOp::create(
            b, loc, in[0],
            arith::ConstantOp::create(b, loc, b.getBoolAttr(true)));
      })
      .Case([&](CastOp) { return castScalar(b, loc, in[0], resultType); })
      .Case([&](AddOp) { return binary(arith::AddFOp(), arith::AddIOp()); })
      .Case([&](SubOp) { return binary(arith::SubFOp(), arith::SubIOp()); })
      .Case([&](MulOp) { return binary(arith::MulFOp(), arith::MulIOp()); })
      .Case([&](DivOp) -> Value {
        if (isFloat)
          return arith::DivFOp::create(b, loc, in[0], in[1]);
        return divideIntegers(b, loc, in[0], in[1]);
      })
      .Case([&](PowOp) { return binary(math::PowFOp(), math::IPowIOp()); })
      // As the cpu backend: the first operand unless the second compares
      // greater (smaller), so a NaN first operand loses to a number.
      .Case([&](MaxOp) {
        Value greater = compare(b, loc, in[1], in[0], arith::CmpFPredicate::OGT,
                                arith::CmpIPredicate::sgt);
        return arith::SelectOp::create(b, loc, greater, in[1], in[0]);
      })
      .Case([&](MinOp) {
        Value less = compare(b, loc, in[1], in[0], arith::CmpFPredicate::OLT,
                             arith::CmpIPredicate::slt);
        return arith::SelectOp::create(b, loc, less, in[1], in[0]);
      })
      .Case([&](EqualOp) {
        return compare(b, loc, in[0], in[1], arith::CmpFPredicate::OEQ,
                       arith::CmpIPredicate::eq);
      })
      .Case([&](LessOp) {
        return compare(b, loc, in[0], in[1], arith::CmpFPredicate::OLT,
                       arith::CmpIPredicate::slt);
      })
      .Case([&](LessEqualOp) {
        return compare(b, loc, in[0], in[1], arith::CmpFPredicate::OLE,
                       arith::CmpIPredicate::sle);
      })
      .Case([&](GreaterOp) {
        return compare(b, loc, in[0], in[1], arith::CmpFPredicate::OGT,
                       arith::CmpIPredicate::sgt);
      })
      .Case([&](GreaterEqualOp) {
        return compare(b, loc, in[0], in[1], arith::CmpFPredicate::OGE,
                       arith::CmpIPredicate::sge);
      })
      .Case([&](AndOp) { return arith::AndIOp::create(b, loc, in[0], in[1]); })
      .Case([&](OrOp) { return arith::OrIOp::create(b, loc, in[0], in[1]); })
      .Case([&](XorOp) { return arith::XOrIOp::create(b, loc, in[0], in[1]); })
      .Case([&](WhereOp) {
        return arith::SelectOp::create(b, loc, in[0], in[1], in[2]);
      })
      .Default([&](Operation *other) -> FailureOr<Value> {
        return other->emitOpError("has no GPU code generation");
      });
}

/// The iteration space of a fused op with its dims of extent 1 dropped and
/// adjacent dims merged where every operand holds them alike, whole or
/// broadcast: `[B, T*S, C] * [B, 1, C]` stays 3-D, `[N, C] + [C]` is 2-D.
/// With `lastDimAlone`, the last dim stays a merged dim of its own: the
/// dim a row op reduces.
struct MergedSpace {
  SmallVector<int64_t> extents;
  /// Per operand, whether it is broadcast along each merged dim.
  SmallVector<SmallVector<bool>> broadcast;
};

MergedSpace mergeDims(FusedOp fused, bool lastDimAlone) {
  ArrayRef<int64_t> space =
      cast<RankedTensorType>(fused.getResult(0).getType()).getShape();
  TypeRange operands = fused.getInputs().getTypes();
  int64_t rank = space.size();
  auto isBroadcast = [&](Type type, int64_t dim) {
    ArrayRef<int64_t> shape = cast<RankedTensorType>(type).getShape();
    int64_t offset = rank - static_cast<int64_t>(shape.size());
    return dim < offset || shape[dim - offset] != space[dim];
  };
  MergedSpace merged;
  merged.broadcast.resize(operands.size());
  for (int64_t dim = 0; dim < rank; ++dim) {
    bool alone = lastDimAlone && dim == rank - 1;
    if (space[dim] == 1 && !alone)
      continue;
    bool sameAsLast = !merged.extents.empty() && !alone;
    for (auto [index, type] : llvm::enumerate(operands))
      sameAsLast &= merged.broadcast[index].back() == isBroadcast(type, dim);
    if (sameAsLast) {
      merged.extents.back() *= space[dim];
      continue;
    }
    merged.extents.push_back(space[dim]);
    for (auto [index, type] : llvm::enumerate(operands))
      merged.broadcast[index].push_back(isBroadcast(type, dim));
  }
  if (merged.extents.empty()) {
    merged.extents.push_back(1);
    for (SmallVector<bool> &flags : merged.broadcast)
      flags.push_back(false);
  }
  return merged;
}

/// How a kernel's loops over rows and columns read its inputs: the columns
/// are the last merged dim and all the others are one linear row index, so
/// that the rows go to the grid's x extent (2^31 - 1; y and z stop at
/// 65535). Each input keeps its merged dims, extent 1 where broadcast, and
/// reads dim k of row i at (i floordiv stride_k) mod extent_k.
struct RowsAndColumns {
  int64_t rows = 1;
  int64_t columns;
  /// Per input, its shape and the map from the loop indices, (row, column)
  /// or (column) alone, to its indices.
  SmallVector<SmallVector<int64_t>> inputShapes;
  SmallVector<AffineMap> inputMaps;
};

RowsAndColumns describeRowsAndColumns(const MergedSpace &merged, unsigned loops,
                                      MLIRContext *context) {
  int64_t rank = merged.extents.size();
  RowsAndColumns layout;
  layout.columns = merged.extents.back();
  SmallVector<AffineExpr> rowIndex(rank - 1);
  AffineExpr row = getAffineDimExpr(0, context);
  for (int64_t dim = rank - 2; dim >= 0; --dim) {
    rowIndex[dim] = row.floorDiv(layout.rows) % merged.extents[dim];
    layout.rows *= merged.extents[dim];
  }
  AffineExpr column = getAffineDimExpr(loops - 1, context);
  for (ArrayRef<bool> broadcast : merged.broadcast) {
    SmallVector<int64_t> shape;
    SmallVector<AffineExpr> exprs;
    for (int64_t dim = 0; dim < rank; ++dim) {
      shape.push_back(broadcast[dim] ? 1 : merged.extents[dim]);
      AffineExpr index = dim == rank - 1 ? column : rowIndex[dim];
      exprs.push_back(broadcast[dim] ? getAffineConstantExpr(0, context)
                                     : index);
    }
    layout.inputShapes.push_back(shape);
    layout.inputMaps.push_back(AffineMap::get(loops, 0, exprs, context));
  }
  return layout;
}

/// The ops of a dsp.fused body that `roots` depend on, in order, and the
/// block arguments they read.
struct BodySlice {
  SmallVector<Operation *> ops;
  SmallVector<BlockArgument> arguments;
};

BodySlice sliceOf(Block &body, ValueRange roots) {
  SetVector<Value> needed(roots.begin(), roots.end());
  for (size_t index = 0; index < needed.size(); ++index)
    if (Operation *producer = needed[index].getDefiningOp())
      needed.insert(producer->operand_begin(), producer->operand_end());
  BodySlice slice;
  for (BlockArgument argument : body.getArguments())
    if (needed.contains(argument))
      slice.arguments.push_back(argument);
  for (Operation &op : body.without_terminator())
    if (needed.contains(op.getResult(0)))
      slice.ops.push_back(&op);
  return slice;
}

/// `value` widened to its compute type.
Value widen(OpBuilder &b, Location loc, Value value) {
  Type compute = computeTypeOf(value.getType());
  if (compute == value.getType())
    return value;
  return arith::ExtFOp::create(b, loc, compute, value);
}

/// The scalars of `ops`, ops of a dsp.fused body in order, into `scalars`,
/// which holds those of the values they read; ops whose scalar it holds
/// already are skipped.
LogicalResult emitScalars(OpBuilder &b, ArrayRef<Operation *> ops,
                          IRMapping &scalars) {
  for (Operation *op : ops) {
    if (scalars.contains(op->getResult(0)))
      continue;
    SmallVector<Value> operands = llvm::map_to_vector(
        op->getOperands(), [&](Value v) { return scalars.lookup(v); });
    Type resultType = computeTypeOf(getElementTypeOrSelf(op->getResult(0)));
    FailureOr<Value> scalar = emitScalar(b, op, operands, resultType);
    if (failed(scalar))
      return failure();
    scalars.map(op->getResult(0), *scalar);
  }
  return success();
}

/// The values `body` yields, from `scalars`, rounded once to their storage
/// types.
SmallVector<Value> storedResults(OpBuilder &b, Location loc, Block &body,
                                 const IRMapping &scalars) {
  SmallVector<Value> results;
  for (Value value : body.getTerminator()->getOperands()) {
    Value scalar = scalars.lookup(value);
    Type storage = getElementTypeOrSelf(value);
    results.push_back(
        storage == scalar.getType()
            ? scalar
            : arith::TruncFOp::create(b, loc, storage, scalar).getResult());
  }
  return results;
}

/// The statistics of one row that a row op needs, reduced across the
/// block's threads, and the row op's scalar of one column from them.
class RowStatistics {
public:
  /// Builds the reductions over the row with `reduce`, which combines a
  /// per-column term of the row op's input into a carried value over this
  /// thread's columns, then across the block.
  using Reduce = function_ref<FailureOr<Value>(
      Value init, gpu::AllReduceOperation across,
      function_ref<Value(OpBuilder &, Location, Value carried, Value input)>)>;

  static FailureOr<RowStatistics> build(OpBuilder &b, Location loc,
                                        Operation *rowOp, int64_t columns,
                                        Reduce reduce) {
    RowStatistics statistics(rowOp);
    Value zero = floatConstant(b, loc, 0.0);
    auto add = [](OpBuilder &nb, Location l, Value carried, Value term) {
      return arith::AddFOp::create(nb, l, carried, term).getResult();
    };
    Value count = floatConstant(b, loc, static_cast<double>(columns));
    if (auto norm = dyn_cast<LayerNormOp>(rowOp)) {
      // Two passes: the mean, then the mean square of (v - mean), which
      // does not cancel as a sum of squares would.
      FailureOr<Value> sum = reduce(zero, gpu::AllReduceOperation::ADD, add);
      if (failed(sum))
        return failure();
      Value mean = arith::DivFOp::create(b, loc, *sum, count);
      FailureOr<Value> squares = reduce(
          zero, gpu::AllReduceOperation::ADD,
          [&](OpBuilder &nb, Location l, Value carried, Value input) {
            Value d = arith::SubFOp::create(nb, l, input, mean);
            return add(nb, l, carried, arith::MulFOp::create(nb, l, d, d));
          });
      if (failed(squares))
        return failure();
      Value variance = arith::DivFOp::create(b, loc, *squares, count);
      statistics.center = mean;
      statistics.scale = math::RsqrtOp::create(
          b, loc,
          arith::AddFOp::create(
              b, loc, variance,
              floatConstant(b, loc, norm.getEpsilon().convertToDouble())));
      return statistics;
    }
    // Softmax: the maximum (NaN skipped), then the sum of exp(v - maximum).
    FailureOr<Value> maximum = reduce(
        floatConstant(b, loc, -INFINITY), gpu::AllReduceOperation::MAXNUMF,
        [](OpBuilder &nb, Location l, Value carried, Value input) {
          return arith::MaxNumFOp::create(nb, l, carried, input).getResult();
        });
    if (failed(maximum))
      return failure();
    FailureOr<Value> sum = reduce(
        zero, gpu::AllReduceOperation::ADD,
        [&](OpBuilder &nb, Location l, Value carried, Value input) {
          return add(nb, l, carried,
                     math::ExpOp::create(
                         nb, l, arith::SubFOp::create(nb, l, input, *maximum)));
        });
    if (failed(sum))
      return failure();
    statistics.center = *maximum;
    statistics.scale =
        arith::DivFOp::create(b, loc, floatConstant(b, loc, 1.0), *sum);
    return statistics;
  }

  /// The row op's result at one column, from the scalars of its operands
  /// there.
  Value result(OpBuilder &b, Location loc, const IRMapping &scalars) const {
    auto operand = [&](unsigned index) {
      return scalars.lookup(rowOp->getOperand(index));
    };
    Value centered = arith::SubFOp::create(b, loc, operand(0), center);
    if (auto norm = dyn_cast<LayerNormOp>(rowOp)) {
      Value value = arith::MulFOp::create(
          b, loc, arith::MulFOp::create(b, loc, centered, scale), operand(1));
      if (norm.getBias())
        value = arith::AddFOp::create(b, loc, value, operand(2));
      return value;
    }
    // A row that is all -inf has no probability mass: zeros.
    Value probability = arith::MulFOp::create(
        b, loc, math::ExpOp::create(b, loc, centered), scale);
    Value masked =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, center,
                              floatConstant(b, loc, -INFINITY));
    return arith::SelectOp::create(b, loc, masked, floatConstant(b, loc, 0.0),
                                   probability);
  }

private:
  explicit RowStatistics(Operation *rowOp) : rowOp(rowOp) {}

  Operation *rowOp;
  /// The mean (layer norm) or the maximum (softmax) of the row.
  Value center;
  /// 1 / sqrt(variance + epsilon) (layer norm) or 1 / sum (softmax).
  Value scale;
};

struct LowerFusedToGpu : impl::LowerFusedToGpuBase<LowerFusedToGpu> {
  void runOnOperation() override;

private:
  /// Replaces `fused` by a launch of a kernel called `name`.
  LogicalResult lowerOne(FusedOp fused, StringRef name);
  /// Builds `func.func @name` on memrefs in `scratch`: the linalg.generic
  /// of `fused`, and into `pipeline` the passes that map it to a kernel.
  LogicalResult buildKernel(FusedOp fused, StringRef name, ModuleOp scratch,
                            OpPassManager &pipeline);
  /// As buildKernel, for a body that holds the row op `rowOp`: a gpu.launch
  /// of one block per row.
  LogicalResult buildRowKernel(FusedOp fused, Operation *rowOp, StringRef name,
                               ModuleOp scratch, OpPassManager &pipeline);
};
} // namespace

/// Creates `func.func @name` at the end of `scratch` and returns its entry
/// block. Its arguments are memrefs: the inputs in their merged shapes,
/// then the results, contiguous in `resultShape`.
static Block *createKernelFunction(FusedOp fused, StringRef name,
                                   ModuleOp scratch,
                                   const RowsAndColumns &layout,
                                   ArrayRef<int64_t> resultShape) {
  SmallVector<Type> memrefs;
  for (auto [shape, input] : llvm::zip(layout.inputShapes, fused.getInputs()))
    memrefs.push_back(MemRefType::get(shape, getElementTypeOrSelf(input)));
  for (Value result : fused.getResults())
    memrefs.push_back(
        MemRefType::get(resultShape, getElementTypeOrSelf(result)));
  OpBuilder b(scratch.getBody(), scratch.getBody()->end());
  auto function =
      func::FuncOp::create(b, fused.getLoc(), name,
                           FunctionType::get(fused.getContext(), memrefs, {}));
  return function.addEntryBlock();
}

/// Threads of a block along `columns`: whole warps, at most kBlockThreads.
static int64_t blockThreads(int64_t columns) {
  return std::min<int64_t>(kBlockThreads, llvm::alignTo(columns, 32));
}

LogicalResult LowerFusedToGpu::buildKernel(FusedOp fused, StringRef name,
                                           ModuleOp scratch,
                                           OpPassManager &pipeline) {
  MLIRContext *context = &getContext();
  Location loc = fused.getLoc();
  MergedSpace merged = mergeDims(fused, /*lastDimAlone=*/false);
  bool twoDims = merged.extents.size() > 1;
  unsigned loops = twoDims ? 2 : 1;
  RowsAndColumns layout = describeRowsAndColumns(merged, loops, context);
  // The results' shape also gives linalg the loop bounds.
  SmallVector<int64_t> resultShape =
      twoDims ? SmallVector<int64_t>{layout.rows, layout.columns}
              : SmallVector<int64_t>{layout.columns};
  SmallVector<AffineMap> maps = layout.inputMaps;
  maps.append(fused.getNumResults(),
              AffineMap::getMultiDimIdentityMap(loops, context));

  Block *entry =
      createKernelFunction(fused, name, scratch, layout, resultShape);
  auto b = OpBuilder::atBlockBegin(entry);
  size_t numInputs = fused.getInputs().size();
  SmallVector<utils::IteratorType> iterators(loops,
                                             utils::IteratorType::parallel);
  Block &body = fused.getBody().front();
  LogicalResult built = success();
  linalg::GenericOp::create(
      b, loc, entry->getArguments().take_front(numInputs),
      entry->getArguments().drop_front(numInputs), maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange arguments) {
        IRMapping scalars;
        for (auto [input, argument] :
             llvm::zip(body.getArguments(), arguments.take_front(numInputs)))
          scalars.map(input, widen(nested, nestedLoc, argument));
        built = emitScalars(
            nested, sliceOf(body, body.getTerminator()->getOperands()).ops,
            scalars);
        if (succeeded(built))
          linalg::YieldOp::create(
              nested, nestedLoc,
              storedResults(nested, nestedLoc, body, scalars));
      });
  func::ReturnOp::create(b, loc);
  if (failed(built))
    return failure();

  // MLIR's GPU path from the linalg.generic to a launch of an outlined
  // kernel: parallel loops, tiled by one block of threads along the
  // innermost dim, the outer dims on the grid.
  SmallVector<int64_t> tiles(loops, 1);
  tiles.back() = blockThreads(layout.columns);
  OpPassManager &functions = pipeline.nest<func::FuncOp>();
  functions.addPass(createConvertLinalgToParallelLoopsPass());
  // Constant tile bounds with a guard inside, which the mapping to threads
  // needs where the tile does not divide the dim.
  functions.addPass(
      createParallelLoopTilingPass(tiles, /*noMinMaxBounds=*/true));
  // Rows on the grid's x, column tiles on its y; the threads of a tile
  // along the block's last used axis.
  functions.addPass(createGpuMapParallelLoopsPass());
  functions.addPass(createConvertParallelLoopToGpuPass());
  functions.addPass(createCanonicalizerPass());
  functions.addPass(createGpuLaunchSinkIndexComputationsPass());
  pipeline.addPass(createGpuKernelOutliningPass());
  pipeline.addPass(createCanonicalizerPass());
  return success();
}

LogicalResult LowerFusedToGpu::buildRowKernel(FusedOp fused, Operation *rowOp,
                                              StringRef name, ModuleOp scratch,
                                              OpPassManager &pipeline) {
  MLIRContext *context = &getContext();
  Location loc = fused.getLoc();
  MergedSpace merged = mergeDims(fused, /*lastDimAlone=*/true);
  RowsAndColumns layout = describeRowsAndColumns(merged, 2, context);
  int64_t threads = blockThreads(layout.columns);

  Block *entry = createKernelFunction(fused, name, scratch, layout,
                                      {layout.rows, layout.columns});
  auto b = OpBuilder::atBlockBegin(entry);
  auto indexConstant = [&](OpBuilder &builder, int64_t value) -> Value {
    return arith::ConstantIndexOp::create(builder, loc, value);
  };
  Value one = indexConstant(b, 1);
  auto launch =
      gpu::LaunchOp::create(b, loc, indexConstant(b, layout.rows), one, one,
                            indexConstant(b, threads), one, one);
  b.setInsertionPointToStart(&launch.getBody().front());
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPoint(launch.getBody().front().getTerminator());
  Value row = launch.getBlockIds().x;
  Value firstColumn = launch.getThreadIds().x;
  Value columns = indexConstant(b, layout.columns);
  Value step = indexConstant(b, threads);

  Block &body = fused.getBody().front();
  ValueRange kernelArguments = entry->getArguments();
  size_t numInputs = fused.getInputs().size();
  // The scalars of `arguments` at (row, column), widened.
  auto read = [&](OpBuilder &nb, Value column, ArrayRef<BlockArgument> inputs,
                  IRMapping &scalars) {
    for (BlockArgument input : inputs) {
      unsigned index = input.getArgNumber();
      std::optional<SmallVector<Value, 8>> indices = affine::expandAffineMap(
          nb, loc, layout.inputMaps[index], ValueRange{row, column});
      Value element =
          memref::LoadOp::create(nb, loc, kernelArguments[index], *indices);
      scalars.map(input, widen(nb, loc, element));
    }
  };

  // The row op's input is recomputed from the inputs in every pass over
  // the row, which costs no memory traffic beyond the reads.
  BodySlice inputSlice = sliceOf(body, rowOp->getOperand(0));
  auto reduce =
      [&](Value init, gpu::AllReduceOperation across,
          function_ref<Value(OpBuilder &, Location, Value, Value)> combine)
      -> FailureOr<Value> {
    LogicalResult emitted = success();
    auto loop = scf::ForOp::create(
        b, loc, firstColumn, columns, step, ValueRange{init},
        [&](OpBuilder &nb, Location l, Value column, ValueRange carried) {
          IRMapping scalars;
          read(nb, column, inputSlice.arguments, scalars);
          emitted = emitScalars(nb, inputSlice.ops, scalars);
          Value next = succeeded(emitted)
                           ? combine(nb, l, carried[0],
                                     scalars.lookup(rowOp->getOperand(0)))
                           : carried[0];
          scf::YieldOp::create(nb, l, next);
        });
    if (failed(emitted))
      return failure();
    return gpu::AllReduceOp::create(
               b, loc, loop.getResult(0),
               gpu::AllReduceOperationAttr::get(context, across),
               /*uniform=*/true)
        .getResult();
  };
  FailureOr<RowStatistics> statistics =
      RowStatistics::build(b, loc, rowOp, layout.columns, reduce);
  if (failed(statistics))
    return failure();

  // The last pass computes every op and writes the results once.
  BodySlice all = sliceOf(body, body.getTerminator()->getOperands());
  BodySlice rowOperands = sliceOf(body, rowOp->getOperands());
  LogicalResult emitted = success();
  scf::ForOp::create(
      b, loc, firstColumn, columns, step, ValueRange{},
      [&](OpBuilder &nb, Location l, Value column, ValueRange) {
        IRMapping scalars;
        read(nb, column, all.arguments, scalars);
        emitted = emitScalars(nb, rowOperands.ops, scalars);
        if (succeeded(emitted)) {
          scalars.map(rowOp->getResult(0), statistics->result(nb, l, scalars));
          emitted = emitScalars(nb, all.ops, scalars);
        }
        if (succeeded(emitted))
          for (auto [index, value] :
               llvm::enumerate(storedResults(nb, l, body, scalars)))
            memref::StoreOp::create(nb, l, value,
                                    kernelArguments[numInputs + index],
                                    ValueRange{row, column});
        scf::YieldOp::create(nb, l);
      });
  b.setInsertionPointAfter(launch);
  func::ReturnOp::create(b, loc);
  if (failed(emitted))
    return failure();

  pipeline.addPass(createGpuKernelOutliningPass());
  pipeline.addPass(createCanonicalizerPass());
  return success();
}

/// Gives the kernel that `launch` calls the parameters of `function`, in
/// its order (the fused op's inputs, then its results), which is the order
/// the runtime passes them in: outlining orders them by first use instead.
/// Fails if the kernel takes a value that is not one of them.
static LogicalResult orderKernelArguments(func::FuncOp function,
                                          gpu::LaunchFuncOp launch,
                                          gpu::GPUModuleOp kernelModule) {
  auto kernel =
      kernelModule.lookupSymbol<gpu::GPUFuncOp>(launch.getKernelName());
  Block &entry = function.getBody().front();
  SmallVector<unsigned> positions;
  for (Value operand : launch.getKernelOperands()) {
    auto argument = dyn_cast<BlockArgument>(operand);
    if (!kernel || !argument || argument.getOwner() != &entry)
      return failure();
    positions.push_back(argument.getArgNumber());
  }
  if (kernel.getNumWorkgroupAttributions() != 0 ||
      kernel.getNumPrivateAttributions() != 0 ||
      kernel.getNumArguments() != positions.size())
    return failure();
  unsigned used = positions.size();
  unsigned all = entry.getNumArguments();
  // The parameters in order after the used ones; then each used one's uses
  // move to its place there, and the used ones go.
  SmallVector<Type> types(entry.getArgumentTypes());
  SmallVector<DictionaryAttr> attributes(all);
  SmallVector<Location> locations(all, kernel.getLoc());
  if (failed(kernel.insertArguments(SmallVector<unsigned>(all, used), types,
                                    attributes, locations)))
    return failure();
  for (auto [index, position] : llvm::enumerate(positions))
    kernel.getArgument(index).replaceAllUsesWith(
        kernel.getArgument(used + position));
  llvm::BitVector erased(used + all);
  erased.set(0, used);
  return kernel.eraseArguments(erased);
}

/// A symbol name that `symbols` does not hold, nor with "_kernel" appended.
static std::string freshName(SymbolTable &symbols, unsigned &counter) {
  while (true) {
    std::string name = "fused_" + std::to_string(counter++);
    if (!symbols.lookup(name) && !symbols.lookup(name + "_kernel"))
      return name;
  }
}

LogicalResult LowerFusedToGpu::lowerOne(FusedOp fused, StringRef name) {
  ModuleOp module = getOperation();
  // The kernel is generated in a scratch module nested in this one, so that
  // the passes of MLIR's GPU path see only it.
  OpBuilder b(module.getBodyRegion());
  b.setInsertionPointToEnd(module.getBody());
  auto scratch = ModuleOp::create(b, fused.getLoc());
  llvm::scope_exit eraseScratch([&] { scratch.erase(); });
  OpPassManager pipeline(ModuleOp::getOperationName());
  Block &body = fused.getBody().front();
  auto rowOp = llvm::find_if(body, [](Operation &op) { return isRowOp(&op); });
  if (failed(rowOp == body.end()
                 ? buildKernel(fused, name, scratch, pipeline)
                 : buildRowKernel(fused, &*rowOp, name, scratch, pipeline)) ||
      failed(runPipeline(pipeline, scratch)))
    return failure();
  auto function = scratch.lookupSymbol<func::FuncOp>(name);

  gpu::LaunchFuncOp launch;
  function.walk([&](gpu::LaunchFuncOp op) { launch = op; });
  auto kernelModule =
      launch
          ? scratch.lookupSymbol<gpu::GPUModuleOp>(launch.getKernelModuleName())
          : gpu::GPUModuleOp();
  if (!kernelModule)
    return fused.emitOpError("was not mapped to one GPU kernel");
  if (failed(orderKernelArguments(function, launch, kernelModule)))
    return fused.emitOpError("has a kernel that reads a value other than its "
                             "inputs and results");
  auto extents = [](gpu::KernelDim3 dims) {
    return SmallVector<int64_t>{getConstantIntValue(dims.x).value_or(-1),
                                getConstantIntValue(dims.y).value_or(-1),
                                getConstantIntValue(dims.z).value_or(-1)};
  };
  OpBuilder builder(fused);
  auto launchOp = LaunchOp::create(
      builder, fused.getLoc(), fused.getResultTypes(), launch.getKernel(),
      builder.getDenseI64ArrayAttr(extents(launch.getGridSizeOperandValues())),
      builder.getDenseI64ArrayAttr(extents(launch.getBlockSizeOperandValues())),
      fused.getInputs());
  if (Attribute shardings = fused->getAttr(DSPDialect::kShardingAttrName))
    launchOp->setAttr(DSPDialect::kShardingAttrName, shardings);
  if (failed(launchOp.verify())) {
    launchOp.erase();
    return failure();
  }
  kernelModule->moveBefore(scratch);
  fused.replaceAllUsesWith(launchOp.getResults());
  fused.erase();
  return success();
}

void LowerFusedToGpu::runOnOperation() {
  ModuleOp module = getOperation();
  SmallVector<FusedOp> fusedOps;
  module.walk([&](FusedOp fused) { fusedOps.push_back(fused); });
  if (fusedOps.empty())
    return;
  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                  UnitAttr::get(&getContext()));
  SymbolTable symbols(module);
  unsigned counter = 0;
  for (FusedOp fused : fusedOps)
    if (failed(lowerOne(fused, freshName(symbols, counter))))
      return signalPassFailure();
}

} // namespace mlir::dsp
