//===- CostModel.h - Alpha-beta collectives and roofline compute -*- C++
//-*-===//
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
// An op costs its roofline on the busiest rank: the larger of its FLOPs
// over the device's peak rate for its element type and the bytes it reads
// and writes over the memory bandwidth, plus a fixed cost per kernel. Work
// that every rank repeats is never free, and weights every rank reads whole
// cost their bytes on every rank.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_TRANSFORMS_COSTMODEL_H
#define DSP_TRANSFORMS_COSTMODEL_H

#include "dsp/Dialect/DSP/IR/DSPAttrs.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace mlir::dsp {

enum class CollectiveKind { AllToAll, AllGather, AllReduce, ReduceScatter };

llvm::StringRef stringifyCollectiveKind(CollectiveKind kind);

/// What one rank's device computes at. Built-in profiles come from
/// published figures; a profile file (scripts/calibrate.py writes one for
/// the machine it runs on) holds measured ones, and may carry the link its
/// ranks talk over.
struct DeviceProfile {
  std::string name = "h100";
  /// Peak rates, FLOP per second: f32 (no TF32), and bf16/f16.
  double f32FlopsPerSecond = 67e12;
  double halfFlopsPerSecond = 989e12;
  /// Memory bandwidth, bytes per second.
  double memoryBandwidth = 3.35e12;
  /// Fixed cost of one kernel, seconds.
  double kernelSeconds = 2e-6;
  /// The link of a profile file (latency in seconds, bus bandwidth in bytes
  /// per second), used when no link preset is named; 0 if none.
  double linkLatency = 0, linkBusBandwidth = 0;

  /// "h100" (SXM) or "h200"; std::nullopt for another name.
  static std::optional<DeviceProfile> builtin(llvm::StringRef name);
  /// Reads a profile from JSON text; returns "" or what is wrong with it.
  static std::string parse(llvm::StringRef json, DeviceProfile &profile);
};

struct CostModel {
  int64_t ranks = 1;
  /// Latency of one collective, seconds.
  double latency = 5e-6;
  /// Bus bandwidth, bytes per second (H100 NVLink by default).
  double busBandwidth = 370e9;
  DeviceProfile device;

  /// Link presets: "nvlink" (H100 intra-node) and "infiniband" (one 400 Gb/s
  /// NIC per GPU across nodes). Returns false for an unknown name.
  bool applyPreset(llvm::StringRef name);

  /// Bytes one rank sends in a collective over a value of `bytes` (pads
  /// included).
  uint64_t bytesPerRank(CollectiveKind kind, uint64_t bytes) const;
  double collectiveSeconds(CollectiveKind kind, uint64_t bytes) const;
  /// A ring attention among `ringRanks` ranks whose whole computation takes
  /// `computeSeconds` on a rank: `ringRanks` steps of an equal share each,
  /// the transfer of the next key and value blocks (`stepBytes` point to
  /// point) overlapping every step but the last.
  double ringSeconds(double computeSeconds, uint64_t stepBytes,
                     int64_t ringRanks) const;
  /// The roofline of one kernel doing `flops` on `bytes` of memory traffic,
  /// at the peak rate of `elementType`.
  double opSeconds(double flops, double bytes, Type elementType) const;
};

/// The memory traffic of `op` on the busiest rank, in bytes: each operand
/// and result whole, or its block where it is split (`operands` and
/// `result` are the op's shardings; null or replicated means whole) over a
/// mesh of `meshShape` sizes (one axis: the ranks).
double opBytesPerRank(Operation *op, ArrayRef<ShardingAttr> operands,
                      ShardingAttr result, ArrayRef<int64_t> meshShape);
/// The same, with the bytes of one value under one sharding given by
/// `valueBytes` (valueBytesPerRank, or a memo of it).
double
opBytesPerRank(Operation *op, ArrayRef<ShardingAttr> operands,
               ShardingAttr result,
               llvm::function_ref<double(Value, ShardingAttr)> valueBytes);
/// The bytes of `value`'s block under `sharding` (null: whole) over a mesh
/// of `meshShape` sizes; 0 for what is not a ranked tensor.
double valueBytesPerRank(Value value, ShardingAttr sharding,
                         ArrayRef<int64_t> meshShape);

/// FLOPs of `op` on its global shapes (multiply-adds count 2).
double opFlops(Operation *op);

} // namespace mlir::dsp

#endif // DSP_TRANSFORMS_COSTMODEL_H
