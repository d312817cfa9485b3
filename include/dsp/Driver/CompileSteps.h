//===- CompileSteps.h - The compiler's steps on a module --------*- C++ -*-===//
//
// What dsp-opt and the Python package do with an imported module: plan it
// (import cleanup and the --dsp-pipeline passes) and lower it into the IR
// a program serializes. Each front end sets up its pass managers its own
// way (dsp-opt applies its command line's pass manager options).
//
//===----------------------------------------------------------------------===//

#ifndef DSP_DRIVER_COMPILESTEPS_H
#define DSP_DRIVER_COMPILESTEPS_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace mlir::dsp {

/// Sets up a pass manager before passes are added to it.
using PassManagerSetup = function_ref<LogicalResult(PassManager &)>;
/// Adds the planning passes to a pass manager.
using PipelineSetup = function_ref<LogicalResult(PassManager &)>;

/// Adds the dialects that the compile steps create or read to `registry`.
void registerCompilerDialects(DialectRegistry &registry);

/// Runs on `module` the cleanup of an ONNX import (if `importCleanup`), then
/// the passes `addPipeline` adds, in one pass manager.
LogicalResult planModule(ModuleOp module, bool importCleanup,
                         PipelineSetup addPipeline, PassManagerSetup setup);

/// Lowers a planned module into the IR a program serializes 1:1
/// (buildProgramLoweringPipeline for the module's target).
LogicalResult lowerForProgram(ModuleOp module, PassManagerSetup setup);

/// Prints a diagnostic of an ONNX import as `'node': error: message` (or
/// `file: error: message`); the model is binary, so there is no source
/// line to show.
void printOnnxDiagnostic(Diagnostic &diagnostic, raw_ostream &os);

} // namespace mlir::dsp

#endif // DSP_DRIVER_COMPILESTEPS_H
