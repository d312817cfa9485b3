//===- Pipelines.h - dsp pass pipelines -------------------------*- C++ -*-===//

#ifndef DSP_TRANSFORMS_PIPELINES_H
#define DSP_TRANSFORMS_PIPELINES_H

#include "dsp/Dialect/DSP/IR/DSPAttrs.h"
#include "mlir/Pass/PassManager.h"

#include <string>
#include <vector>

namespace mlir::dsp {

/// Folding and fusion that run after an ONNX import: canonicalize, fuse
/// attention and activations, sink broadcasts and concats to their uses,
/// canonicalize again, CSE.
void buildImportCleanupPipeline(OpPassManager &pm);

/// What turns a planned module into the IR a program serializes 1:1: a
/// value of its own per result (`--dsp-materialize-results`), then the
/// per-rank IR of `--dsp-localize`, matmul epilogues fused and, for
/// `overlapChunks` above 1, each switch pipelined with its GEMM
/// (`--dsp-overlap-collectives`); for target cuda (null `target`: cpu),
/// element-wise fusion, GPU kernel generation and serialization.
void buildProgramLoweringPipeline(OpPassManager &pm, TargetAttr target,
                                  int64_t overlapChunks);

/// Lowers the module's gpu.modules to NVVM for `chip` and serializes them
/// into gpu.binary ops of `format` (fatbin, isa or bin).
void buildGpuBinaryPipeline(OpPassManager &pm, StringRef chip,
                            StringRef format);

/// Registers `--dsp-pipeline` and `--dsp-gpu-to-binary`
/// (buildGpuBinaryPipeline).
void registerPipelines();

/// The names of `--dsp-pipeline`'s options ("ranks", "strategy", ...).
std::vector<std::string> pipelineOptionNames();

/// Adds what the GPU kernel generation needs to `registry`: the GPU
/// dialect, the conversions to the LLVM dialect and to NVVM, the NVVM
/// target and the translations to LLVM IR.
void registerGpuCodegen(DialectRegistry &registry);

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_PIPELINES_H
