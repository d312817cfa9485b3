//===- Compiler.cpp - ONNX model to program in one call -------------------===//

#include "dsp/Driver/Compiler.h"
#include "dsp/Driver/CompileSteps.h"
#include "dsp/Format/FileIO.h"
#include "dsp/Format/HostWorkspace.h"
#include "dsp/Import/OnnxImporter.h"
#include "dsp/Target/ProgramEmitter.h"
#include "dsp/Transforms/Pipelines.h"
#include "dsp/Transforms/PlanReport.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <mutex>

using namespace mlir;

namespace dsp::driver {

CompileResult compileProgram(const CompileRequest &request) {
  static std::once_flag registered;
  std::call_once(registered, [] { mlir::dsp::registerPipelines(); });
  DialectRegistry registry;
  mlir::dsp::registerCompilerDialects(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);

  CompileResult result;
  llvm::raw_string_ostream diagnostics(result.diagnostics);
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
    mlir::dsp::printOnnxDiagnostic(diagnostic, diagnostics);
    return success();
  });
  auto fail = [&](StringRef message) {
    diagnostics << message << "\n";
    return result;
  };

  if (request.reportThreads < 1 ||
      request.reportThreads > ::dsp::format::kMaxHostThreads)
    return fail("report threads " + std::to_string(request.reportThreads) +
                " is out of range: 1 to " +
                std::to_string(::dsp::format::kMaxHostThreads));
  mlir::dsp::OnnxImportOptions importOptions;
  importOptions.loadWeights = request.loadWeights;
  std::string error;
  if (failed(mlir::dsp::parseInputShapes(request.inputShapes, importOptions,
                                         error)) ||
      failed(mlir::dsp::parseFrozenInputs(request.frozenInputs, importOptions,
                                          error)))
    return fail(error);
  OwningOpRef<ModuleOp> module =
      mlir::dsp::importOnnxFile(context, request.model, importOptions);
  if (!module)
    return result;

  auto noSetup = [](PassManager &) { return success(); };
  auto addPipeline = [&](PassManager &pm) -> LogicalResult {
    if (request.pipeline.empty())
      return success();
    // The option parser prints an unknown name to stderr and reports only
    // that parsing failed.
    std::vector<std::string> names = mlir::dsp::pipelineOptionNames();
    for (StringRef option : llvm::split(request.pipeline, ' ')) {
      StringRef name = option.split('=').first;
      if (!name.empty() && !llvm::is_contained(names, name.str())) {
        diagnostics << "unknown option '" << name << "' of --dsp-pipeline ("
                    << llvm::join(names, ", ") << ")\n";
        return failure();
      }
    }
    std::string parseErrors;
    llvm::raw_string_ostream errors(parseErrors);
    if (succeeded(parsePassPipeline("dsp-pipeline{" + request.pipeline + "}",
                                    pm, errors)))
      return success();
    diagnostics << "invalid options of --dsp-pipeline '" << request.pipeline
                << "': " << parseErrors;
    return failure();
  };
  if (failed(mlir::dsp::planModule(*module, /*importCleanup=*/true, addPipeline,
                                   noSetup)))
    return result;
  llvm::json::Object report = mlir::dsp::buildPlanReport(*module);
  if (failed(mlir::dsp::lowerForProgram(*module, noSetup)))
    return result;
  mlir::dsp::ProgramOptions options;
  options.folder = ::dsp::format::parentFolder(request.output);
  FailureOr<mlir::dsp::SerializedProgram> program =
      mlir::dsp::serializeProgram(*module, options);
  if (failed(program))
    return result;
  report["memory"] =
      mlir::dsp::programMemory(program->program, request.reportThreads);
  llvm::raw_string_ostream summary(result.summary);
  mlir::dsp::printPlanSummary(report, summary);
  result.reportJson =
      llvm::formatv("{0:2}\n", llvm::json::Value(std::move(report))).str();
  if (failed(mlir::dsp::writeProgram(*module, *program, request.output)))
    return result;
  result.succeeded = true;
  return result;
}

} // namespace dsp::driver
