//===- Pipelines.h - dsp pass pipelines -------------------------*- C++ -*-===//

#ifndef DSP_TRANSFORMS_PIPELINES_H
#define DSP_TRANSFORMS_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace mlir::dsp {

/// Folding and fusion that run after an ONNX import: canonicalize, fuse
/// attention and activations, sink broadcasts and concats to their uses,
/// canonicalize again, CSE.
void buildImportCleanupPipeline(OpPassManager &pm);

/// What turns a planned module into the IR a program serializes 1:1: a
/// value of its own per result (`--dsp-materialize-results`), then the
/// per-rank IR of `--dsp-localize`.
void buildProgramLoweringPipeline(OpPassManager &pm);

/// Registers `--dsp-pipeline` (import cleanup, sharding propagation, reshard
/// insertion: the plan, still global IR).
void registerPipelines();

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_PIPELINES_H
