//===- CostModel.h - Alpha-beta collectives and compute ---------*- C++ -*-===//
//
// A collective moving `bytesPerRank` takes alpha + bytesPerRank / busBandwidth,
// where bytesPerRank follows nccl-tests' bus bandwidth convention: the most
// bytes any one rank sends to other ranks. For a value of M bytes (with
// pads) on N ranks:
//   all_to_all      M (N-1) / N^2   (a rank keeps 1/N of its block)
//   all_gather      M (N-1) / N
//   reduce_scatter  M (N-1) / N
//   all_reduce      2 M (N-1) / N  (M padded to a multiple of N elements
//                                   by the caller, as the ring moves it)
// Compute costs FLOPs of the busiest rank at `flopsPerSecond`, so work that
// every rank repeats is never free.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_TRANSFORMS_COSTMODEL_H
#define DSP_TRANSFORMS_COSTMODEL_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringRef.h"

namespace mlir::dsp {

enum class CollectiveKind { AllToAll, AllGather, AllReduce, ReduceScatter };

llvm::StringRef stringifyCollectiveKind(CollectiveKind kind);

struct CostModel {
  int64_t ranks = 1;
  /// Latency of one collective, seconds.
  double latency = 5e-6;
  /// Bus bandwidth, bytes per second (H100 NVLink by default).
  double busBandwidth = 370e9;
  /// Compute rate of one rank, FLOP per second.
  double flopsPerSecond = 400e12;

  /// Link presets: "nvlink" (H100 intra-node) and "infiniband" (one 400 Gb/s
  /// NIC per GPU across nodes). Returns false for an unknown name.
  bool applyPreset(llvm::StringRef name);

  /// Bytes one rank sends in a collective over a value of `bytes` (pads
  /// included).
  uint64_t bytesPerRank(CollectiveKind kind, uint64_t bytes) const;
  double collectiveSeconds(CollectiveKind kind, uint64_t bytes) const;
  double computeSeconds(double flops) const { return flops / flopsPerSecond; }
};

/// FLOPs of `op` on its global shapes (multiply-adds count 2).
double opFlops(Operation *op);

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_COSTMODEL_H
