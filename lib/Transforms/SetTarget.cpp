//===- SetTarget.cpp - Record the device kind of a module -----------------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/Passes.h"

namespace mlir::dsp {
#define GEN_PASS_DEF_SETTARGET
#include "dsp/Transforms/Passes.h.inc"

namespace {
struct SetTarget : impl::SetTargetBase<SetTarget> {
  using Base::Base;
  void runOnOperation() override;
};
} // namespace

void SetTarget::runOnOperation() {
  ModuleOp module = getOperation();
  std::optional<TargetKind> kind = symbolizeTargetKind(target);
  if (!kind) {
    emitError(module.getLoc(), "unknown target '")
        << target << "', expected cpu or cuda";
    return signalPassFailure();
  }
  StringAttr chipName = *kind == TargetKind::Cuda
                            ? StringAttr::get(module.getContext(), chip)
                            : StringAttr();
  auto emitTargetError = [&] { return emitError(module.getLoc()); };
  if (failed(TargetAttr::verifyInvariants(emitTargetError, *kind, chipName)))
    return signalPassFailure();
  auto attr = TargetAttr::get(module.getContext(), *kind, chipName);
  TargetAttr existing = getTarget(module);
  if (existing && existing != attr) {
    emitError(module.getLoc(), "the module is compiled for ")
        << existing << " already, not " << attr;
    return signalPassFailure();
  }
  module->setAttr(DSPDialect::kTargetAttrName, attr);
  if (overlapChunks < 1) {
    emitError(module.getLoc(), "overlap-chunks is ")
        << static_cast<int64_t>(overlapChunks) << ", expected 1 or more";
    return signalPassFailure();
  }
  if (overlapChunks > 1)
    module->setAttr(DSPDialect::kOverlapChunksAttrName,
                    IntegerAttr::get(IntegerType::get(module.getContext(), 64),
                                     overlapChunks));
}

} // namespace mlir::dsp
