//===- Pipelines.h - dsp pass pipelines -------------------------*- C++ -*-===//

#ifndef DSP_TRANSFORMS_PIPELINES_H
#define DSP_TRANSFORMS_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace mlir::dsp {

/// Folding and fusion that run after an ONNX import: canonicalize, fuse
/// attention and activations, sink broadcasts and concats to their uses,
/// canonicalize again, CSE.
void buildImportCleanupPipeline(OpPassManager &pm);

/// Registers `--dsp-pipeline`.
void registerPipelines();

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_PIPELINES_H
