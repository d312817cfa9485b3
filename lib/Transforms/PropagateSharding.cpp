//===- PropagateSharding.cpp - Choose shardings by minimum cost -----------===//
//
// The pass checks its options and, per function, chains the units of
// propagation: the planned ops and their rules (FactorClasses.h), what the
// strategy allows (StrategyConstraints.h), the graph of choices and costs
// (ShardingChoices.h) and its minimum (ExactSolver.h), exact or, past the
// solver's table limit, marked with its lower bound. Unless a mesh is
// pinned, `auto` plans on each mesh of candidateMeshes and keeps the
// cheapest.
//
//===----------------------------------------------------------------------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Format/Checked.h"
#include "dsp/Transforms/Passes.h"
#include "dsp/Transforms/ShardingChoices.h"
#include "dsp/Transforms/ShardingPlan.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>

namespace mlir::dsp {
#define GEN_PASS_DEF_PROPAGATESHARDING
#include "dsp/Transforms/Passes.h.inc"

namespace {
/// What propagation knows of one function whatever the mesh: its planned
/// ops, their factor classes and the results pinned to an argument's
/// sharding.
struct FunctionUnits {
  FunctionUnits(func::FuncOp function, PlannedOps planned,
                SmallVector<KeptResult> kept)
      : function(function), planned(std::move(planned)),
        classes(FactorClasses::build(this->planned)), kept(std::move(kept)) {}

  func::FuncOp function;
  PlannedOps planned;
  FactorClasses classes;
  SmallVector<KeptResult> kept;
};

/// The plan of every function on one mesh, and its modeled cost.
struct ModulePlan {
  SmallVector<int64_t> mesh;
  /// What the strategy allows each function's ops on this mesh (a ring
  /// needs at most two axes).
  SmallVector<std::unique_ptr<StrategyConstraints>> constraints;
  SmallVector<std::unique_ptr<ShardingChoices>> choices;
  SmallVector<CostGraph::Solution> solutions;
  double seconds = 0;
};

struct PropagateSharding : impl::PropagateShardingBase<PropagateSharding> {
  using PropagateShardingBase::PropagateShardingBase;

  void runOnOperation() override;

private:
  LogicalResult setUpCostModel(ModuleOp module);
  /// Reads the mesh option into `meshSizes` (empty: no mesh pinned).
  LogicalResult parseMesh(ModuleOp module);
  /// The meshes to plan on: the pinned one, or those `auto` chooses among.
  SmallVector<SmallVector<int64_t>> candidateMeshes(ModuleOp module,
                                                    Strategy mode) const;
  /// The plan on `mesh`; none when pricing its choices passes
  /// `maxPricedReshards` (ShardingChoices).
  std::optional<ModulePlan>
  plan(ArrayRef<std::unique_ptr<FunctionUnits>> functions, Strategy mode,
       ArrayRef<int64_t> mesh,
       std::optional<uint64_t> maxPricedReshards = std::nullopt);
  void apply(const ModulePlan &plan);
  /// Records the keep-sharded option's pins on `function`'s results.
  LogicalResult markKeptResults(func::FuncOp function);

  CostModel costModel;
  SmallVector<int64_t> meshSizes;
};
} // namespace

LogicalResult PropagateSharding::setUpCostModel(ModuleOp module) {
  costModel.ranks = ranks;
  if (std::optional<DeviceProfile> builtin = DeviceProfile::builtin(profile)) {
    costModel.device = *builtin;
  } else {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
        llvm::MemoryBuffer::getFile(profile, /*IsText=*/true);
    if (!file)
      return emitError(module.getLoc(), "device profile '")
             << profile << "' is neither h100 nor h200, and reading it as a "
             << "file failed: " << file.getError().message();
    std::string problem =
        DeviceProfile::parse((*file)->getBuffer(), costModel.device);
    if (!problem.empty())
      return emitError(module.getLoc(), "device profile file '")
             << profile << "': " << problem;
  }
  const DeviceProfile &device = costModel.device;
  if (!preset.empty() || !device.linkBusBandwidth) {
    StringRef link = preset.empty() ? StringRef("nvlink") : StringRef(preset);
    if (!costModel.applyPreset(link))
      return emitError(module.getLoc(), "unknown link preset '")
             << link << "'; use nvlink or infiniband";
  } else {
    costModel.latency = device.linkLatency;
    costModel.busBandwidth = device.linkBusBandwidth;
  }
  if (latencyUs >= 0)
    costModel.latency = latencyUs * 1e-6;
  if (busBandwidthGBs > 0)
    costModel.busBandwidth = busBandwidthGBs * 1e9;
  // -1 stands for the profile's rates.
  if (tflops != -1 && !(tflops > 0 && std::isfinite(tflops)))
    return emitError(module.getLoc(), "tflops must be positive");
  if (tflops > 0)
    costModel.device.f32FlopsPerSecond = costModel.device.halfFlopsPerSecond =
        tflops * 1e12;
  return success();
}

LogicalResult PropagateSharding::parseMesh(ModuleOp module) {
  if (mesh.empty())
    return success();
  SmallVector<StringRef> sizes;
  StringRef(mesh).split(sizes, 'x');
  int64_t product = 1;
  for (StringRef text : sizes) {
    int64_t size = 0;
    if (text.getAsInteger(10, size) || size < 1 || size > ranks)
      return emitError(module.getLoc(), "mesh '")
             << mesh << "' is not sizes such as 2x4 that multiply to the "
             << int64_t(ranks) << " ranks";
    product *= size;
    meshSizes.push_back(size);
  }
  if (product != ranks)
    return emitError(module.getLoc(), "mesh '")
           << mesh << "' is not sizes such as 2x4 that multiply to the "
           << int64_t(ranks) << " ranks";
  // One axis of all ranks is the plan without a mesh.
  if (meshSizes.size() == 1)
    meshSizes.clear();
  return success();
}

/// The index of `function`'s argument (or result) whose `dsp.name` is
/// `name`, and the names there are, quoted, for an error.
static std::optional<unsigned> findNamed(func::FuncOp function, bool results,
                                         StringRef name, std::string &names) {
  unsigned count =
      results ? function.getNumResults() : function.getNumArguments();
  std::optional<unsigned> found;
  for (unsigned i = 0; i < count; ++i) {
    auto named = results ? function.getResultAttrOfType<StringAttr>(
                               i, DSPDialect::kNameAttrName)
                         : function.getArgAttrOfType<StringAttr>(
                               i, DSPDialect::kNameAttrName);
    if (!named)
      continue;
    if (named.getValue() == name && !found)
      found = i;
    names += (names.empty() ? "'" : ", '") + named.str() + "'";
  }
  if (names.empty())
    names = "none";
  return found;
}

LogicalResult PropagateSharding::markKeptResults(func::FuncOp function) {
  for (const std::string &pin : keepSharded) {
    auto [output, input] = StringRef(pin).split(':');
    if (output.empty() || input.empty())
      return function.emitError("keep-sharded '")
             << pin << "' is not OUTPUT:INPUT, an output's and an input's name";
    std::string names;
    std::optional<unsigned> result =
        findNamed(function, /*results=*/true, output, names);
    if (!result)
      return function.emitError("keep-sharded '")
             << pin << "': the model has no output named '" << output
             << "' (outputs: " << names << ")";
    function.setResultAttr(*result, DSPDialect::kKeptShardedAttrName,
                           StringAttr::get(function.getContext(), input));
  }
  return success();
}

/// The results of `function` that keep an argument's sharding, checked.
static FailureOr<SmallVector<KeptResult>> keptResults(func::FuncOp function) {
  SmallVector<KeptResult> kept;
  for (const KeptOutput &pin : keptOutputs(function)) {
    std::string what = pin.output.empty()
                           ? "result " + std::to_string(pin.result)
                           : "output '" + pin.output.str() + "'";
    std::string names;
    std::optional<unsigned> argument =
        findNamed(function, /*results=*/false, pin.input, names);
    if (!argument)
      return function.emitError()
             << what << " is to keep the sharding of input '" << pin.input
             << "', but the model has no input named so (inputs: " << names
             << ")";
    Type resultType = function.getResultTypes()[pin.result];
    Type argumentType = function.getArgumentTypes()[*argument];
    if (resultType != argumentType)
      return function.emitError()
             << what << " of type " << resultType
             << " cannot keep the sharding of input '" << pin.input
             << "' of type " << argumentType
             << ": a kept output has its input's shape and element type";
    kept.push_back({pin.result, *argument});
  }
  return kept;
}

SmallVector<SmallVector<int64_t>>
PropagateSharding::candidateMeshes(ModuleOp module, Strategy mode) const {
  SmallVector<SmallVector<int64_t>> meshes = {{}};
  if (!mesh.empty()) {
    meshes.front() = meshSizes;
    return meshes;
  }
  if (mode == Strategy::Usp) {
    meshes.front() = uspMesh(module, ranks);
    return meshes;
  }
  // The classic strategies are defined on one axis of all ranks. `auto`
  // also tries every split of the ranks into two axes, the smaller first
  // (the cost model is symmetric in the order of the axes): one axis more
  // lets an op shard two factors whose product reaches N, which covers the
  // models' [B x T], [T x S] and [T x heads]; a third axis would multiply
  // the choices of every op again for factors that two axes already cover.
  if (mode != Strategy::Auto)
    return meshes;
  for (int64_t first = 2; first * first <= ranks; ++first)
    if (ranks % first == 0)
      meshes.push_back({first, ranks / first});
  return meshes;
}

std::optional<ModulePlan>
PropagateSharding::plan(ArrayRef<std::unique_ptr<FunctionUnits>> functions,
                        Strategy mode, ArrayRef<int64_t> mesh,
                        std::optional<uint64_t> maxPricedReshards) {
  ModulePlan plan;
  plan.mesh.assign(mesh.begin(), mesh.end());
  for (const std::unique_ptr<FunctionUnits> &units : functions) {
    plan.constraints.push_back(std::make_unique<StrategyConstraints>(
        mode, units->planned, ranks, mesh));
    plan.choices.push_back(std::make_unique<ShardingChoices>(
        units->function, units->planned, units->classes,
        *plan.constraints.back(), costModel, mesh, allowReplication,
        units->kept, maxPricedReshards));
    if (plan.choices.back()->isIncomplete())
      return std::nullopt;
    plan.solutions.push_back(plan.choices.back()->getGraph().solve());
    plan.seconds += plan.solutions.back().cost;
  }
  return plan;
}

void PropagateSharding::apply(const ModulePlan &plan) {
  MLIRContext *context = &getContext();
  ModuleOp module = getOperation();
  module->setAttr(DSPDialect::kGroupAttrName,
                  GroupAttr::get(context, ranks, plan.mesh, false));
  // The report names the strategy next to the cost model it priced.
  NamedAttrList costModelEntries(costModelAttr(context, costModel));
  costModelEntries.set(
      "strategy",
      StringAttr::get(context, secondBest ? strategy + " (second-best plan)"
                                          : std::string(strategy)));
  module->setAttr(DSPDialect::kCostModelAttrName,
                  costModelEntries.getDictionary(context));
  Builder builder(context);
  for (auto [choices, solution] : llvm::zip(plan.choices, plan.solutions)) {
    choices->apply(solution);
    if (solution.optimal)
      continue;
    choices->getFunction()->setAttr(
        DSPDialect::kApproximatePlanAttrName,
        builder.getDictionaryAttr({
            builder.getNamedAttr("modeled_s",
                                 builder.getF64FloatAttr(solution.cost)),
            builder.getNamedAttr("lower_bound_s",
                                 builder.getF64FloatAttr(solution.lowerBound)),
        }));
  }
}

void PropagateSharding::runOnOperation() {
  ModuleOp module = getOperation();
  if (ranks < 1 || ranks > ::dsp::format::kMaxRanks) {
    emitError(module.getLoc())
        << "ranks must be between 1 and " << ::dsp::format::kMaxRanks
        << ", got " << int64_t(ranks);
    return signalPassFailure();
  }
  std::optional<Strategy> mode = parseStrategy(strategy);
  if (!mode) {
    emitError(module.getLoc())
        << "unknown strategy '" << strategy
        << "'; use auto, dsp, ulysses, megatron-sp, ring, usp or none";
    return signalPassFailure();
  }
  if (isPerRank(module)) {
    emitError(module.getLoc(),
              "a plan is made on global IR, and this module is "
              "per-rank IR (--dsp-localize ran)");
    return signalPassFailure();
  }
  // A planned module's shardings and collectives would be planned over
  // again as if they were the model's own ops.
  WalkResult planned = module.walk([](Operation *op) {
    if (isCollective(op) || op->hasAttr(DSPDialect::kShardingAttrName))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (planned.wasInterrupted()) {
    emitError(module.getLoc(),
              "this module is planned already (it has shardings and "
              "collectives); plan the imported model instead, such as "
              "`dsp-opt model.onnx --dsp-pipeline=ranks=N`");
    return signalPassFailure();
  }
  int64_t existing = getGroupRanks(module);
  if (existing != 0 && existing != ranks) {
    emitError(module.getLoc())
        << "the module already has a device group of " << existing
        << " ranks; cannot plan it for " << int64_t(ranks);
    return signalPassFailure();
  }
  if (failed(setUpCostModel(module)) || failed(parseMesh(module)))
    return signalPassFailure();
  if (meshPricingLimit < 0) {
    emitError(module.getLoc()) << "mesh-pricing-limit must be at least 0, got "
                               << int64_t(meshPricingLimit);
    return signalPassFailure();
  }
  if (*mode == Strategy::Usp && meshSizes.size() > 2) {
    emitError(module.getLoc(),
              "usp runs Ulysses on one mesh axis and the ring on "
              "another; give a mesh of two axes, such as 2x4");
    return signalPassFailure();
  }
  SmallVector<std::unique_ptr<FunctionUnits>> functions;
  for (auto function : module.getOps<func::FuncOp>()) {
    if (function.isExternal())
      continue;
    if (failed(markKeptResults(function)))
      return signalPassFailure();
    if (!function.getBody().hasOneBlock()) {
      function.emitError("sharding propagation needs a single-block function");
      return signalPassFailure();
    }
    FailureOr<PlannedOps> planned =
        PlannedOps::collect(function.getBody().front());
    FailureOr<SmallVector<KeptResult>> kept = keptResults(function);
    if (failed(planned) || failed(kept))
      return signalPassFailure();
    functions.push_back(std::make_unique<FunctionUnits>(
        function, std::move(*planned), std::move(*kept)));
  }
  // The cheapest mesh wins, but a mesh of more axes must be cheaper by more
  // than kMeshMargin of the time: sub-group communicators and the views
  // of compound blocks cost what the model does not see, so among nearly
  // equal plans the one of fewer axes stays.
  constexpr double kMeshMargin = 0.01;
  // The first mesh (one axis, or the pinned one) is always planned; a split
  // that auto tries besides is given up where its choices are too many to
  // price in bounded time.
  std::optional<ModulePlan> best;
  for (ArrayRef<int64_t> candidate : candidateMeshes(module, *mode)) {
    std::optional<uint64_t> limit;
    if (best)
      limit = static_cast<uint64_t>(meshPricingLimit);
    std::optional<ModulePlan> next = plan(functions, *mode, candidate, limit);
    if (!next) {
      std::string sizes;
      llvm::raw_string_ostream os(sizes);
      llvm::interleave(candidate, os, "x");
      emitWarning(module.getLoc())
          << "the mesh " << sizes
          << " was not planned: its choices need more than "
          << int64_t(meshPricingLimit)
          << " distinct conversions priced (mesh-pricing-limit)";
      continue;
    }
    double margin = best && next->mesh.size() > best->mesh.size()
                        ? kMeshMargin * best->seconds
                        : 0;
    if (!best || next->seconds < best->seconds - margin)
      best = std::move(next);
  }
  if (secondBest) {
    best->seconds = 0;
    for (auto [choices, solution] : llvm::zip(best->choices, best->solutions)) {
      solution = choices->getGraph().solveSecondBest(solution);
      best->seconds += solution.cost;
    }
  }
  apply(*best);
}
} // namespace mlir::dsp
