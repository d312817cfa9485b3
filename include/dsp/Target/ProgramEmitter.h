//===- ProgramEmitter.h - dsp IR to .dspx programs --------------*- C++ -*-===//

#ifndef DSP_TARGET_PROGRAMEMITTER_H
#define DSP_TARGET_PROGRAMEMITTER_H

#include "mlir/IR/BuiltinOps.h"

namespace mlir::dsp {

/// Writes the program of `module`'s `@main` function to `path`: one
/// instruction per op, the tensor table with a liveness-based buffer plan,
/// and the weights (streamed from their blobs, never copied in memory).
/// Reports problems as diagnostics.
LogicalResult emitProgram(ModuleOp module, StringRef path);

} // namespace mlir::dsp

#endif // DSP_TARGET_PROGRAMEMITTER_H
