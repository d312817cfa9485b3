//===- Pipelines.cpp - dsp pass pipelines ---------------------------------===//

#include "dsp/Transforms/Pipelines.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/Passes.h"
#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Process.h"

using namespace mlir;
using namespace mlir::dsp;

void mlir::dsp::buildImportCleanupPipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createFuseAttention());
  pm.addPass(createFuseActivations());
  // After the fusions, which match the exported subgraphs whole.
  pm.addPass(createSinkBroadcasts());
  pm.addPass(createSinkConcat());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

/// The PTX ISA version the NVPTX backend needs for `chip` ("sm_90").
static std::string ptxFeatures(StringRef chip) {
  unsigned sm = 0;
  chip.drop_front(3).take_while(llvm::isDigit).getAsInteger(10, sm);
  return sm >= 100 ? "+ptx86" : "+ptx80";
}

/// The CUDA toolkit that provides ptxas, fatbinary and libdevice:
/// $CUDA_HOME, else /usr/local/cuda where it exists, else MLIR's default.
static std::string cudaToolkitPath() {
  if (std::optional<std::string> home = llvm::sys::Process::GetEnv("CUDA_HOME"))
    return *home;
  return llvm::sys::fs::is_directory("/usr/local/cuda") ? "/usr/local/cuda"
                                                        : "";
}

void mlir::dsp::buildGpuBinaryPipeline(OpPassManager &pm, StringRef chip,
                                       StringRef format) {
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createSCFToControlFlowPass());
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  // One pointer per memref: the runtime passes the tensors' addresses.
  nvvm.useBarePtrCallConv = true;
  kernels.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = chip.str();
  target.features = ptxFeatures(chip);
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath = cudaToolkitPath();
  binary.compilationTarget = format.str();
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void mlir::dsp::buildProgramLoweringPipeline(OpPassManager &pm,
                                             TargetAttr target,
                                             int64_t overlapChunks) {
  pm.addPass(createMaterializeResults());
  pm.addPass(createLocalize());
  pm.addNestedPass<func::FuncOp>(createFuseMatmulEpilogue());
  // On the fused GEMMs, whose epilogues the chunks then carry.
  if (overlapChunks > 1)
    pm.addNestedPass<func::FuncOp>(
        createOverlapCollectives(OverlapCollectivesOptions{overlapChunks}));
  // After the chunking, which follows a switch through the transposes
  // around it.
  pm.addNestedPass<func::FuncOp>(createFoldCollectiveTransposes());
  if (!target || !target.isCuda()) {
    pm.addNestedPass<func::FuncOp>(createFoldAttentionTransposes());
    pm.addNestedPass<func::FuncOp>(createFoldProjectionTransposes());
  }
  // One fuser for both targets: the cpu runtime interprets the bodies, the
  // cuda lowering generates a kernel of each.
  pm.addNestedPass<func::FuncOp>(createFuseElementwise());
  if (!target || !target.isCuda())
    return;
  pm.addPass(createLowerFusedToGpu());
  // The fatbin holds the cubin of the chip and its PTX, which the driver
  // compiles for newer GPUs.
  buildGpuBinaryPipeline(pm, target.getChip().getValue(), "fatbin");
}

namespace {
struct PipelineOptions : public PassPipelineOptions<PipelineOptions> {
  Option<int64_t> ranks{*this, "ranks",
                        llvm::cl::desc("Number of ranks of the device group"),
                        llvm::cl::init(1)};
  Option<std::string> strategy{
      *this, "strategy",
      llvm::cl::desc("auto, dsp, ulysses, megatron-sp, ring, usp or none"),
      llvm::cl::init("auto")};
  Option<std::string> profile{
      *this, "profile",
      llvm::cl::desc("Device profile of each rank: h100, h200, or a profile "
                     "file (scripts/calibrate.py writes one)"),
      llvm::cl::init("h100")};
  Option<std::string> preset{
      *this, "preset",
      llvm::cl::desc("Link preset: nvlink (H100 intra-node) or infiniband "
                     "(default: the profile file's link, else nvlink)"),
      llvm::cl::init("")};
  Option<double> latencyUs{
      *this, "latency-us",
      llvm::cl::desc("Collective latency in microseconds (default: preset)"),
      llvm::cl::init(-1)};
  Option<double> busBandwidth{
      *this, "bus-bandwidth",
      llvm::cl::desc("Bus bandwidth in GB/s (default: preset)"),
      llvm::cl::init(-1)};
  Option<double> tflops{
      *this, "tflops",
      llvm::cl::desc("Peak compute rate of one rank, TFLOP/s (default: the "
                     "profile's)"),
      llvm::cl::init(-1)};
  Option<std::string> target{*this, "target", llvm::cl::desc("cpu or cuda"),
                             llvm::cl::init("cpu")};
  Option<std::string> chip{
      *this, "chip",
      llvm::cl::desc("NVIDIA SM architecture of target cuda (sm_90)"),
      llvm::cl::init("sm_90")};
  Option<std::string> dtype{
      *this, "dtype",
      llvm::cl::desc("Storage type of the activations and weights: f32, "
                     "bf16 or f16"),
      llvm::cl::init("f32")};
  Option<int64_t> overlapChunks{
      *this, "overlap-chunks",
      llvm::cl::desc("Pieces each all_to_all of the program is split into, "
                     "pipelined with the GEMM that feeds or reads it "
                     "(1: none)"),
      llvm::cl::init(1)};
  Option<bool> allowReplication{
      *this, "allow-replication",
      llvm::cl::desc("Let ops with a sequence or batch factor run replicated "
                     "when the cost model finds that cheaper"),
      llvm::cl::init(false)};
  Option<std::string> mesh{
      *this, "mesh",
      llvm::cl::desc("The ranks as a mesh, e.g. 2x4: one factor per mesh "
                     "axis; 8 pins one axis of 8 ranks (default: auto "
                     "chooses among one axis and two, others use one)"),
      llvm::cl::init("")};
  Option<int64_t> meshPricingLimit{
      *this, "mesh-pricing-limit",
      llvm::cl::desc("Distinct conversions auto may price for a mesh of two "
                     "axes before it gives that mesh up with a warning"),
      llvm::cl::init(kDefaultMeshPricingLimit)};
  Option<bool> secondBest{
      *this, "second-best",
      llvm::cl::desc("Apply the solver's second-best plan (for benchmarks "
                     "of the cost model's ranking)"),
      llvm::cl::init(false)};
  ListOption<std::string> keepSharded{
      *this, "keep-sharded",
      llvm::cl::desc("OUTPUT:INPUT pairs of names: each output keeps the "
                     "input's sharding instead of being gathered, so that it "
                     "can become that input of the next run on every rank")};
};
} // namespace

static void registerGpuBinaryPipeline();

std::vector<std::string> mlir::dsp::pipelineOptionNames() {
  // The options print as "{name=value name=value ...}", a list only when
  // it holds a value.
  PipelineOptions options;
  options.keepSharded.push_back("");
  std::string printed;
  llvm::raw_string_ostream os(printed);
  options.print(os);
  std::vector<std::string> names;
  for (StringRef item : llvm::split(StringRef(printed).trim("{}"), ' '))
    if (!item.empty())
      names.push_back(item.split('=').first.str());
  return names;
}

void mlir::dsp::registerPipelines() {
  registerGpuBinaryPipeline();
  PassPipelineRegistration<PipelineOptions>(
      "dsp-pipeline",
      "Compiles imported dsp IR for a device group: folding and fusion, "
      "target and dtype, sharding propagation, reshard insertion",
      [](OpPassManager &pm, const PipelineOptions &options) {
        buildImportCleanupPipeline(pm);
        SetTargetOptions target;
        target.target = options.target;
        target.chip = options.chip;
        target.overlapChunks = options.overlapChunks;
        pm.addPass(createSetTarget(target));
        ConvertDtypeOptions dtype;
        dtype.dtype = options.dtype;
        pm.addPass(createConvertDtype(dtype));
        PropagateShardingOptions propagation;
        propagation.ranks = options.ranks;
        propagation.strategy = options.strategy;
        propagation.profile = options.profile;
        propagation.preset = options.preset;
        propagation.latencyUs = options.latencyUs;
        propagation.busBandwidthGBs = options.busBandwidth;
        propagation.tflops = options.tflops;
        propagation.allowReplication = options.allowReplication;
        propagation.secondBest = options.secondBest;
        propagation.mesh = options.mesh;
        propagation.meshPricingLimit = options.meshPricingLimit;
        propagation.keepSharded.assign(options.keepSharded.begin(),
                                       options.keepSharded.end());
        pm.addPass(createPropagateSharding(propagation));
        pm.addPass(createInsertReshards());
      });
}

namespace {
struct GpuBinaryOptions : public PassPipelineOptions<GpuBinaryOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("NVIDIA SM architecture"),
                           llvm::cl::init("sm_90")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("fatbin (cubin and PTX) or isa (PTX text)"),
      llvm::cl::init("fatbin")};
};
} // namespace

static void registerGpuBinaryPipeline() {
  PassPipelineRegistration<GpuBinaryOptions>(
      "dsp-gpu-to-binary",
      "Lowers the gpu.modules of --dsp-lower-fused-to-gpu to NVVM and "
      "serializes them (gpu-module-to-binary)",
      [](OpPassManager &pm, const GpuBinaryOptions &options) {
        buildGpuBinaryPipeline(pm, options.chip, options.format);
      });
}

void mlir::dsp::registerGpuCodegen(DialectRegistry &registry) {
  registry.insert<gpu::GPUDialect>();
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  index::registerConvertIndexToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  ub::registerConvertUBToLLVMInterface(registry);
  registerConvertNVVMToLLVMInterface(registry);
  NVVM::registerConvertGpuToNVVMInterface(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
}
