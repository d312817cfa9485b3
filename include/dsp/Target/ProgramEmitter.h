//===- ProgramEmitter.h - dsp IR to .dspx programs --------------*- C++ -*-===//
//
// Serialization of a module's `@main` as a program, 1:1: one tensor per
// value, one instruction per op. A multi-rank module must be per-rank IR
// (--dsp-localize) and give each result a value of its own
// (--dsp-materialize-results); buildProgramLoweringPipeline runs both.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_TARGET_PROGRAMEMITTER_H
#define DSP_TARGET_PROGRAMEMITTER_H

#include "dsp/Format/ProgramFile.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

#include <list>
#include <string>
#include <vector>

namespace mlir::dsp {

/// A program and the weights it refers to.
struct SerializedProgram {
  ::dsp::program::Program program;
  /// Where each weight's bytes are: in the module's blobs, or in `expanded`.
  std::vector<::dsp::format::WeightData> weights;
  /// Bytes of constants that have no contiguous storage of their own
  /// (splats, booleans), one element (a byte for booleans) each.
  std::list<std::vector<char>> expanded;
};

/// Where a program keeps the weights read from a model's external data
/// files.
enum class WeightStorage {
  /// In the program's own weight blob.
  Copy,
  /// In those files, named relative to the program's folder and checked at
  /// load by size and checksum; the files must lie inside that folder.
  Reference,
};

struct ProgramOptions {
  WeightStorage weights = WeightStorage::Copy;
  /// The folder the program is written to.
  std::string folder = ".";
  /// Seed of the weights generated at load in place of `dsp.weight` ops
  /// (a model imported with --no-weights).
  uint64_t weightSeed = 0;
};

/// The program of `module`'s `@main` with a liveness-based buffer plan;
/// weights are referenced, never copied, so `module` must outlive it.
FailureOr<SerializedProgram>
serializeProgram(ModuleOp module, const ProgramOptions &options = {});

/// What each rank of `program` allocates for it, as the plan report's
/// "memory": its activation arena, its bound inputs, which the runtime holds
/// beside the arena, and its workspaces: the collectives' staging and, on
/// the cpu backend with `threads` threads per rank, the compute kernels'
/// scratch (format::hostWorkspace). A program with GPU code leaves the
/// kernels' scratch out: the GPU libraries size it at run time.
llvm::json::Object programMemory(const ::dsp::program::Program &program,
                                 unsigned threads);

/// Writes the program of `module` to `path` (`options.folder` is taken from
/// it). Reports problems as diagnostics.
LogicalResult emitProgram(ModuleOp module, StringRef path,
                          ProgramOptions options = {});
/// Writes `serialized` to `path` (placing its weights, which sets their
/// offsets in it). Reports problems as diagnostics on `module`.
LogicalResult writeProgram(ModuleOp module, SerializedProgram &serialized,
                           StringRef path);

/// Prints the program of `module` without its weights' bytes, in protobuf
/// text format, to read or to test.
LogicalResult emitProgramText(ModuleOp module, raw_ostream &os,
                              const ProgramOptions &options = {});

} // namespace mlir::dsp

#endif // DSP_TARGET_PROGRAMEMITTER_H
