//===- Compiler.h - ONNX model to program in one call -----------*- C++ -*-===//
//
// The whole compiler behind one function, for front ends that need neither
// MLIR's headers nor its build flags (the Python extension is built with
// exceptions, the compiler without): only standard types cross this header.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_DRIVER_COMPILER_H
#define DSP_DRIVER_COMPILER_H

#include <string>
#include <vector>

namespace dsp {
namespace driver {

struct CompileRequest {
  /// The .onnx (or .onnxtxt) model.
  std::string model;
  /// Where the program is written.
  std::string output;
  /// The options of --dsp-pipeline, as dsp-opt takes them ("ranks=4
  /// strategy=auto"); empty: nothing is planned, the program runs on 1 rank.
  std::string pipeline;
  /// As dsp-opt's --input-shape and --freeze-input values.
  std::vector<std::string> inputShapes;
  std::vector<std::string> frozenInputs;
  /// False: as dsp-opt's --no-weights.
  bool loadWeights = true;
  /// As dsp-opt's --dsp-report-threads: the threads per rank the report's
  /// memory is for.
  unsigned reportThreads = 1;
};

struct CompileResult {
  /// The plan as dsp-opt's --dsp-report writes it, and as --dsp-summary
  /// prints it.
  std::string reportJson;
  std::string summary;
  /// The diagnostics, one per line as dsp-opt prints them: the errors when
  /// compiling failed, otherwise any warnings.
  std::string diagnostics;
  bool succeeded = false;
};

/// Imports `request.model`, plans it, and writes its program.
CompileResult compileProgram(const CompileRequest &request);

} // namespace driver
} // namespace dsp

#endif // DSP_DRIVER_COMPILER_H
