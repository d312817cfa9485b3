//===- DSPAttrs.h - dsp attributes ------------------------------*- C++ -*-===//

#ifndef DSP_DIALECT_DSP_IR_DSPATTRS_H
#define DSP_DIALECT_DSP_IR_DSPATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

#include "dsp/Dialect/DSP/IR/DSPEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dsp/Dialect/DSP/IR/DSPAttrs.h.inc"

#endif // DSP_DIALECT_DSP_IR_DSPATTRS_H
