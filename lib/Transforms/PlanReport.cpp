//===- PlanReport.cpp - The plan as JSON, text and Graphviz ---------------===//

#include "dsp/Transforms/PlanReport.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/ShardingPlan.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Format.h"
#include <map>

using namespace mlir;
using namespace mlir::dsp;

namespace {
/// The padded size of the split extent over its true size.
double padRatio(RankedTensorType type, ShardingAttr sharding) {
  if (!sharding.isSplit() || sharding.getPad() == 0)
    return 1.0;
  int64_t extent = sharding.getSplitExtent(type);
  return double(extent + sharding.getPad()) / double(extent);
}

std::string locationText(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return (file.getFilename().getValue() + ":" + Twine(file.getLine()) + ":" +
            Twine(file.getColumn()))
        .str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    if (!fused.getLocations().empty())
      return locationText(fused.getLocations().front());
  return "unknown";
}

std::string attrText(Attribute attr) {
  std::string text;
  llvm::raw_string_ostream os(text);
  attr.print(os);
  return text;
}

std::string typeText(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

std::optional<CollectiveKind> kindOf(Operation *op) {
  if (isa<AllToAllOp>(op))
    return CollectiveKind::AllToAll;
  if (isa<AllGatherOp>(op))
    return CollectiveKind::AllGather;
  if (isa<AllReduceOp>(op))
    return CollectiveKind::AllReduce;
  if (isa<ReduceScatterOp>(op))
    return CollectiveKind::ReduceScatter;
  return std::nullopt;
}

/// True if everything `op` computes only reaches the function results,
/// through data movement.
bool feedsOnlyResults(Operation *op) {
  return llvm::all_of(op->getUsers(), [](Operation *user) {
    if (isa<func::ReturnOp>(user))
      return true;
    return isa<ConcatOp, ReshapeOp, TransposeOp>(user) &&
           feedsOnlyResults(user);
  });
}

bool isComputeOp(Operation *op) {
  return isa<DSPDialect>(op->getDialect()) && !kindOf(op) &&
         !isa<ConstantOp, WeightOp, LocalSliceOp>(op);
}

uint64_t bytesOf(RankedTensorType type) {
  return static_cast<uint64_t>(type.getNumElements()) *
         std::max(type.getElementTypeBitWidth(), 8u) / 8;
}

/// The bytes of model data `value` that each rank holds: the largest block
/// its readers slice where every reader slices one, else all of it.
uint64_t modelBytesPerRank(Value value, int64_t ranks) {
  auto type = cast<RankedTensorType>(value.getType());
  uint64_t largest = 0;
  for (Operation *user : value.getUsers()) {
    ShardingAttr block =
        isa<LocalSliceOp>(user) ? getResultSharding(user, 0) : ShardingAttr();
    if (!block || !block.isSplit())
      return bytesOf(type);
    largest = std::max(largest, bytesOf(block.getLocalType(type, ranks)));
  }
  return value.use_empty() ? bytesOf(type) : largest;
}

/// The FLOPs of `op` on its busiest rank: its share of the sharded factor
/// (of each mesh axis's, for a compound sharding), pads included, or all of
/// it when nothing is sharded.
double flopsPerRank(Operation *op, int64_t ranks) {
  double flops = opFlops(op);
  auto shareOf = [&](Value value,
                     ShardingAttr sharding) -> std::optional<double> {
    if (!sharding || sharding.isReplicated())
      return std::nullopt;
    auto type = cast<RankedTensorType>(value.getType());
    if (!sharding.isCompound())
      return padRatio(type, sharding) / double(ranks);
    SmallVector<int64_t> mesh = getGroup(op).getMeshShape();
    double share = 1;
    for (auto [axis, part] : llvm::enumerate(sharding.getAxes()))
      if (!part.isReplicated())
        share *= padRatio(type, part) / double(mesh[axis]);
    return share;
  };
  if (auto share = shareOf(op->getResult(0), getResultSharding(op, 0)))
    return flops * *share;
  for (Value operand : op->getOperands())
    if (auto share = shareOf(operand, getSharding(operand)))
      return flops * *share;
  return flops;
}
} // namespace

/// The bytes collective `op` hands to the transport and the cost model of
/// the group it runs among: all ranks, or the sub-groups of its mesh axis.
static std::pair<uint64_t, CostModel> collectiveOnGroup(Operation *op,
                                                        CostModel model) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  ShardingAttr from = getSharding(op->getOperand(0));
  ShardingAttr to = getResultSharding(op, 0);
  if (auto axis = op->getAttrOfType<IntegerAttr>("axis")) {
    AxisView view =
        viewOnAxis(type, from, to, getGroup(op).getMeshShape(), axis.getInt());
    model.ranks = view.ranks;
    return {collectiveBytes(view.type, view.from, view.to, view.ranks), model};
  }
  return {collectiveBytes(type, from, to, model.ranks), model};
}

llvm::json::Object mlir::dsp::buildPlanReport(ModuleOp module) {
  CostModel model = costModelOf(module);
  llvm::json::Array collectives;
  llvm::json::Array stages;
  uint64_t totalBytes = 0, outputBytes = 0;
  double commSeconds = 0, flopsTotal = 0, flopsBusiest = 0, computeSeconds = 0;
  int64_t kernels = 0;
  uint64_t weightBytes = 0, weightBytesPerRank = 0;
  std::map<std::string, int64_t> counts;
  // An entry of the collectives: a reshard, or the steps of a ring.
  auto addCommunication = [&](StringRef kind, Operation *op,
                              RankedTensorType type, ShardingAttr from,
                              ShardingAttr to, uint64_t bytes, uint64_t perRank,
                              double seconds) -> llvm::json::Object & {
    llvm::json::Array shape;
    for (int64_t d : type.getShape())
      shape.push_back(d);
    collectives.push_back(llvm::json::Object{
        {"kind", kind},
        {"location", locationText(op->getLoc())},
        {"shape", std::move(shape)},
        {"dtype", typeText(type.getElementType())},
        {"from", attrText(from)},
        {"to", attrText(to)},
        {"bytes", static_cast<int64_t>(bytes)},
        {"bytes_per_rank", static_cast<int64_t>(perRank)},
        {"seconds", seconds},
    });
    totalBytes += perRank;
    commSeconds += seconds;
    ++counts[kind.str()];
    return *collectives.back().getAsObject();
  };
  module.walk([&](Operation *op) {
    if (isa<ConstantOp, WeightOp>(op)) {
      weightBytes +=
          bytesOf(cast<RankedTensorType>(op->getResult(0).getType()));
      weightBytesPerRank += modelBytesPerRank(op->getResult(0), model.ranks);
      return;
    }
    if (std::optional<CollectiveKind> kind = kindOf(op)) {
      auto type = cast<RankedTensorType>(op->getResult(0).getType());
      ShardingAttr from = getSharding(op->getOperand(0));
      ShardingAttr to = getResultSharding(op, 0);
      if (!from || !to)
        return;
      auto [bytes, axisModel] = collectiveOnGroup(op, model);
      uint64_t perRank = axisModel.bytesPerRank(*kind, bytes);
      double seconds = axisModel.collectiveSeconds(*kind, bytes);
      // The gathers of the function results happen once per run, outside
      // the model's stages.
      bool output = feedsOnlyResults(op);
      if (output)
        outputBytes += perRank;
      addCommunication(stringifyCollectiveKind(*kind), op, type, from, to,
                       bytes, perRank, seconds)["output"] = output;
      return;
    }
    if (!isComputeOp(op) || op->getNumResults() != 1)
      return;
    double flops = flopsPerRank(op, model.ranks);
    flopsTotal += opFlops(op);
    flopsBusiest += flops;
    SmallVector<ShardingAttr> operandShardings = llvm::map_to_vector(
        op->getOperands(), [](Value operand) { return getSharding(operand); });
    double seconds =
        model.opSeconds(flops,
                        opBytesPerRank(op, operandShardings,
                                       getResultSharding(op, 0), model.ranks),
                        getElementTypeOrSelf(op->getResult(0)));
    computeSeconds += seconds;
    ++kernels;
    // An attention that reads its keys in blocks of the key sequence runs as
    // a ring: each rank passes its key and value blocks on ranks - 1 times,
    // and the part of the transfers that its compute does not hide is
    // communication.
    auto attention = dyn_cast<AttentionOp>(op);
    if (attention && model.ranks > 1 && operandShardings[1] &&
        operandShardings[1].isSplit() && operandShardings[1].getDim() == 2) {
      RankedTensorType key = attention.getKey().getType();
      uint64_t step = ringStepBytes(key, attention.getValue().getType(),
                                    operandShardings[1], model.ranks);
      uint64_t perRank = step * static_cast<uint64_t>(model.ranks - 1);
      double exposed = model.ringSeconds(seconds, step) - seconds;
      llvm::json::Object &entry =
          addCommunication("ring_attention", op, key, operandShardings[1],
                           operandShardings[1], step, perRank, exposed);
      entry["steps"] = model.ranks - 1;
      entry["output"] = false;
    }
    if (isa<AttentionOp, MatMulOp, ConvOp>(op)) {
      ShardingAttr sharding = getResultSharding(op, 0);
      llvm::json::Array operands;
      for (Value operand : op->getOperands()) {
        ShardingAttr s = getSharding(operand);
        operands.push_back(s ? attrText(s) : std::string("constant"));
      }
      stages.push_back(llvm::json::Object{
          {"op", op->getName().stripDialect()},
          {"location", locationText(op->getLoc())},
          {"result", sharding ? attrText(sharding) : std::string("none")},
          {"operands", std::move(operands)},
      });
    }
  });
  llvm::json::Object countObject;
  for (auto &[kind, count] : counts)
    countObject[kind] = count;
  const DeviceProfile &device = model.device;
  llvm::json::Object report{
      {"ranks", model.ranks},
      {"cost_model",
       llvm::json::Object{{"latency_s", model.latency},
                          {"bus_bandwidth_bytes_per_s", model.busBandwidth},
                          {"profile", device.name},
                          {"f32_flops_per_second", device.f32FlopsPerSecond},
                          {"half_flops_per_second", device.halfFlopsPerSecond},
                          {"memory_bytes_per_second", device.memoryBandwidth},
                          {"kernel_seconds", device.kernelSeconds}}},
      {"collectives", std::move(collectives)},
      {"totals",
       llvm::json::Object{
           {"bytes_per_rank", static_cast<int64_t>(totalBytes)},
           {"output_bytes_per_rank", static_cast<int64_t>(outputBytes)},
           {"communication_seconds", commSeconds},
           {"compute_seconds", computeSeconds},
           {"modeled_seconds", commSeconds + computeSeconds},
           {"count", std::move(countObject)}}},
      {"compute", llvm::json::Object{{"flops_total", flopsTotal},
                                     {"flops_per_rank", flopsBusiest},
                                     {"kernels", kernels}}},
      {"weights",
       llvm::json::Object{
           {"bytes_total", static_cast<int64_t>(weightBytes)},
           {"bytes_per_rank", static_cast<int64_t>(weightBytesPerRank)}}},
      {"stages", std::move(stages)},
  };
  // A plan the solver could not prove optimal: what its cost model says of
  // it and of the optimum.
  bool approximate = false;
  double modeled = 0, lowerBound = 0;
  module.walk([&](func::FuncOp function) {
    auto plan = function->getAttrOfType<DictionaryAttr>(
        DSPDialect::kApproximatePlanAttrName);
    if (!plan)
      return;
    approximate = true;
    if (auto value = plan.getAs<FloatAttr>("modeled_s"))
      modeled += value.getValueAsDouble();
    if (auto value = plan.getAs<FloatAttr>("lower_bound_s"))
      lowerBound += value.getValueAsDouble();
  });
  if (approximate)
    report["approximation"] = llvm::json::Object{
        {"modeled_seconds", modeled}, {"lower_bound_seconds", lowerBound}};
  if (GroupAttr group = getGroup(module); group && !group.getMesh().empty())
    report["mesh"] = llvm::json::Array(group.getMesh());
  // Outputs held in their input's blocks between runs, never gathered.
  llvm::json::Array kept;
  module.walk([&](func::FuncOp function) {
    for (const KeptOutput &pin : keptOutputs(function)) {
      auto sharding = function.getResultAttrOfType<ShardingAttr>(
          pin.result, DSPDialect::kShardingAttrName);
      kept.push_back(llvm::json::Object{
          {"output", pin.output.empty() ? "output" + std::to_string(pin.result)
                                        : pin.output.str()},
          {"input", pin.input.str()},
          {"sharding", sharding ? attrText(sharding) : std::string("none")}});
    }
  });
  if (!kept.empty())
    report["kept_sharded"] = std::move(kept);
  return report;
}

void mlir::dsp::printPlanSummary(const llvm::json::Object &report,
                                 raw_ostream &os) {
  int64_t ranks = report.getInteger("ranks").value_or(1);
  os << "Plan for " << ranks << " ranks";
  if (const llvm::json::Array *mesh = report.getArray("mesh")) {
    os << " as a mesh of ";
    llvm::interleave(
        *mesh, os, [&](const llvm::json::Value &size) { os << size; }, "x");
  }
  os << "\n\nStages\n";
  for (const llvm::json::Value &entry : *report.getArray("stages")) {
    const llvm::json::Object &stage = *entry.getAsObject();
    os << llvm::format("  %-10s %-44s %s\n",
                       stage.getString("op")->str().c_str(),
                       stage.getString("location")->str().c_str(),
                       stage.getString("result")->str().c_str());
  }
  if (const llvm::json::Array *kept = report.getArray("kept_sharded")) {
    os << "\nKept sharded (not gathered: each rank's block becomes the "
          "input's)\n";
    for (const llvm::json::Value &entry : *kept) {
      const llvm::json::Object &pin = *entry.getAsObject();
      os << "  " << *pin.getString("output") << " -> "
         << *pin.getString("input") << "  " << *pin.getString("sharding")
         << "\n";
    }
  }
  os << "\nCollectives\n";
  os << llvm::format("  %-14s %-40s %-20s %14s %10s\n", "kind", "location",
                     "shape", "bytes/rank", "time(us)");
  for (const llvm::json::Value &entry : *report.getArray("collectives")) {
    const llvm::json::Object &c = *entry.getAsObject();
    std::string shape;
    for (const llvm::json::Value &d : *c.getArray("shape"))
      shape += (shape.empty() ? "" : "x") + std::to_string(*d.getAsInteger());
    os << llvm::format("  %-14s %-40s %-20s %14lld %10.2f\n",
                       c.getString("kind")->str().c_str(),
                       c.getString("location")->str().c_str(), shape.c_str(),
                       static_cast<long long>(*c.getInteger("bytes_per_rank")),
                       *c.getNumber("seconds") * 1e6);
  }
  const llvm::json::Object &totals = *report.getObject("totals");
  const llvm::json::Object &compute = *report.getObject("compute");
  const llvm::json::Object &costModel = *report.getObject("cost_model");
  os << "\nTotals (modeled on " << *costModel.getString("profile") << ": "
     << llvm::format("%.4g", *costModel.getNumber("latency_s") * 1e6)
     << " us + bytes / "
     << llvm::format("%.4g",
                     *costModel.getNumber("bus_bandwidth_bytes_per_s") / 1e9)
     << " GB/s per collective, a roofline plus "
     << llvm::format("%.4g", *costModel.getNumber("kernel_seconds") * 1e6)
     << " us per kernel)\n";
  std::map<std::string, int64_t> counts;
  for (const auto &[kind, count] : *totals.getObject("count"))
    counts[kind.str()] = *count.getAsInteger();
  for (const auto &[kind, count] : counts)
    os << "  " << kind << ": " << count << "\n";
  double flopsTotal = *compute.getNumber("flops_total");
  double flopsRank = *compute.getNumber("flops_per_rank");
  os << llvm::format(
      "  bytes per rank: %lld (gathering the results: %lld)\n"
      "  communication: %.2f us, compute: %.2f us\n"
      "  FLOPs: %.4g total, %.4g on the busiest rank (%.2f of total/ranks)\n",
      static_cast<long long>(*totals.getInteger("bytes_per_rank")),
      static_cast<long long>(*totals.getInteger("output_bytes_per_rank")),
      *totals.getNumber("communication_seconds") * 1e6,
      *totals.getNumber("compute_seconds") * 1e6, flopsTotal, flopsRank,
      flopsTotal > 0 ? flopsRank * ranks / flopsTotal : 1.0);
  const llvm::json::Object &weights = *report.getObject("weights");
  int64_t weightBytes = *weights.getInteger("bytes_total");
  int64_t weightBytesPerRank = *weights.getInteger("bytes_per_rank");
  os << llvm::format("  weights: %lld bytes per rank of %lld (%.2f of "
                     "total)\n",
                     static_cast<long long>(weightBytesPerRank),
                     static_cast<long long>(weightBytes),
                     weightBytes > 0 ? double(weightBytesPerRank) / weightBytes
                                     : 1.0);
  if (const llvm::json::Object *approximation =
          report.getObject("approximation")) {
    double modeled = *approximation->getNumber("modeled_seconds");
    double lowerBound = *approximation->getNumber("lower_bound_seconds");
    os << llvm::format("  not proven optimal (the exact solver's tables "
                       "would be too large): modeled %.2f us, lower bound "
                       "%.2f us, gap at most %.1f %%\n",
                       modeled * 1e6, lowerBound * 1e6,
                       modeled > 0 ? (modeled - lowerBound) / modeled * 100
                                   : 0.0);
  }
}

void mlir::dsp::printPlanDot(ModuleOp module, raw_ostream &os) {
  static const char *colours[] = {"#8dd3c7", "#ffffb3", "#bebada", "#fb8072",
                                  "#80b1d3", "#fdb462", "#b3de69", "#fccde5"};
  CostModel model = costModelOf(module);
  os << "digraph plan {\n  rankdir=TB;\n  node [shape=box, style=filled];\n";
  DenseMap<Operation *, int> ids;
  module.walk([&](Operation *op) {
    if (!isComputeOp(op) || op->getNumResults() != 1)
      return;
    int id = ids.size();
    ids[op] = id;
    ShardingAttr sharding = getResultSharding(op, 0);
    std::string colour = "#d9d9d9";
    std::string label = "replicated";
    if (sharding && sharding.isSplit()) {
      colour = colours[sharding.getDim() % 8];
      label = attrText(sharding);
    } else if (sharding && sharding.isPartial()) {
      colour = "#fdae61";
      label = "partial";
    }
    os << "  n" << id << " [label=\"" << op->getName().stripDialect() << "\\n"
       << label << "\", fillcolor=\"" << colour << "\"];\n";
  });
  // Edges from each op's real producer; collectives on the way label them.
  for (auto &[op, id] : ids) {
    for (Value operand : op->getOperands()) {
      std::string label;
      Operation *producer = operand.getDefiningOp();
      while (producer && (kindOf(producer) || isa<LocalSliceOp>(producer))) {
        if (std::optional<CollectiveKind> kind = kindOf(producer)) {
          auto [bytes, axisModel] = collectiveOnGroup(producer, model);
          label = (stringifyCollectiveKind(*kind) + "\\n" +
                   Twine(axisModel.bytesPerRank(*kind, bytes)) + " B/rank")
                      .str();
        }
        producer = producer->getOperand(0).getDefiningOp();
      }
      auto it = producer ? ids.find(producer) : ids.end();
      if (it == ids.end())
        continue;
      os << "  n" << it->second << " -> n" << id;
      if (!label.empty())
        os << " [label=\"" << label << "\", color=red, penwidth=2]";
      os << ";\n";
    }
  }
  os << "}\n";
}
