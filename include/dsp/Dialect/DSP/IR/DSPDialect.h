//===- DSPDialect.h - The dsp dialect ---------------------------*- C++ -*-===//

#ifndef DSP_DIALECT_DSP_IR_DSPDIALECT_H
#define DSP_DIALECT_DSP_IR_DSPDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dsp/Dialect/DSP/IR/DSPOpsDialect.h.inc"

#endif // DSP_DIALECT_DSP_IR_DSPDIALECT_H
