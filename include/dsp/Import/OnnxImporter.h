//===- OnnxImporter.h - ONNX models into the dsp dialect --------*- C++ -*-===//

#ifndef DSP_IMPORT_ONNXIMPORTER_H
#define DSP_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"
#include <string>
#include <vector>

namespace mlir::dsp {

struct OnnxImportOptions {
  /// Read weight bytes; when false, large float initializers become
  /// shape-only `dsp.weight` ops.
  bool loadWeights = true;
  /// Shapes for graph inputs with symbolic dims, by input name.
  llvm::StringMap<std::vector<int64_t>> inputShapes;
  /// Graph inputs imported as constants, by input name: the resolved path
  /// of the .npy file that holds each one's value. Shapes that depend on
  /// such an input (NonZero of a text mask) then fold while the model is
  /// read.
  llvm::StringMap<std::string> frozenInputs;
};

/// Imports the ONNX model at `path` (binary protobuf, or ONNX's textual
/// syntax when the file ends in `.onnxtxt`) as a module holding one
/// `func.func @main`. Errors are reported as diagnostics on `context`;
/// returns null on failure.
OwningOpRef<ModuleOp> importOnnxFile(MLIRContext &context, StringRef path,
                                     const OnnxImportOptions &options);

/// Parses `--input-shape=NAME:D0xD1x...` values into `options`.
LogicalResult parseInputShapes(ArrayRef<std::string> specs,
                               OnnxImportOptions &options, std::string &error);

/// Parses `--freeze-input=NAME=@FILE.npy` values into `options`, resolving
/// each file's path.
LogicalResult parseFrozenInputs(ArrayRef<std::string> specs,
                                OnnxImportOptions &options, std::string &error);

} // namespace mlir::dsp

#endif // DSP_IMPORT_ONNXIMPORTER_H
