//===- AssignGroup.cpp - Attach the device group to the module ------------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::dsp {
#define GEN_PASS_DEF_ASSIGNGROUP
#include "dsp/Transforms/Passes.h.inc"

namespace {
struct AssignGroup : impl::AssignGroupBase<AssignGroup> {
  using AssignGroupBase::AssignGroupBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (ranks < 1) {
      module.emitError() << "ranks must be at least 1, got " << ranks;
      return signalPassFailure();
    }
    int64_t existing = getGroupRanks(module);
    if (existing != 0 && existing != ranks) {
      module.emitError() << "the module already has a device group of "
                         << existing << " ranks; cannot compile it for "
                         << ranks;
      return signalPassFailure();
    }
    module->setAttr(DSPDialect::kGroupAttrName,
                    GroupAttr::get(&getContext(), ranks));
  }
};
} // namespace
} // namespace mlir::dsp
