//===- Pipelines.cpp - dsp pass pipelines ---------------------------------===//

#include "dsp/Transforms/Pipelines.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void dsp::buildImportCleanupPipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createFuseAttention());
  pm.addPass(createFuseActivations());
  // After the fusions, which match the exported subgraphs whole.
  pm.addPass(createSinkConcat());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

namespace {
struct PipelineOptions : public PassPipelineOptions<PipelineOptions> {
  Option<int64_t> ranks{*this, "ranks",
                        llvm::cl::desc("Number of ranks of the device group"),
                        llvm::cl::init(1)};
};
} // namespace

void dsp::registerPipelines() {
  PassPipelineRegistration<PipelineOptions>(
      "dsp-pipeline",
      "Compiles imported dsp IR for a device group: folding and fusion",
      [](OpPassManager &pm, const PipelineOptions &options) {
        AssignGroupOptions group;
        group.ranks = options.ranks;
        pm.addPass(createAssignGroup(group));
        buildImportCleanupPipeline(pm);
      });
}
