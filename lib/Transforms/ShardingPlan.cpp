//===- ShardingPlan.cpp - Reshards and their bytes ------------------------===//

#include "dsp/Transforms/ShardingPlan.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"

using namespace mlir;
using namespace mlir::dsp;

std::optional<CollectiveKind> mlir::dsp::collectiveFor(ShardingAttr from,
                                                       ShardingAttr to) {
  if (from == to || to.isPartial())
    return std::nullopt;
  if (from.isPartial())
    return to.isReplicated() ? CollectiveKind::AllReduce
                             : CollectiveKind::ReduceScatter;
  if (from.isReplicated())
    return std::nullopt;
  return to.isReplicated() ? CollectiveKind::AllGather
                           : CollectiveKind::AllToAll;
}

uint64_t mlir::dsp::reshardBytes(RankedTensorType type, ShardingAttr from,
                                 ShardingAttr to) {
  Type element = type.getElementType();
  uint64_t width =
      element.isInteger(1) ? 1 : element.getIntOrFloatBitWidth() / 8;
  // Each split side carries its pads; a partial side has none. Whole
  // numbers throughout: the split extent divides the element count, and a
  // floating-point ratio may land just below the padded size.
  uint64_t elements = type.getNumElements();
  for (ShardingAttr sharding : {from, to}) {
    if (!sharding.isSplit() || sharding.getPad() == 0)
      continue;
    uint64_t extent = sharding.getSplitExtent(type);
    if (extent > 0)
      elements = elements / extent * (extent + sharding.getPad());
  }
  return elements * width;
}

uint64_t mlir::dsp::collectiveBytes(RankedTensorType type, ShardingAttr from,
                                    ShardingAttr to, int64_t ranks) {
  uint64_t bytes = reshardBytes(type, from, to);
  if (!(from.isPartial() && to.isReplicated()) || ranks <= 1)
    return bytes;
  uint64_t elements = type.getNumElements();
  uint64_t width = bytes / std::max<uint64_t>(elements, 1);
  uint64_t n = static_cast<uint64_t>(ranks);
  return (elements + n - 1) / n * n * width;
}

std::optional<Reshard> mlir::dsp::reshardFor(RankedTensorType type,
                                             ShardingAttr from, ShardingAttr to,
                                             int64_t ranks) {
  std::optional<CollectiveKind> kind = collectiveFor(from, to);
  if (!kind)
    return std::nullopt;
  return Reshard{*kind, collectiveBytes(type, from, to, ranks)};
}

SmallVector<ShardingAttr> mlir::dsp::nestEvenSplits(ArrayRef<ShardingAttr> axes,
                                                    ArrayRef<int64_t> shape,
                                                    ArrayRef<int64_t> mesh) {
  SmallVector<ShardingAttr> nested(axes);
  for (size_t a = 0; a < axes.size(); ++a) {
    if (!axes[a] || !axes[a].isSplit())
      continue;
    ::dsp::format::Layout whole = axes[a].getLayout(shape);
    if (whole.pad != 0 || whole.inner != 1)
      continue;
    for (size_t b = 0; b < axes.size(); ++b) {
      if (b == a || !axes[b] || !axes[b].isSplit())
        continue;
      ::dsp::format::Layout part = axes[b].getLayout(shape);
      if (part.dim != whole.dim || part.outer % whole.outer != 0)
        continue;
      // The whole split's blocks hold whole outer indices of the part.
      int64_t outerPart = part.outer / whole.outer;
      if (outerPart < 2 || whole.size % outerPart != 0 ||
          outerPart % mesh[a] != 0)
        continue;
      nested[a] =
          ShardingAttr::getSplit(axes[a].getContext(), whole.dim, whole.outer,
                                 outerPart, whole.size / outerPart, 0);
      break;
    }
  }
  return nested;
}

FailureOr<SmallVector<MeshStep>>
mlir::dsp::meshReshardSteps(RankedTensorType type, ShardingAttr from,
                            ShardingAttr to, ArrayRef<int64_t> mesh) {
  MLIRContext *context = type.getContext();
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  SmallVector<ShardingAttr> parts, goal;
  for (size_t k = 0; k < mesh.size(); ++k) {
    parts.push_back(from.getAxis(k));
    goal.push_back(to.getAxis(k));
    if (!parts.back() || !goal.back() ||
        (goal.back().isPartial() && !parts.back().isPartial()))
      return failure();
  }
  auto valid = [&](ArrayRef<ShardingAttr> candidate) {
    return ShardingAttr::getCompound(context, candidate)
        .getMeshLayout(shape, mesh)
        .check(shape)
        .empty();
  };
  SmallVector<MeshStep> steps;
  auto step = [&](size_t k, ShardingAttr part) {
    parts[k] = part;
    steps.push_back(
        {static_cast<int64_t>(k), ShardingAttr::getCompound(context, parts)});
  };
  SmallVector<size_t> deferred;
  for (size_t k = 0; k < mesh.size(); ++k) {
    // Another name of the same blocks needs no collective.
    if (parts[k].holdsSameBlocks(goal[k])) {
      parts[k] = goal[k];
      continue;
    }
    SmallVector<ShardingAttr> next(parts);
    next[k] = goal[k];
    if (valid(next)) {
      step(k, goal[k]);
      continue;
    }
    if (!parts[k].isReplicated())
      step(k, ShardingAttr::getReplicated(context));
    deferred.push_back(k);
  }
  for (size_t k : deferred)
    if (parts[k] != goal[k])
      step(k, goal[k]);
  return steps;
}

/// The sharding that holds a value as `layout` does.
static ShardingAttr shardingOf(MLIRContext *context,
                               const ::dsp::format::Layout &layout) {
  switch (layout.kind) {
  case ::dsp::format::Layout::Replicated:
    return ShardingAttr::getReplicated(context);
  case ::dsp::format::Layout::Partial:
    return ShardingAttr::getPartial(context);
  case ::dsp::format::Layout::Split:
    break;
  }
  return ShardingAttr::getSplit(context, layout.dim, layout.outer, layout.size,
                                layout.inner, layout.pad);
}

AxisView mlir::dsp::viewOnAxis(RankedTensorType type, ShardingAttr from,
                               ShardingAttr to, ArrayRef<int64_t> mesh,
                               int64_t axis) {
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end()),
      seen;
  MLIRContext *context = type.getContext();
  ShardingAttr before = shardingOf(
      context, from.getMeshLayout(shape, mesh).within(axis, shape, seen));
  ShardingAttr after = shardingOf(
      context, to.getMeshLayout(shape, mesh).within(axis, shape, seen));
  return {RankedTensorType::get(seen, type.getElementType()), before, after,
          mesh[axis]};
}

uint64_t mlir::dsp::ringStepBytes(RankedTensorType key, RankedTensorType value,
                                  ShardingAttr blocks, ArrayRef<int64_t> mesh) {
  uint64_t bytes = 0;
  for (RankedTensorType type : {key, value}) {
    RankedTensorType block = blocks.getLocalType(type, mesh);
    bytes += static_cast<uint64_t>(block.getNumElements()) *
             std::max(block.getElementTypeBitWidth(), 8u) / 8;
  }
  return bytes;
}

DictionaryAttr mlir::dsp::costModelAttr(MLIRContext *context,
                                        const CostModel &model) {
  Builder builder(context);
  return builder.getDictionaryAttr({
      builder.getNamedAttr("latency_s", builder.getF64FloatAttr(model.latency)),
      builder.getNamedAttr("bus_bandwidth",
                           builder.getF64FloatAttr(model.busBandwidth)),
      builder.getNamedAttr("profile", builder.getStringAttr(model.device.name)),
      builder.getNamedAttr(
          "f32_flops_per_second",
          builder.getF64FloatAttr(model.device.f32FlopsPerSecond)),
      builder.getNamedAttr(
          "half_flops_per_second",
          builder.getF64FloatAttr(model.device.halfFlopsPerSecond)),
      builder.getNamedAttr(
          "memory_bytes_per_second",
          builder.getF64FloatAttr(model.device.memoryBandwidth)),
      builder.getNamedAttr("kernel_seconds",
                           builder.getF64FloatAttr(model.device.kernelSeconds)),
  });
}

CostModel mlir::dsp::costModelOf(ModuleOp module) {
  CostModel model;
  model.ranks = std::max<int64_t>(getGroupRanks(module), 1);
  auto dict =
      module->getAttrOfType<DictionaryAttr>(DSPDialect::kCostModelAttrName);
  if (!dict)
    return model;
  auto get = [&](StringRef name, double &field) {
    if (auto value = dict.getAs<FloatAttr>(name))
      field = value.getValueAsDouble();
  };
  get("latency_s", model.latency);
  get("bus_bandwidth", model.busBandwidth);
  get("f32_flops_per_second", model.device.f32FlopsPerSecond);
  get("half_flops_per_second", model.device.halfFlopsPerSecond);
  get("memory_bytes_per_second", model.device.memoryBandwidth);
  get("kernel_seconds", model.device.kernelSeconds);
  if (auto name = dict.getAs<StringAttr>("profile"))
    model.device.name = name.str();
  return model;
}

SmallVector<KeptOutput> mlir::dsp::keptOutputs(func::FuncOp function) {
  SmallVector<KeptOutput> kept;
  for (unsigned result = 0; result < function.getNumResults(); ++result) {
    auto input = function.getResultAttrOfType<StringAttr>(
        result, DSPDialect::kKeptShardedAttrName);
    if (!input)
      continue;
    auto output = function.getResultAttrOfType<StringAttr>(
        result, DSPDialect::kNameAttrName);
    kept.push_back(
        {result, output ? output.getValue() : StringRef(), input.getValue()});
  }
  return kept;
}
