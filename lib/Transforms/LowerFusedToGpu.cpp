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
struct MergedSpace {
  SmallVector<int64_t> extents;
  /// Per operand, whether it is broadcast along each merged dim.
  SmallVector<SmallVector<bool>> broadcast;
};

MergedSpace mergeDims(ArrayRef<int64_t> space, TypeRange operands) {
  int64_t rank = space.size();
  auto isBroadcast = [&](Type type, int64_t dim) {
    ArrayRef<int64_t> shape = cast<RankedTensorType>(type).getShape();
    int64_t offset = rank - static_cast<int64_t>(shape.size());
    return dim < offset || shape[dim - offset] != space[dim];
  };
  MergedSpace merged;
  merged.broadcast.resize(operands.size());
  for (int64_t dim = 0; dim < rank; ++dim) {
    if (space[dim] == 1)
      continue;
    bool sameAsLast = !merged.extents.empty();
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

struct LowerFusedToGpu : impl::LowerFusedToGpuBase<LowerFusedToGpu> {
  void runOnOperation() override;

private:
  /// Replaces `fused` by a launch of a kernel called `name`.
  LogicalResult lowerOne(FusedOp fused, StringRef name);
  /// Builds `func.func @name` on memrefs in `scratch`: the linalg.generic
  /// of `fused`. Returns the extent of its innermost dim.
  FailureOr<int64_t> buildKernel(FusedOp fused, StringRef name,
                                 ModuleOp scratch);
  /// The scalar body of the linalg.generic: the fused ops on compute types.
  LogicalResult buildBody(FusedOp fused, OpBuilder &b, Location loc,
                          ValueRange arguments);
};
} // namespace

LogicalResult LowerFusedToGpu::buildBody(FusedOp fused, OpBuilder &b,
                                         Location loc, ValueRange arguments) {
  Block &body = fused.getBody().front();
  IRMapping scalars;
  for (auto [input, argument] : llvm::zip(body.getArguments(), arguments)) {
    Type compute = computeTypeOf(argument.getType());
    scalars.map(
        input,
        compute == argument.getType()
            ? argument
            : arith::ExtFOp::create(b, loc, compute, argument).getResult());
  }
  for (Operation &op : body.without_terminator()) {
    SmallVector<Value> operands = llvm::map_to_vector(
        op.getOperands(), [&](Value v) { return scalars.lookup(v); });
    Type resultType = computeTypeOf(getElementTypeOrSelf(op.getResult(0)));
    FailureOr<Value> scalar = emitScalar(b, &op, operands, resultType);
    if (failed(scalar))
      return failure();
    scalars.map(op.getResult(0), *scalar);
  }
  SmallVector<Value> results;
  for (Value value : body.getTerminator()->getOperands()) {
    Value scalar = scalars.lookup(value);
    Type storage = getElementTypeOrSelf(value);
    results.push_back(
        storage == scalar.getType()
            ? scalar
            : arith::TruncFOp::create(b, loc, storage, scalar).getResult());
  }
  linalg::YieldOp::create(b, loc, results);
  return success();
}

FailureOr<int64_t> LowerFusedToGpu::buildKernel(FusedOp fused, StringRef name,
                                                ModuleOp scratch) {
  MLIRContext *context = &getContext();
  Location loc = fused.getLoc();
  ArrayRef<int64_t> space =
      cast<RankedTensorType>(fused.getResult(0).getType()).getShape();
  MergedSpace merged = mergeDims(space, fused.getInputs().getTypes());
  int64_t rank = merged.extents.size();

  // The loops run over rows and columns: the last merged dim, and all the
  // others as one linear row index, so that the rows go to the grid's x
  // extent (2^31 - 1; y and z stop at 65535). Each operand keeps its merged
  // dims and reads dim k of row i at (i floordiv stride_k) mod extent_k.
  int64_t columns = merged.extents.back();
  int64_t rows = 1;
  SmallVector<AffineExpr> rowIndex(rank - 1);
  AffineExpr row = getAffineDimExpr(0, context);
  for (int64_t dim = rank - 2; dim >= 0; --dim) {
    rowIndex[dim] = row.floorDiv(rows) % merged.extents[dim];
    rows *= merged.extents[dim];
  }
  bool twoDims = rank > 1;
  unsigned loops = twoDims ? 2 : 1;
  AffineExpr column = getAffineDimExpr(loops - 1, context);
  auto accessMap = [&](ArrayRef<bool> broadcast) {
    SmallVector<AffineExpr> exprs;
    for (int64_t dim = 0; dim < rank; ++dim) {
      AffineExpr index = dim == rank - 1 ? column : rowIndex[dim];
      exprs.push_back(broadcast[dim] ? getAffineConstantExpr(0, context)
                                     : index);
    }
    return AffineMap::get(loops, 0, exprs, context);
  };

  // The kernel's memrefs: inputs in the merged space (extent 1 where
  // broadcast), then the results (rows by columns).
  SmallVector<Type> memrefs;
  SmallVector<AffineMap> maps;
  for (auto [index, input] : llvm::enumerate(fused.getInputs())) {
    SmallVector<int64_t> shape;
    for (int64_t dim = 0; dim < rank; ++dim)
      shape.push_back(merged.broadcast[index][dim] ? 1 : merged.extents[dim]);
    memrefs.push_back(MemRefType::get(shape, getElementTypeOrSelf(input)));
    maps.push_back(accessMap(merged.broadcast[index]));
  }
  // The results are contiguous: rows by columns, which also gives linalg
  // the loop bounds.
  SmallVector<int64_t> resultShape = twoDims
                                         ? SmallVector<int64_t>{rows, columns}
                                         : SmallVector<int64_t>{columns};
  for (Value result : fused.getResults()) {
    memrefs.push_back(
        MemRefType::get(resultShape, getElementTypeOrSelf(result)));
    maps.push_back(AffineMap::getMultiDimIdentityMap(loops, context));
  }

  OpBuilder b(scratch.getBody(), scratch.getBody()->end());
  auto function = func::FuncOp::create(b, loc, name,
                                       FunctionType::get(context, memrefs, {}));
  Block *entry = function.addEntryBlock();
  b.setInsertionPointToStart(entry);
  size_t numInputs = fused.getInputs().size();
  SmallVector<utils::IteratorType> iterators(loops,
                                             utils::IteratorType::parallel);
  LogicalResult built = success();
  linalg::GenericOp::create(
      b, loc, entry->getArguments().take_front(numInputs),
      entry->getArguments().drop_front(numInputs), maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange arguments) {
        built = buildBody(fused, nested, nestedLoc,
                          arguments.take_front(numInputs));
      });
  func::ReturnOp::create(b, loc);
  if (failed(built))
    return failure();
  return columns;
}

/// MLIR's GPU path from the linalg.generic of `scratch` to a launch of an
/// outlined kernel: parallel loops, tiled by one block of threads along the
/// innermost of `rank` dims, the outer dims on the grid.
static void buildKernelPipeline(OpPassManager &pipeline, int64_t rank,
                                int64_t innermost) {
  SmallVector<int64_t> tiles(rank, 1);
  tiles.back() = std::min<int64_t>(kBlockThreads, llvm::alignTo(innermost, 32));
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
  auto eraseScratch = llvm::make_scope_exit([&] { scratch.erase(); });
  FailureOr<int64_t> innermost = buildKernel(fused, name, scratch);
  if (failed(innermost))
    return failure();
  auto function = scratch.lookupSymbol<func::FuncOp>(name);
  int64_t loops = 0;
  function.walk(
      [&](linalg::GenericOp generic) { loops = generic.getNumLoops(); });
  OpPassManager pipeline(ModuleOp::getOperationName());
  buildKernelPipeline(pipeline, loops, *innermost);
  if (failed(runPipeline(pipeline, scratch)))
    return failure();

  gpu::LaunchFuncOp launch;
  function.walk([&](gpu::LaunchFuncOp op) { launch = op; });
  auto kernelModule =
      launch
          ? scratch.lookupSymbol<gpu::GPUModuleOp>(launch.getKernelModuleName())
          : gpu::GPUModuleOp();
  if (!kernelModule)
    return fused.emitOpError("was not mapped to one GPU kernel");
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
