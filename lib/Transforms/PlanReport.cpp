//===- PlanReport.cpp - The plan as JSON, text and Graphviz ---------------===//

#include "dsp/Transforms/PlanReport.h"
#include "dsp/Dialect/DSP/IR/AttentionRing.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/LogicalAxes.h"
#include "dsp/Transforms/ShardingPlan.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringExtras.h"
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

/// `<output 0 'out'>`: the first function result that `op` reaches through
/// data movement, for an op that feeds only results.
std::string outputName(Operation *op) {
  for (OpOperand &use : op->getUses()) {
    Operation *user = use.getOwner();
    if (!isa<func::ReturnOp>(user)) {
      if (std::string name = outputName(user); !name.empty())
        return name;
      continue;
    }
    unsigned index = use.getOperandNumber();
    auto function = user->getParentOfType<func::FuncOp>();
    auto name = function.getResultAttrOfType<StringAttr>(
        index, DSPDialect::kNameAttrName);
    return "<output " + std::to_string(index) +
           (name ? " '" + name.str() + "'" : std::string()) + ">";
  }
  return "";
}

llvm::json::Array namesArray(ArrayRef<std::string> names) {
  llvm::json::Array array;
  for (const std::string &name : names)
    array.push_back(name);
  return array;
}

/// The axes the dims of each function's values hold, built when first
/// asked for.
class FunctionAxes {
public:
  const LogicalAxes &operator()(Operation *op) {
    auto function = op->getParentOfType<func::FuncOp>();
    std::unique_ptr<LogicalAxes> &axes = byFunction[function];
    if (!axes)
      axes = std::make_unique<LogicalAxes>(function);
    return *axes;
  }

private:
  DenseMap<Operation *, std::unique_ptr<LogicalAxes>> byFunction;
};

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
  GroupAttr group = getGroup(module);
  SmallVector<int64_t> meshShape =
      group ? group.getMeshShape() : SmallVector<int64_t>{model.ranks};
  llvm::json::Array collectives;
  llvm::json::Array stages;
  uint64_t totalBytes = 0, outputBytes = 0;
  double commSeconds = 0, flopsTotal = 0, flopsBusiest = 0, computeSeconds = 0;
  int64_t kernels = 0;
  uint64_t weightBytes = 0, weightBytesPerRank = 0;
  std::map<std::string, int64_t> counts;
  FunctionAxes axesOf;
  // Where each entry of the stages and collectives is in program order.
  int64_t order = 0;
  // An entry of the collectives: a reshard, or the steps of a ring, of
  // `value`.
  auto addCommunication = [&](StringRef kind, Operation *op, Value value,
                              ShardingAttr from, ShardingAttr to,
                              uint64_t bytes, uint64_t perRank,
                              double seconds) -> llvm::json::Object & {
    auto type = cast<RankedTensorType>(value.getType());
    llvm::json::Array shape;
    for (int64_t d : type.getShape())
      shape.push_back(d);
    const LogicalAxes &axes = axesOf(op);
    std::string fromSplit = axes.splitName(value, from);
    std::string toSplit = axes.splitName(value, to);
    std::string output = feedsOnlyResults(op) ? outputName(op) : "";
    collectives.push_back(llvm::json::Object{
        {"kind", kind},
        {"location", output.empty() ? locationText(op->getLoc()) : output},
        {"shape", std::move(shape)},
        {"axes", namesArray(axes.dimNames(value))},
        {"dtype", typeText(type.getElementType())},
        {"from", attrText(from)},
        {"to", attrText(to)},
        {"from_split", fromSplit},
        {"to_split", toSplit},
        {"layout",
         (fromSplit == toSplit ? fromSplit : fromSplit + " → " + toSplit) +
             " of " + axes.shapeText(value)},
        {"order", order},
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
    ++order;
    if (isa<ConstantOp, WeightOp>(op)) {
      weightBytes +=
          bytesOf(cast<RankedTensorType>(op->getResult(0).getType()));
      weightBytesPerRank += modelBytesPerRank(op->getResult(0), model.ranks);
      return;
    }
    if (std::optional<CollectiveKind> kind = kindOf(op)) {
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
      addCommunication(stringifyCollectiveKind(*kind), op, op->getResult(0),
                       from, to, bytes, perRank, seconds)["output"] = output;
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
                                       getResultSharding(op, 0), meshShape),
                        getElementTypeOrSelf(op->getResult(0)));
    computeSeconds += seconds;
    ++kernels;
    // An attention that reads its keys in blocks of the key sequence runs as
    // a ring: each rank passes its key and value blocks on ranks - 1 times,
    // and the part of the transfers that its compute does not hide is
    // communication.
    if (std::optional<AttentionRing> ring = getAttentionRing(op)) {
      auto attention = cast<AttentionOp>(op);
      RankedTensorType key = attention.getKey().getType();
      uint64_t step =
          ringStepBytes(key, attention.getValue().getType(),
                        operandShardings[1], getGroup(op).getMeshShape());
      uint64_t perRank = step * static_cast<uint64_t>(ring->ranks - 1);
      double exposed = model.ringSeconds(seconds, step, ring->ranks) - seconds;
      llvm::json::Object &entry = addCommunication(
          "ring_attention", op, attention.getKey(), operandShardings[1],
          operandShardings[1], step, perRank, exposed);
      entry["steps"] = ring->ranks - 1;
      entry["output"] = false;
      if (ring->axis)
        entry["axis"] = *ring->axis;
    }
    if (isa<AttentionOp, MatMulOp, ConvOp>(op)) {
      ShardingAttr sharding = getResultSharding(op, 0);
      llvm::json::Array operands;
      for (Value operand : op->getOperands()) {
        ShardingAttr s = getSharding(operand);
        operands.push_back(s ? attrText(s) : std::string("constant"));
      }
      Value result = op->getResult(0);
      llvm::json::Array shape;
      for (int64_t d : cast<RankedTensorType>(result.getType()).getShape())
        shape.push_back(d);
      const LogicalAxes &axes = axesOf(op);
      stages.push_back(llvm::json::Object{
          {"op", op->getName().stripDialect()},
          {"location", locationText(op->getLoc())},
          {"result", sharding ? attrText(sharding) : std::string("none")},
          {"operands", std::move(operands)},
          {"shape", std::move(shape)},
          {"axes", namesArray(axes.dimNames(result))},
          {"split", axes.splitName(result, sharding)},
          {"layout", axes.describe(result, sharding)},
          {"order", order},
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
  if (group && !group.getMesh().empty())
    report["mesh"] = llvm::json::Array(group.getMesh());
  if (auto costModel =
          module->getAttrOfType<DictionaryAttr>(DSPDialect::kCostModelAttrName))
    if (auto strategy = costModel.getAs<StringAttr>("strategy"))
      (*report.getObject("cost_model"))["strategy"] = strategy.str();
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

/// 520224768 as "496 MiB": three significant digits, binary units.
static std::string bytesText(int64_t bytes) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  double value = bytes;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  int decimals = value < 10 ? 2 : value < 100 ? 1 : 0;
  return llvm::formatv("{0} {1}", llvm::format("%.*f", decimals, value),
                       units[unit])
      .str();
}

/// A modeled time in us, ms or s.
static std::string secondsText(double seconds) {
  if (seconds < 1e-3)
    return llvm::formatv("{0:F2} us", seconds * 1e6).str();
  if (seconds < 1)
    return llvm::formatv("{0:F3} ms", seconds * 1e3).str();
  return llvm::formatv("{0:F3} s", seconds).str();
}

namespace {
/// One line of the plan: a stage or a collective.
struct PlanStep {
  int64_t order;
  const llvm::json::Object *entry;
  bool collective;
};
} // namespace

namespace {
/// Steps [start, start + length) and the same steps repeated `repeats - 1`
/// times right after them.
struct Repeat {
  size_t start, length, repeats;
};
} // namespace

/// Cuts a sequence of steps, given by their signatures, into runs: from
/// each step on, the group that repeats to cover the most steps, else the
/// step alone.
static std::vector<Repeat> findRepeats(ArrayRef<int> signature) {
  auto alike = [&](size_t a, size_t b, size_t length) {
    return std::equal(signature.begin() + a, signature.begin() + a + length,
                      signature.begin() + b);
  };
  std::vector<Repeat> runs;
  for (size_t i = 0; i < signature.size();) {
    Repeat best{i, 1, 1};
    for (size_t length = 1; i + 2 * length <= signature.size(); ++length) {
      size_t repeats = 1;
      while (i + (repeats + 1) * length <= signature.size() &&
             alike(i, i + repeats * length, length))
        ++repeats;
      if (repeats >= 2 && length * repeats > best.length * best.repeats)
        best = {i, length, repeats};
    }
    runs.push_back(best);
    i += best.length * best.repeats;
  }
  return runs;
}

/// The number that tells two repeats of a group of steps apart in their
/// first locations ("blocks.3.attn" against "blocks.4.attn"), if any.
static std::optional<int64_t> blockNumber(StringRef location, StringRef next) {
  size_t at = 0;
  while (at < location.size() && at < next.size() && location[at] == next[at])
    ++at;
  while (at > 0 && llvm::isDigit(location[at - 1]))
    --at;
  StringRef digits = location.drop_front(at).take_while(
      [](char c) { return llvm::isDigit(c); });
  int64_t number;
  if (digits.empty() || digits.getAsInteger(10, number))
    return std::nullopt;
  return number;
}

/// The stages and collectives of `report` in program order.
static std::vector<PlanStep> planSteps(const llvm::json::Object &report) {
  std::vector<PlanStep> steps;
  for (auto [name, collective] :
       {std::pair{"stages", false}, std::pair{"collectives", true}})
    for (const llvm::json::Value &entry : *report.getArray(name))
      steps.push_back({entry.getAsObject()->getInteger("order").value_or(0),
                       entry.getAsObject(), collective});
  llvm::stable_sort(steps, [](const PlanStep &a, const PlanStep &b) {
    return a.order < b.order;
  });
  return steps;
}

/// Numbers `keys` so that equal keys get equal numbers, ignoring the digits
/// of the location each key starts with (up to the first '|'): steps are
/// alike when only the numbers in their locations differ.
static std::vector<int> signaturesOf(ArrayRef<std::string> keys) {
  std::map<std::string, int> ids;
  std::vector<int> signatures;
  for (const std::string &key : keys) {
    auto [location, rest] = StringRef(key).split('|');
    std::string masked = location.str();
    llvm::erase_if(masked, [](char c) { return llvm::isDigit(c); });
    masked += "|" + rest.str();
    signatures.push_back(ids.try_emplace(masked, ids.size()).first->second);
  }
  return signatures;
}

static std::vector<int> signaturesOf(ArrayRef<PlanStep> steps) {
  std::vector<std::string> keys;
  for (const PlanStep &step : steps) {
    std::string key;
    for (StringRef field : {"location", "kind", "op", "layout"})
      key += step.entry->getString(field).value_or("").str() + "|";
    if (step.collective)
      key += std::to_string(*step.entry->getInteger("bytes_per_rank"));
    keys.push_back(key);
  }
  return signaturesOf(keys);
}

/// The number the locations give the first repeat of `run` where they
/// number its repeats one by one; `locationOf` gives the location of a step.
static std::optional<int64_t>
firstBlockNumber(const Repeat &run,
                 llvm::function_ref<StringRef(size_t)> locationOf) {
  // A step repeated alone is no block.
  if (run.length < 2)
    return std::nullopt;
  auto firstOf = [&](size_t repeat) {
    return locationOf(run.start + repeat * run.length);
  };
  std::optional<int64_t> first = blockNumber(firstOf(0), firstOf(1));
  std::optional<int64_t> last =
      blockNumber(firstOf(run.repeats - 1), firstOf(run.repeats - 2));
  if (first && last && *last - *first + 1 == int64_t(run.repeats))
    return first;
  return std::nullopt;
}

/// "blocks 1–27" where the locations number the repeats of `run`, else "27
/// repeats"; `locationOf` gives the location of a step.
static std::string
repeatsTitle(const Repeat &run,
             llvm::function_ref<StringRef(size_t)> locationOf) {
  if (std::optional<int64_t> first = firstBlockNumber(run, locationOf))
    return "blocks " + std::to_string(*first) + "–" +
           std::to_string(*first + run.repeats - 1);
  return std::to_string(run.repeats) + " repeats";
}

/// Where the columns of the plan's lines are: the locations take the width
/// of the longest one, up to a bound past which a line overflows.
struct StepColumns {
  int location;
};

/// One line of the plan; a step of a repeated group is indented within the
/// width of the kind column, so that the columns stay aligned.
static void printPlanStep(const PlanStep &step, bool repeated,
                          StepColumns columns, raw_ostream &os) {
  const llvm::json::Object &entry = *step.entry;
  StringRef kind = entry.getString(step.collective ? "kind" : "op").value();
  std::string bytes, time;
  if (step.collective) {
    bytes = bytesText(*entry.getInteger("bytes_per_rank"));
    time = secondsText(*entry.getNumber("seconds"));
  }
  os << (repeated ? "    " : "  ")
     << llvm::format("%-*s %-*s %10s %10s  ", repeated ? 14 : 16,
                     kind.str().c_str(), columns.location,
                     entry.getString("location")->str().c_str(), bytes.c_str(),
                     time.c_str())
     << entry.getString("layout").value_or("") << "\n";
}

/// The stages and collectives in program order, each run of repeats of a
/// group of steps shown once ("blocks 1–27: same plan").
static void printPlanSteps(const llvm::json::Object &report, StringRef profile,
                           raw_ostream &os) {
  std::vector<PlanStep> steps = planSteps(report);
  std::vector<int> signature = signaturesOf(steps);
  auto locationOf = [&](size_t step) {
    return steps[step].entry->getString("location").value_or("");
  };
  StepColumns columns{8};
  for (size_t step = 0; step < steps.size(); ++step)
    columns.location =
        std::max(columns.location, static_cast<int>(locationOf(step).size()));
  columns.location = std::min(columns.location, 64);
  os << "\nStages (the axis each result is split on) and collectives, in "
        "program order; times modeled on "
     << profile << "\n"
     << llvm::format("  %-16s %-*s %10s %10s  %s\n", "kind", columns.location,
                     "location", "bytes/rank", "time", "layout");
  for (const Repeat &run : findRepeats(signature)) {
    if (run.repeats == 1) {
      printPlanStep(steps[run.start], false, columns, os);
      continue;
    }
    os << "  " << repeatsTitle(run, locationOf) << ": same plan\n";
    for (size_t j = run.start; j < run.start + run.length; ++j)
      printPlanStep(steps[j], true, columns, os);
  }
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
  const llvm::json::Object &costModel = *report.getObject("cost_model");
  StringRef profile = costModel.getString("profile").value_or("");
  if (std::optional<StringRef> strategy = costModel.getString("strategy"))
    os << ", strategy " << *strategy;
  os << "\n";
  printPlanSteps(report, profile, os);
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
  const llvm::json::Object &totals = *report.getObject("totals");
  const llvm::json::Object &compute = *report.getObject("compute");
  os << "\nTotals (modeled on " << profile << ": "
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
  os << "  bytes per rank: " << bytesText(*totals.getInteger("bytes_per_rank"))
     << " (gathering the results: "
     << bytesText(*totals.getInteger("output_bytes_per_rank")) << ")\n"
     << "  communication: "
     << secondsText(*totals.getNumber("communication_seconds"))
     << ", compute: " << secondsText(*totals.getNumber("compute_seconds"))
     << "\n"
     << llvm::format("  FLOPs: %.4g total, %.4g on the busiest rank (%.2f of "
                     "total/ranks)\n",
                     flopsTotal, flopsRank,
                     flopsTotal > 0 ? flopsRank * ranks / flopsTotal : 1.0);
  const llvm::json::Object &weights = *report.getObject("weights");
  int64_t weightBytes = *weights.getInteger("bytes_total");
  int64_t weightBytesPerRank = *weights.getInteger("bytes_per_rank");
  os << "  weights: " << bytesText(weightBytesPerRank) << " per rank of "
     << bytesText(weightBytes)
     << llvm::format(" (%.2f of total)\n",
                     weightBytes > 0 ? double(weightBytesPerRank) / weightBytes
                                     : 1.0);
  if (const llvm::json::Object *memory = report.getObject("memory")) {
    os << "  memory: " << bytesText(*memory->getInteger("bytes_per_rank"))
       << " per rank";
    if (std::optional<int64_t> threads = memory->getInteger("threads"))
      os << " at " << *threads << (*threads == 1 ? " thread" : " threads");
    os << " (activation arena " << bytesText(*memory->getInteger("arena_bytes"))
       << ", inputs " << bytesText(*memory->getInteger("input_bytes"))
       << ", collective workspace "
       << bytesText(*memory->getInteger("collective_workspace_bytes"));
    if (std::optional<int64_t> scratch =
            memory->getInteger("kernel_scratch_bytes"))
      os << ", kernel scratch " << bytesText(*scratch) << ")\n";
    else
      os << "; GPU kernels may add scratch)\n";
  }
  if (const llvm::json::Object *approximation =
          report.getObject("approximation")) {
    double modeled = *approximation->getNumber("modeled_seconds");
    double lowerBound = *approximation->getNumber("lower_bound_seconds");
    os << "  not proven optimal (the exact solver's tables would be too "
          "large): modeled "
       << secondsText(modeled) << ", lower bound " << secondsText(lowerBound)
       << llvm::format(", gap at most %.1f %%\n",
                       modeled > 0 ? (modeled - lowerBound) / modeled * 100
                                   : 0.0);
  }
}

/// The fill colour of a value split on `split` (LogicalAxes::splitName): one
/// per axis, so that a value keeps its colour through reshapes.
static StringRef splitColour(StringRef split) {
  static const std::pair<StringRef, StringRef> axes[] = {
      {"replicated", "#d9d9d9"}, {"partial sums", "#fdae61"},
      {"B", "#8dd3c7"},          {"T", "#80b1d3"},
      {"S", "#b3de69"},          {"H", "#fb8072"},
      {"C", "#bebada"}};
  static const StringRef others[] = {"#ffffb3", "#fccde5", "#bc80bd", "#ccebc5",
                                     "#ffed6f"};
  for (auto [axis, colour] : axes)
    if (split == axis)
      return colour;
  return others[llvm::hash_value(split) % std::size(others)];
}

/// `text` as the inside of a quoted DOT string.
static std::string dotEscaped(StringRef text) {
  std::string escaped;
  for (char c : text) {
    if (c == '"' || c == '\\')
      escaped += '\\';
    escaped += c;
  }
  return escaped;
}

static void printDotHeader(raw_ostream &os) {
  os << "digraph plan {\n  rankdir=TB;\n"
     << "  node [shape=box, style=filled, fontname=\"Helvetica\"];\n"
     << "  edge [fontname=\"Helvetica\"];\n";
}

/// Every compute op, in a cluster per block, labelled with its location and
/// layout; collectives label the edges they sit on.
static void printFullPlanDot(ModuleOp module, raw_ostream &os) {
  CostModel model = costModelOf(module);
  printDotHeader(os);
  SmallVector<Operation *> ops;
  module.walk([&](Operation *op) {
    if (isComputeOp(op) && op->getNumResults() == 1)
      ops.push_back(op);
  });
  FunctionAxes axesOf;
  DenseMap<Operation *, int> ids;
  std::vector<std::string> locations, keys;
  for (auto [id, op] : llvm::enumerate(ops)) {
    ids[op] = id;
    locations.push_back(locationText(op->getLoc()));
    keys.push_back(locations.back() + "|" + op->getName().getStringRef().str());
  }
  auto printNode = [&](size_t id) {
    Operation *op = ops[id];
    Value result = op->getResult(0);
    ShardingAttr sharding = getResultSharding(op, 0);
    const LogicalAxes &axes = axesOf(op);
    os << "  n" << id << " [label=\"" << op->getName().stripDialect() << "\\n"
       << dotEscaped(locations[id]) << "\\n"
       << dotEscaped(axes.describe(result, sharding)) << "\", fillcolor=\""
       << splitColour(axes.splitName(result, sharding)) << "\"];\n";
  };
  auto locationOf = [&](size_t id) -> StringRef { return locations[id]; };
  for (const Repeat &run : findRepeats(signaturesOf(keys))) {
    if (run.repeats == 1 || run.length == 1) {
      for (size_t id = run.start; id < run.start + run.repeats; ++id)
        printNode(id);
      continue;
    }
    std::optional<int64_t> first = firstBlockNumber(run, locationOf);
    for (size_t repeat = 0; repeat < run.repeats; ++repeat) {
      size_t start = run.start + repeat * run.length;
      os << "  subgraph cluster_" << start << " {\n  label=\"";
      if (first)
        os << "block " << *first + int64_t(repeat);
      else
        os << "repeat " << repeat + 1 << " of " << run.repeats;
      os << "\";\n  style=rounded;\n";
      for (size_t id = start; id < start + run.length; ++id)
        printNode(id);
      os << "  }\n";
    }
  }
  // Edges from each op's real producer; collectives on the way label them.
  for (auto [id, op] : llvm::enumerate(ops)) {
    const LogicalAxes &axes = axesOf(op);
    for (Value operand : op->getOperands()) {
      std::string label;
      Operation *producer = operand.getDefiningOp();
      while (producer && (kindOf(producer) || isa<LocalSliceOp>(producer))) {
        if (std::optional<CollectiveKind> kind = kindOf(producer)) {
          auto [bytes, axisModel] = collectiveOnGroup(producer, model);
          Value moved = producer->getResult(0);
          label =
              (stringifyCollectiveKind(*kind) + "\\n" +
               axes.splitName(moved, getSharding(producer->getOperand(0))) +
               " → " + axes.splitName(moved, getResultSharding(producer, 0)) +
               "\\n" + bytesText(axisModel.bytesPerRank(*kind, bytes)) +
               "/rank")
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

/// One node per group of consecutive stages split alike, a run of repeated
/// blocks drawn once; collectives label the edges between groups.
static void printCompactPlanDot(ModuleOp module, raw_ostream &os) {
  llvm::json::Object report = buildPlanReport(module);
  std::vector<PlanStep> steps = planSteps(report);
  printDotHeader(os);
  struct Group {
    std::string split, first, last;
    int stages = 0;
  };
  std::optional<Group> group;
  int groups = 0;
  std::string edges, pending;
  auto flush = [&]() {
    if (!group)
      return;
    os << "  g" << groups << " [label=\"" << dotEscaped(group->split) << ": "
       << group->stages << (group->stages == 1 ? " stage" : " stages") << "\\n"
       << dotEscaped(group->first);
    if (group->stages > 1)
      os << "\\n… " << dotEscaped(group->last);
    os << "\", fillcolor=\"" << splitColour(group->split) << "\"];\n";
    if (groups > 0) {
      edges +=
          "  g" + std::to_string(groups - 1) + " -> g" + std::to_string(groups);
      if (!pending.empty())
        edges += " [label=\"" + pending + "\", color=red, penwidth=2]";
      edges += ";\n";
    }
    pending.clear();
    ++groups;
    group.reset();
  };
  auto add = [&](const PlanStep &step) {
    const llvm::json::Object &entry = *step.entry;
    if (step.collective) {
      flush();
      pending +=
          (pending.empty() ? "" : "\\n") + entry.getString("kind")->str() +
          " " + dotEscaped(entry.getString("from_split").value_or("")) + " → " +
          dotEscaped(entry.getString("to_split").value_or("")) + ", " +
          bytesText(*entry.getInteger("bytes_per_rank")) + "/rank";
      return;
    }
    std::string split = entry.getString("split").value_or("").str();
    std::string location = entry.getString("location").value_or("").str();
    if (group && group->split != split)
      flush();
    if (!group)
      group = Group{split, location, location, 0};
    group->last = location;
    ++group->stages;
  };
  auto locationOf = [&](size_t step) -> StringRef {
    return steps[step].entry->getString("location").value_or("");
  };
  for (const Repeat &run : findRepeats(signaturesOf(steps))) {
    if (run.repeats > 1) {
      flush();
      os << "  subgraph cluster_" << run.start << " {\n  label=\""
         << repeatsTitle(run, locationOf)
         << ": same plan\";\n  style=rounded;\n";
    }
    for (size_t step = run.start; step < run.start + run.length; ++step)
      add(steps[step]);
    if (run.repeats > 1) {
      flush();
      os << "  }\n";
    }
  }
  flush();
  os << edges << "}\n";
}

void mlir::dsp::printPlanDot(ModuleOp module, raw_ostream &os, bool compact) {
  if (compact)
    printCompactPlanDot(module, os);
  else
    printFullPlanDot(module, os);
}
