//===- CostModel.cpp - Alpha-beta collectives and roofline compute --------===//

#include "dsp/Transforms/CostModel.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/JSON.h"

#include <cmath>

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

std::optional<DeviceProfile> DeviceProfile::builtin(StringRef name) {
  // NVIDIA's data sheets for the SXM parts: dense rates (no sparsity), f32
  // without TF32. The kernel cost is a launch inside a CUDA graph.
  DeviceProfile profile;
  profile.name = name.str();
  if (name == "h100")
    return profile;
  if (name == "h200") {
    profile.memoryBandwidth = 4.8e12;
    return profile;
  }
  return std::nullopt;
}

std::string DeviceProfile::parse(StringRef json, DeviceProfile &profile) {
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(json);
  if (!value)
    return "not JSON: " + llvm::toString(value.takeError());
  const llvm::json::Object *object = value->getAsObject();
  if (!object)
    return "not a JSON object";
  DeviceProfile parsed;
  std::optional<StringRef> name = object->getString("name");
  if (!name || name->empty())
    return "'name' is missing or empty";
  parsed.name = name->str();
  // Rates and costs are positive and finite; an absent link stays 0.
  auto read = [&](const llvm::json::Object &from, StringRef key, double &field,
                  bool required) -> std::string {
    std::optional<double> number = from.getNumber(key);
    if (!number)
      return required ? "'" + key.str() + "' is missing or not a number" : "";
    if (!std::isfinite(*number) || *number <= 0)
      return "'" + key.str() + "' must be positive and finite";
    field = *number;
    return "";
  };
  for (auto [key, field] :
       {std::pair<StringRef, double *>{"f32_flops_per_second",
                                       &parsed.f32FlopsPerSecond},
        {"half_flops_per_second", &parsed.halfFlopsPerSecond},
        {"memory_bytes_per_second", &parsed.memoryBandwidth},
        {"kernel_seconds", &parsed.kernelSeconds}})
    if (std::string problem = read(*object, key, *field, true);
        !problem.empty())
      return problem;
  if (const llvm::json::Value *link = object->get("link")) {
    const llvm::json::Object *linkObject = link->getAsObject();
    if (!linkObject)
      return "'link' is not a JSON object";
    for (auto [key, field] :
         {std::pair<StringRef, double *>{"latency_s", &parsed.linkLatency},
          {"bus_bandwidth_bytes_per_s", &parsed.linkBusBandwidth}})
      if (std::string problem = read(*linkObject, key, *field, true);
          !problem.empty())
        return "link: " + problem;
  }
  profile = parsed;
  return "";
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

double CostModel::ringSeconds(double computeSeconds, uint64_t stepBytes,
                              int64_t ringRanks) const {
  if (ringRanks <= 1)
    return computeSeconds;
  double step = computeSeconds / static_cast<double>(ringRanks);
  double transfer = latency + static_cast<double>(stepBytes) / busBandwidth;
  return step + static_cast<double>(ringRanks - 1) * std::max(step, transfer);
}

double CostModel::opSeconds(double flops, double bytes,
                            Type elementType) const {
  double peak = isa<Float16Type, BFloat16Type>(elementType)
                    ? device.halfFlopsPerSecond
                    : device.f32FlopsPerSecond;
  return std::max(flops / peak, bytes / device.memoryBandwidth) +
         device.kernelSeconds;
}

double mlir::dsp::valueBytesPerRank(Value value, ShardingAttr sharding,
                                    ArrayRef<int64_t> meshShape) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type)
    return 0.0;
  if (sharding)
    type = sharding.getLocalType(type, meshShape);
  unsigned bits = type.getElementTypeBitWidth();
  return static_cast<double>(type.getNumElements()) *
         static_cast<double>(std::max(bits, 8u) / 8);
}

double mlir::dsp::opBytesPerRank(
    Operation *op, ArrayRef<ShardingAttr> operands, ShardingAttr result,
    llvm::function_ref<double(Value, ShardingAttr)> valueBytes) {
  double bytes = 0;
  for (auto [index, operand] : llvm::enumerate(op->getOperands()))
    bytes += valueBytes(operand,
                        index < operands.size() ? operands[index] : nullptr);
  for (Value value : op->getResults())
    bytes += valueBytes(value, result);
  return bytes;
}

double mlir::dsp::opBytesPerRank(Operation *op, ArrayRef<ShardingAttr> operands,
                                 ShardingAttr result,
                                 ArrayRef<int64_t> meshShape) {
  return opBytesPerRank(op, operands, result,
                        [&](Value value, ShardingAttr sharding) {
                          return valueBytesPerRank(value, sharding, meshShape);
                        });
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
