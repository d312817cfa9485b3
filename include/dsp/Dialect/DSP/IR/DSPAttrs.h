//===- DSPAttrs.h - dsp attributes ------------------------------*- C++ -*-===//

#ifndef DSP_DIALECT_DSP_IR_DSPATTRS_H
#define DSP_DIALECT_DSP_IR_DSPATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

#include "dsp/Format/Layout.h"

#include "dsp/Dialect/DSP/IR/DSPEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dsp/Dialect/DSP/IR/DSPAttrs.h.inc"

#include <optional>

namespace mlir::dsp {
/// An all_to_all between two factors of one dim runs on a view of the dim
/// as the chain of both factors' cuts, each side splitting the first part
/// its factor spans.
struct FactorSwitchView {
  SmallVector<int64_t> shape;
  ShardingAttr from, to;
};
/// The view of a switch from `from` to `to` (both split on one dim of a
/// value of `type`) over `ranks`; none when the factors do not nest, or a
/// padded or uneven factor spans several parts, where no view has the
/// same blocks.
std::optional<FactorSwitchView> viewFactorSwitch(RankedTensorType type,
                                                 ShardingAttr from,
                                                 ShardingAttr to,
                                                 int64_t ranks);
} // namespace mlir::dsp

#endif // DSP_DIALECT_DSP_IR_DSPATTRS_H
