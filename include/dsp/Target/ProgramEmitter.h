//===- ProgramEmitter.h - dsp IR to .dspx programs --------------*- C++ -*-===//
//
// Serialization of a module's `@main` as a program, 1:1: one tensor per
// value, one instruction per op. A multi-rank module must be per-rank IR
// (--dsp-localize) and give each result a value of its own
// (--dsp-materialize-results); buildProgramLoweringPipeline runs both.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_TARGET_PROGRAMEMITTER_H
#define DSP_TARGET_PROGRAMEMITTER_H

#include "dsp/Format/ProgramFile.h"
#include "mlir/IR/BuiltinOps.h"

#include <list>
#include <vector>

namespace mlir::dsp {

/// A program and the weights it refers to.
struct SerializedProgram {
  ::dsp::program::Program program;
  /// Where each weight's bytes are: in the module's blobs, or in `expanded`.
  std::vector<::dsp::format::WeightData> weights;
  /// Bytes of constants that have no contiguous storage of their own
  /// (splats, booleans), one element (a byte for booleans) each.
  std::list<std::vector<char>> expanded;
};

/// The program of `module`'s `@main` with a liveness-based buffer plan;
/// weights are referenced, never copied, so `module` must outlive it.
FailureOr<SerializedProgram> serializeProgram(ModuleOp module);

/// Writes the program of `module` to `path`. Reports problems as diagnostics.
LogicalResult emitProgram(ModuleOp module, StringRef path);

/// Prints the program of `module` without its weights' bytes, in protobuf
/// text format, to read or to test.
LogicalResult emitProgramText(ModuleOp module, raw_ostream &os);

} // namespace mlir::dsp

#endif // DSP_TARGET_PROGRAMEMITTER_H
