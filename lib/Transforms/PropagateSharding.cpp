//===- PropagateSharding.cpp - Choose shardings by minimum cost -----------===//
//
// The pass checks its options and, per function, chains the units of
// propagation: the planned ops and their rules (FactorClasses.h), what the
// strategy allows (StrategyConstraints.h), the graph of choices and costs
// (ShardingChoices.h) and its minimum (ExactSolver.h), exact or, past the
// solver's table limit, marked with its lower bound.
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
struct PropagateSharding : impl::PropagateShardingBase<PropagateSharding> {
  using PropagateShardingBase::PropagateShardingBase;

  void runOnOperation() override;

private:
  LogicalResult setUpCostModel(ModuleOp module);
  /// Reads the mesh option into `meshSizes` (empty: no mesh).
  LogicalResult parseMesh(ModuleOp module);
  /// Records the keep-sharded option's pins on `function`'s results.
  LogicalResult markKeptResults(func::FuncOp function);
  LogicalResult plan(func::FuncOp function, Strategy mode);

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
      return module.emitError("device profile '")
             << profile << "' is neither h100 nor h200, and reading it as a "
             << "file failed: " << file.getError().message();
    std::string problem =
        DeviceProfile::parse((*file)->getBuffer(), costModel.device);
    if (!problem.empty())
      return module.emitError("device profile file '")
             << profile << "': " << problem;
  }
  const DeviceProfile &device = costModel.device;
  if (!preset.empty() || !device.linkBusBandwidth) {
    StringRef link = preset.empty() ? StringRef("nvlink") : StringRef(preset);
    if (!costModel.applyPreset(link))
      return module.emitError("unknown link preset '")
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
    return module.emitError("tflops must be positive");
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
      return module.emitError("mesh '")
             << mesh << "' is not sizes such as 2x4 that multiply to the "
             << int64_t(ranks) << " ranks";
    product *= size;
    meshSizes.push_back(size);
  }
  if (meshSizes.size() < 2 || product != ranks)
    return module.emitError("mesh '")
           << mesh << "' is not sizes such as 2x4 that multiply to the "
           << int64_t(ranks) << " ranks";
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

LogicalResult PropagateSharding::plan(func::FuncOp function, Strategy mode) {
  if (!function.getBody().hasOneBlock())
    return function.emitError(
        "sharding propagation needs a single-block function");
  FailureOr<PlannedOps> planned =
      PlannedOps::collect(function.getBody().front());
  if (failed(planned))
    return failure();
  FailureOr<SmallVector<KeptResult>> kept = keptResults(function);
  if (failed(kept))
    return failure();
  FactorClasses classes = FactorClasses::build(*planned);
  StrategyConstraints constraints(mode, *planned);
  ShardingChoices choices(function, *planned, classes, constraints, costModel,
                          meshSizes, allowReplication, *kept);
  CostGraph::Solution solution = choices.getGraph().solve();
  choices.apply(solution);
  if (!solution.optimal) {
    Builder builder(function.getContext());
    function->setAttr(
        DSPDialect::kApproximatePlanAttrName,
        builder.getDictionaryAttr({
            builder.getNamedAttr("modeled_s",
                                 builder.getF64FloatAttr(solution.cost)),
            builder.getNamedAttr("lower_bound_s",
                                 builder.getF64FloatAttr(solution.lowerBound)),
        }));
  }
  return success();
}

void PropagateSharding::runOnOperation() {
  ModuleOp module = getOperation();
  if (ranks < 1 || ranks > ::dsp::format::kMaxRanks) {
    module.emitError() << "ranks must be between 1 and "
                       << ::dsp::format::kMaxRanks << ", got "
                       << int64_t(ranks);
    return signalPassFailure();
  }
  std::optional<Strategy> mode = parseStrategy(strategy);
  if (!mode) {
    module.emitError()
        << "unknown strategy '" << strategy
        << "'; use auto, dsp, ulysses, megatron-sp, ring or none";
    return signalPassFailure();
  }
  if (isPerRank(module)) {
    module.emitError("a plan is made on global IR, and this module is "
                     "per-rank IR (--dsp-localize ran)");
    return signalPassFailure();
  }
  int64_t existing = getGroupRanks(module);
  if (existing != 0 && existing != ranks) {
    module.emitError() << "the module already has a device group of "
                       << existing << " ranks; cannot plan it for "
                       << int64_t(ranks);
    return signalPassFailure();
  }
  if (failed(setUpCostModel(module)) || failed(parseMesh(module)))
    return signalPassFailure();
  MLIRContext *context = &getContext();
  module->setAttr(DSPDialect::kGroupAttrName,
                  GroupAttr::get(context, ranks, meshSizes, false));
  module->setAttr(DSPDialect::kCostModelAttrName,
                  costModelAttr(context, costModel));
  for (auto function : module.getOps<func::FuncOp>())
    if (!function.isExternal() &&
        (failed(markKeptResults(function)) || failed(plan(function, *mode))))
      return signalPassFailure();
}
} // namespace mlir::dsp
