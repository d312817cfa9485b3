//===- PlanReport.h - The plan as JSON, text and Graphviz -------*- C++ -*-===//

#ifndef DSP_TRANSFORMS_PLANREPORT_H
#define DSP_TRANSFORMS_PLANREPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

namespace mlir::dsp {

/// The plan of a sharded module with explicit collectives: one entry per
/// collective (kind, location, shape, dtype, bytes_per_rank, modeled
/// seconds), totals, compute FLOPs and the sharding of each compute stage.
/// The schema is in docs/sharding.md ("Reading a plan"); dsp-run's --stats-json
/// uses the same names.
llvm::json::Object buildPlanReport(ModuleOp module);
/// A readable table of the report.
void printPlanSummary(const llvm::json::Object &report, raw_ostream &os);
/// The plan as a Graphviz graph: compute ops labelled with location and
/// layout, coloured by the axis they are split on, a cluster per repeated
/// block, collectives as labelled edges. `compact` draws a node per group
/// of consecutive stages split alike, and a run of blocks with the same
/// plan once.
void printPlanDot(ModuleOp module, raw_ostream &os, bool compact = false);

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_PLANREPORT_H
