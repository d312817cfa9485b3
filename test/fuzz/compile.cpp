//===- compile.cpp - Fuzzing the compiler from ONNX to a program ----------===//
//
// Input: two bytes of options, then a binary ONNX model. The model goes the
// way of `dsp-opt M.onnx --dsp-pipeline=... --emit=program`: import,
// verification, the import cleanup pipeline, --dsp-pipeline (sharding
// propagation and reshard insertion), the program lowering (per-rank IR),
// which must succeed on any plan, and program emission; the program written
// must then load. Options:
//   byte 0: ranks = 1 + (b & 3); strategy = ((b >> 2) % 5)-th of auto, dsp,
//           ulysses, megatron-sp, none
//   byte 1: bit 0 no weights, bit 1 allow replication, bit 2 the infiniband
//           preset
//
//===----------------------------------------------------------------------===//

#include "FuzzImport.h"
#include "FuzzUtil.h"
#include "OnnxMutator.h"

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Format/ProgramFile.h"
#include "dsp/Target/ProgramEmitter.h"
#include "dsp/Transforms/Pipelines.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace dsp::fuzz;

namespace {
constexpr size_t kOptionBytes = 2;
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  mlir::dsp::registerPipelines();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < kOptionBytes)
    return 0;
  static const char *const kStrategies[] = {"auto", "dsp", "ulysses",
                                            "megatron-sp", "none"};
  int ranks = 1 + (data[0] & 3);
  const char *strategy = kStrategies[(data[0] >> 2) % 5];
  bool loadWeights = !(data[1] & 1);
  bool allowReplication = data[1] & 2;
  const char *preset = (data[1] & 4) ? "infiniband" : "nvlink";

  ScratchFolder &folder = ScratchFolder::get();
  std::string modelPath =
      folder.write("model.onnx", data + kOptionBytes, size - kOptionBytes);
  FuzzContext fuzz;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      importAndVerify(fuzz, modelPath, loadWeights);
  if (!module)
    return 0;

  mlir::PassManager pm(&fuzz.context, mlir::ModuleOp::getOperationName(),
                       mlir::OpPassManager::Nesting::Implicit);
  mlir::dsp::buildImportCleanupPipeline(pm);
  std::string pipeline =
      std::string("dsp-pipeline{ranks=") + std::to_string(ranks) +
      " strategy=" + strategy + " preset=" + preset +
      " allow-replication=" + (allowReplication ? "true" : "false") + "}";
  std::string pipelineError;
  llvm::raw_string_ostream pipelineErrors(pipelineError);
  if (mlir::failed(mlir::parsePassPipeline(pipeline, pm, pipelineErrors)))
    fuzz.fail("cannot build the pipeline '" + pipeline + "': " + pipelineError);
  if (mlir::failed(pm.run(*module))) {
    fuzz.outcome("the pipeline failed");
    return 0;
  }
  // A plan the compiler made must lower to per-rank IR.
  mlir::PassManager lowering(&fuzz.context, mlir::ModuleOp::getOperationName(),
                             mlir::OpPassManager::Nesting::Implicit);
  mlir::dsp::buildProgramLoweringPipeline(lowering,
                                          mlir::dsp::getTarget(*module),
                                          mlir::dsp::getOverlapChunks(*module));
  if (mlir::failed(lowering.run(*module)))
    fuzz.fail("the plan does not lower to per-rank IR");

  std::string programPath = folder.path("program.dspx");
  if (mlir::failed(mlir::dsp::emitProgram(*module, programPath))) {
    fuzz.outcome("emission failed");
    folder.remove("program.dspx");
    return 0;
  }
  std::string error;
  bool overBudget = false;
  if (dsp::format::ProgramFile::open(programPath, error, kLoadedWeightBudget,
                                     &overBudget))
    fuzz.outcome("emitted a program that loads");
  else if (overBudget)
    fuzz.outcome("emitted a program whose weights exceed the budget");
  else
    fuzz.fail("the emitted program does not load: " + error);
  folder.remove("program.dspx");
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,
                                          size_t maxSize, unsigned int seed) {
  return mutateOnnxModel(data, size, maxSize, seed, kOptionBytes);
}

extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1,
                                            const uint8_t *data2, size_t size2,
                                            uint8_t *out, size_t maxOutSize,
                                            unsigned int seed) {
  return crossOverOnnxModels(data1, size1, data2, size2, out, maxOutSize, seed,
                             kOptionBytes);
}
