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
  pm.addPass(createSinkBroadcasts());
  pm.addPass(createSinkConcat());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void dsp::buildProgramLoweringPipeline(OpPassManager &pm) {
  pm.addPass(createMaterializeResults());
  pm.addPass(createLocalize());
}

namespace {
struct PipelineOptions : public PassPipelineOptions<PipelineOptions> {
  Option<int64_t> ranks{*this, "ranks",
                        llvm::cl::desc("Number of ranks of the device group"),
                        llvm::cl::init(1)};
  Option<std::string> strategy{
      *this, "strategy",
      llvm::cl::desc("auto, dsp, ulysses, megatron-sp or none"),
      llvm::cl::init("auto")};
  Option<std::string> preset{
      *this, "preset",
      llvm::cl::desc("Link preset: nvlink (H100 intra-node) or infiniband"),
      llvm::cl::init("nvlink")};
  Option<double> latencyUs{
      *this, "latency-us",
      llvm::cl::desc("Collective latency in microseconds (default: preset)"),
      llvm::cl::init(-1)};
  Option<double> busBandwidth{
      *this, "bus-bandwidth",
      llvm::cl::desc("Bus bandwidth in GB/s (default: preset)"),
      llvm::cl::init(-1)};
  Option<double> tflops{*this, "tflops",
                        llvm::cl::desc("Compute rate of one rank, TFLOP/s"),
                        llvm::cl::init(400)};
  Option<bool> allowReplication{
      *this, "allow-replication",
      llvm::cl::desc("Let ops with a sequence or batch factor run replicated "
                     "when the cost model finds that cheaper"),
      llvm::cl::init(false)};
};
} // namespace

void dsp::registerPipelines() {
  PassPipelineRegistration<PipelineOptions>(
      "dsp-pipeline",
      "Compiles imported dsp IR for a device group: folding and fusion, "
      "sharding propagation, reshard insertion",
      [](OpPassManager &pm, const PipelineOptions &options) {
        buildImportCleanupPipeline(pm);
        PropagateShardingOptions propagation;
        propagation.ranks = options.ranks;
        propagation.strategy = options.strategy;
        propagation.preset = options.preset;
        propagation.latencyUs = options.latencyUs;
        propagation.busBandwidthGBs = options.busBandwidth;
        propagation.tflops = options.tflops;
        propagation.allowReplication = options.allowReplication;
        pm.addPass(createPropagateSharding(propagation));
        pm.addPass(createInsertReshards());
      });
}
