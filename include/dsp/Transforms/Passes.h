//===- Passes.h - dsp passes ------------------------------------*- C++ -*-===//

#ifndef DSP_TRANSFORMS_PASSES_H
#define DSP_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::dsp {

#define GEN_PASS_DECL
#include "dsp/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dsp/Transforms/Passes.h.inc"

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_PASSES_H
