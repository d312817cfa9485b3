//===- ConvertDtype.cpp - Narrow the storage type of f32 tensors ----------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Format/Float16.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace mlir::dsp {
#define GEN_PASS_DEF_CONVERTDTYPE
#include "dsp/Transforms/Passes.h.inc"

namespace {
struct ConvertDtype : impl::ConvertDtypeBase<ConvertDtype> {
  using Base::Base;
  void runOnOperation() override;
};

/// `type` with `narrow` for an f32 element type; other types unchanged.
Type narrowType(Type type, FloatType narrow) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.getElementType().isF32())
    return type;
  return tensor.clone(narrow);
}

/// The bits of `value` rounded to nearest even in `narrow` (the runtime's
/// conversion, so that compiled and bound values round alike).
uint16_t narrowBits(float value, FloatType narrow) {
  return isa<BFloat16Type>(narrow) ? ::dsp::format::floatToBfloat16(value)
                                   : ::dsp::format::floatToHalf(value);
}

/// The constant `value` of f32 elements stored in `narrow`, or null if it is
/// of a kind this pass does not know.
ElementsAttr narrowConstant(ElementsAttr value, FloatType narrow) {
  auto type = cast<RankedTensorType>(narrowType(value.getType(), narrow));
  if (auto dense = dyn_cast<DenseFPElementsAttr>(value)) {
    if (dense.isSplat()) {
      uint16_t bits = narrowBits(dense.getSplatValue<float>(), narrow);
      return DenseElementsAttr::get(
          type, APFloat(narrow.getFloatSemantics(), APInt(16, bits)));
    }
    SmallVector<uint16_t> bits;
    bits.reserve(dense.getNumElements());
    for (float element : dense.getValues<float>())
      bits.push_back(narrowBits(element, narrow));
    return DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(reinterpret_cast<const char *>(bits.data()),
                             bits.size() * sizeof(uint16_t)));
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(value);
  AsmResourceBlob *source =
      resource ? resource.getRawHandle().getBlob() : nullptr;
  if (!source)
    return nullptr;
  ArrayRef<float> elements = source->getDataAs<float>();
  AsmResourceBlob blob = HeapAsmResourceBlob::allocate(
      elements.size() * sizeof(uint16_t), alignof(uint16_t));
  auto *bits = reinterpret_cast<uint16_t *>(blob.getMutableData().data());
  for (auto [index, element] : llvm::enumerate(elements))
    bits[index] = narrowBits(element, narrow);
  return DenseResourceElementsAttr::get(type, resource.getRawHandle().getKey(),
                                        std::move(blob));
}
/// Whether `op` carries the angle of a sinusoidal embedding from its
/// operands to its result: element-wise arithmetic and moving data.
bool carriesAngles(Operation *op) {
  return op->hasTrait<OpTrait::dsp::Elementwise>() ||
         isa<ConstantOp, ReshapeOp, ExpandOp, TransposeOp, SliceOp, ConcatOp>(
             op);
}

/// The f32 values that stay f32: the angles that sin and cos read, and
/// what they are computed from through ops that carry them, up to function
/// arguments and constants; sin and cos compute in f32 too. bf16 keeps 8
/// bits of mantissa: a timestep of 500 times a frequency would be off by
/// radians.
DenseSet<Value> anglesOf(ModuleOp module) {
  DenseSet<Value> kept;
  SmallVector<Value> worklist;
  module.walk([&](Operation *op) {
    if (isa<SinOp, CosOp>(op))
      worklist.append({op->getOperand(0), op->getResult(0)});
  });
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    auto tensor = dyn_cast<RankedTensorType>(value.getType());
    Operation *producer = value.getDefiningOp();
    // A value another op makes (a matmul's, say) narrows as usual.
    if (!tensor || !tensor.getElementType().isF32() ||
        (producer && !carriesAngles(producer)) || !kept.insert(value).second)
      continue;
    if (producer)
      worklist.append(producer->operand_begin(), producer->operand_end());
  }
  return kept;
}

/// Casts where a kept f32 value and a narrowed one meet: an op that makes
/// kept values reads narrowed ones widened, and any other op reads kept
/// ones narrowed.
void castAtBoundaries(ModuleOp module, const DenseSet<Value> &kept,
                      FloatType narrow) {
  Type f32 = Float32Type::get(module.getContext());
  module.walk([&](Operation *user) {
    if (isa<func::FuncOp, ModuleOp>(user))
      return;
    bool keptUser = llvm::any_of(user->getResults(), [&](Value result) {
      return kept.contains(result);
    });
    for (OpOperand &operand : user->getOpOperands()) {
      auto type = dyn_cast<RankedTensorType>(operand.get().getType());
      if (!type || !isa<FloatType>(type.getElementType()))
        continue;
      Type wanted = type.clone(keptUser ? f32 : narrow);
      if (wanted == type)
        continue;
      OpBuilder builder(user);
      operand.set(
          CastOp::create(builder, user->getLoc(), wanted, operand.get()));
    }
  });
}
} // namespace

void ConvertDtype::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *context = module.getContext();
  FloatType narrow;
  if (dtype == "bf16")
    narrow = BFloat16Type::get(context);
  else if (dtype == "f16")
    narrow = Float16Type::get(context);
  else if (dtype != "f32") {
    emitError(module.getLoc(), "unknown dtype '")
        << dtype << "', expected f32, bf16 "
        << "or f16";
    return signalPassFailure();
  }
  if (!narrow)
    return;

  DenseSet<Value> kept = anglesOf(module);
  auto narrowUnlessKept = [&](Value value) {
    if (!kept.contains(value))
      value.setType(narrowType(value.getType(), narrow));
  };
  WalkResult walk = module.walk([&](Operation *op) {
    if (auto function = dyn_cast<func::FuncOp>(op)) {
      auto convert = [&](TypeRange types) {
        return llvm::map_to_vector(
            types, [&](Type type) { return narrowType(type, narrow); });
      };
      for (BlockArgument argument : function.getArguments())
        narrowUnlessKept(argument);
      function.setType(FunctionType::get(
          context, function.getBody().front().getArgumentTypes(),
          convert(function.getResultTypes())));
      return WalkResult::advance();
    }
    if (kept.contains(op->getNumResults() == 1 ? op->getResult(0) : Value()))
      return WalkResult::advance();
    if (auto constant = dyn_cast<ConstantOp>(op)) {
      if (!cast<ShapedType>(constant.getType()).getElementType().isF32())
        return WalkResult::advance();
      ElementsAttr value = narrowConstant(constant.getValue(), narrow);
      if (!value) {
        constant.emitError("cannot convert a constant of kind ")
            << constant.getValue() << " to " << dtype;
        return WalkResult::interrupt();
      }
      constant.setValueAttr(value);
    }
    for (Value result : op->getResults())
      narrowUnlessKept(result);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return signalPassFailure();
  if (!kept.empty())
    castAtBoundaries(module, kept, narrow);
}

} // namespace mlir::dsp
