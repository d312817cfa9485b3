//===- CompileSteps.cpp - The compiler's steps on a module ----------------===//

#include "dsp/Driver/CompileSteps.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/Pipelines.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;

void mlir::dsp::registerCompilerDialects(DialectRegistry &registry) {
  registry.insert<DSPDialect, func::FuncDialect>();
  registerGpuCodegen(registry);
}

/// A pass manager on `module`'s context, set up by `setup`.
static FailureOr<std::unique_ptr<PassManager>>
newPassManager(ModuleOp module, mlir::dsp::PassManagerSetup setup) {
  auto pm = std::make_unique<PassManager>(module.getContext(),
                                          ModuleOp::getOperationName(),
                                          OpPassManager::Nesting::Implicit);
  if (failed(setup(*pm)))
    return failure();
  return pm;
}

LogicalResult mlir::dsp::planModule(ModuleOp module, bool importCleanup,
                                    PipelineSetup addPipeline,
                                    PassManagerSetup setup) {
  FailureOr<std::unique_ptr<PassManager>> pm = newPassManager(module, setup);
  if (failed(pm))
    return failure();
  if (importCleanup)
    buildImportCleanupPipeline(**pm);
  if (failed(addPipeline(**pm)))
    return failure();
  return (*pm)->run(module);
}

LogicalResult mlir::dsp::lowerForProgram(ModuleOp module,
                                         PassManagerSetup setup) {
  FailureOr<std::unique_ptr<PassManager>> pm = newPassManager(module, setup);
  if (failed(pm))
    return failure();
  buildProgramLoweringPipeline(**pm, getTarget(module),
                               getOverlapChunks(module));
  return (*pm)->run(module);
}

void mlir::dsp::printOnnxDiagnostic(Diagnostic &diagnostic, raw_ostream &os) {
  Location loc = diagnostic.getLocation();
  if (auto name = dyn_cast<NameLoc>(loc))
    os << "'" << name.getName().getValue() << "': ";
  else if (auto file = dyn_cast<FileLineColLoc>(loc))
    os << file.getFilename().getValue() << ": ";
  switch (diagnostic.getSeverity()) {
  case DiagnosticSeverity::Error:
    os << "error: ";
    break;
  case DiagnosticSeverity::Warning:
    os << "warning: ";
    break;
  case DiagnosticSeverity::Note:
    os << "note: ";
    break;
  case DiagnosticSeverity::Remark:
    os << "remark: ";
    break;
  }
  os << diagnostic << "\n";
}
