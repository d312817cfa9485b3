//===- Passes.h - dsp passes ------------------------------------*- C++ -*-===//

#ifndef DSP_TRANSFORMS_PASSES_H
#define DSP_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::dsp {

/// The default of --dsp-propagate-sharding's mesh-pricing-limit (and of
/// --dsp-pipeline's).
constexpr int64_t kDefaultMeshPricingLimit = 262144;

#define GEN_PASS_DECL
#include "dsp/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dsp/Transforms/Passes.h.inc"

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_PASSES_H
