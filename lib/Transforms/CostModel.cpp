//===- CostModel.cpp - Alpha-beta collectives and compute -----------------===//

#include "dsp/Transforms/CostModel.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::dsp;

StringRef mlir::dsp::stringifyCollectiveKind(CollectiveKind kind) {
  switch (kind) {
  case CollectiveKind::AllToAll:
    return "all_to_all";
  case CollectiveKind::AllGather:
    return "all_gather";
  case CollectiveKind::AllReduce:
    return "all_reduce";
  case CollectiveKind::ReduceScatter:
    return "reduce_scatter";
  }
  llvm_unreachable("unknown collective kind");
}

bool CostModel::applyPreset(StringRef name) {
  if (name == "nvlink") {
    latency = 5e-6;
    busBandwidth = 370e9;
    return true;
  }
  if (name == "infiniband") {
    latency = 10e-6;
    busBandwidth = 48e9;
    return true;
  }
  return false;
}

uint64_t CostModel::bytesPerRank(CollectiveKind kind, uint64_t bytes) const {
  // 128-bit intermediates: bytes (up to 2^51) times ranks (up to 2^16) must
  // not wrap.
  using Wide = unsigned __int128;
  Wide n = static_cast<uint64_t>(ranks), total = bytes;
  switch (kind) {
  case CollectiveKind::AllToAll:
    return static_cast<uint64_t>(total * (n - 1) / (n * n));
  case CollectiveKind::AllGather:
  case CollectiveKind::ReduceScatter:
    return static_cast<uint64_t>(total * (n - 1) / n);
  case CollectiveKind::AllReduce:
    return static_cast<uint64_t>(2 * total * (n - 1) / n);
  }
  llvm_unreachable("unknown collective kind");
}

double CostModel::collectiveSeconds(CollectiveKind kind, uint64_t bytes) const {
  if (ranks <= 1)
    return 0;
  return latency +
         static_cast<double>(bytesPerRank(kind, bytes)) / busBandwidth;
}

static double elements(Value value) {
  return static_cast<double>(
      cast<RankedTensorType>(value.getType()).getNumElements());
}

double mlir::dsp::opFlops(Operation *op) {
  return llvm::TypeSwitch<Operation *, double>(op)
      .Case([](MatMulOp matmul) {
        int64_t k = matmul.getLhs().getType().getShape().back();
        return 2.0 * elements(matmul.getOutput()) * k;
      })
      .Case([](AttentionOp attention) {
        ArrayRef<int64_t> q = attention.getQuery().getType().getShape();
        ArrayRef<int64_t> v = attention.getValue().getType().getShape();
        // Scores and the weighted sum of values, plus the softmax.
        return 2.0 * q[0] * q[1] * q[2] * v[2] * (q[3] + v[3]) +
               5.0 * q[0] * q[1] * q[2] * v[2];
      })
      .Case([](ConvOp conv) {
        auto weight = conv.getWeight().getType();
        double perOutput = 2.0 * weight.getNumElements() / weight.getDimSize(0);
        return perOutput * elements(conv.getOutput());
      })
      .Case<LayerNormOp, SoftmaxOp>(
          [](Operation *op) { return 8.0 * elements(op->getResult(0)); })
      .Case<ConstantOp, WeightOp, ReshapeOp>([](Operation *) { return 0.0; })
      .Default([](Operation *op) {
        double total = 0;
        for (Value result : op->getResults())
          if (isa<RankedTensorType>(result.getType()))
            total += elements(result);
        return total;
      });
}
