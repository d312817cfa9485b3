//===- FactorClasses.cpp - Factors that shard together --------------------===//

#include "dsp/Transforms/FactorClasses.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::dsp;

std::optional<FactorPlace>
mlir::dsp::placeOf(const ShardingRule &rule,
                   const ShardingRule::TensorFactors &dims, int64_t factor) {
  for (auto [d, factors] : llvm::enumerate(dims)) {
    auto it = llvm::find(factors, factor);
    if (it == factors.end())
      continue;
    int64_t outer = 1, inner = 1;
    for (auto f = factors.begin(); f != it; ++f)
      outer *= rule.getFactors()[*f].size;
    for (auto f = std::next(it); f != factors.end(); ++f)
      inner *= rule.getFactors()[*f].size;
    return FactorPlace{static_cast<int64_t>(d), outer,
                       rule.getFactors()[factor].size, inner};
  }
  return std::nullopt;
}

RuleTensors mlir::dsp::tensorsOf(Operation *op, const ShardingRule &rule) {
  RuleTensors tensors;
  for (auto [i, dims] : llvm::enumerate(rule.getOperands()))
    tensors.push_back({op->getOperand(i), &dims});
  tensors.push_back({op->getResult(0), &rule.getResults()[0]});
  return tensors;
}

bool mlir::dsp::isModelData(Value value) {
  Operation *def = value.getDefiningOp();
  return def && def->getNumOperands() == 0 && isa<ShardingRuleOpInterface>(def);
}

FailureOr<PlannedOps> PlannedOps::collect(Block &body) {
  PlannedOps planned;
  for (Operation &op : body) {
    // Model data is planned by its readers.
    if (op.hasTrait<OpTrait::IsTerminator>() ||
        (op.getNumResults() == 1 && isModelData(op.getResult(0))))
      continue;
    auto ruleOp = dyn_cast<ShardingRuleOpInterface>(op);
    if (!ruleOp || op.getNumResults() != 1) {
      op.emitError("sharding propagation handles dsp ops with one result "
                   "only");
      return failure();
    }
    ShardingRule rule = ruleOp.getShardingRule();
    if (failed(rule.verify(&op)))
      return failure();
    planned.ops.push_back(&op);
    planned.rules.try_emplace(&op, std::move(rule));
    // Operands are defined above their users: one pass in order suffices.
    if (llvm::all_of(op.getOperands(), [&](Value operand) {
          return planned.isFromModelData(operand);
        }))
      planned.fromModelData.insert(&op);
  }
  return planned;
}

const ShardingRule *PlannedOps::ruleOf(Operation *op) const {
  auto it = rules.find(op);
  return it == rules.end() ? nullptr : &it->second;
}

bool PlannedOps::isFromModelData(Value value) const {
  return isModelData(value) || fromModelData.contains(value.getDefiningOp());
}

FactorClasses FactorClasses::build(const PlannedOps &planned) {
  FactorClasses classes;
  // Link every place of each factor; seed the model factors.
  for (Operation *op : planned.getOps()) {
    const ShardingRule &rule = *planned.ruleOf(op);
    RuleTensors tensors = tensorsOf(op, rule);
    for (size_t f = 0; f < rule.getFactors().size(); ++f) {
      SmallVector<std::pair<Value, FactorPlace>> places;
      for (auto [value, dims] : tensors)
        if (auto place = placeOf(rule, *dims, f))
          places.push_back({value, *place});
      classes.linkAll(places);
    }
    for (int64_t f : rule.getModelFactors())
      for (auto [value, dims] : tensors)
        if (auto place = placeOf(rule, *dims, f))
          classes.seed(value, *place);
  }
  // A part of a factor that one neighbour names is a part of that factor
  // in every tensor the factor spans, and the same part in each of them: a
  // projection's columns learn the heads its consumer's reshape splits them
  // into, also through a bias added between the two.
  for (bool changed = true; changed;) {
    changed = false;
    for (Operation *op : planned.getOps()) {
      const ShardingRule &rule = *planned.ruleOf(op);
      RuleTensors tensors = tensorsOf(op, rule);
      for (size_t f = 0; f < rule.getFactors().size(); ++f) {
        llvm::SetVector<std::pair<int64_t, int64_t>> parts;
        for (auto [value, dims] : tensors)
          if (auto place = placeOf(rule, *dims, f))
            for (auto [outer, size, inner] :
                 classes.placesOn(value, place->dim))
              if (size >= 2 && outer % place->outer == 0 &&
                  place->size % (outer / place->outer * size) == 0)
                parts.insert({outer / place->outer, size});
        for (auto [within, size] : parts) {
          SmallVector<std::pair<Value, FactorPlace>> places;
          for (auto [value, dims] : tensors)
            if (auto place = placeOf(rule, *dims, f)) {
              FactorPlace part{place->dim, place->outer * within, size,
                               place->size / (within * size) * place->inner};
              changed |= classes.addPlace(value, part);
              places.push_back({value, part});
            }
          classes.linkAll(places);
        }
      }
    }
  }
  classes.linkSameStart();
  return classes;
}

void FactorClasses::linkAll(ArrayRef<std::pair<Value, FactorPlace>> places) {
  for (auto [value, place] : places)
    classes.unionSets(id(places.front().first, places.front().second),
                      id(value, place));
}

void FactorClasses::seed(Value value, FactorPlace place) {
  seeds.push_back(id(value, place));
}

bool FactorClasses::addPlace(Value value, FactorPlace place) {
  size_t before = ids.size();
  id(value, place);
  return ids.size() != before;
}

void FactorClasses::linkSameStart() {
  for (auto &[dim, places] : byDim)
    for (size_t i = 1; i < places.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (std::get<0>(places[i].second) == std::get<0>(places[j].second)) {
          classes.unionSets(places[i].first, places[j].first);
          break;
        }
  for (unsigned s : seeds)
    modelLeaders.insert(classes.getLeaderValue(s));
}

SmallVector<std::tuple<int64_t, int64_t, int64_t>>
FactorClasses::placesOn(Value value, int64_t dim) {
  SmallVector<std::tuple<int64_t, int64_t, int64_t>> places;
  auto it = byDim.find({value, dim});
  if (it != byDim.end())
    for (auto &entry : it->second)
      places.push_back(entry.second);
  return places;
}

bool FactorClasses::isModel(Value value, FactorPlace place) {
  return modelLeaders.contains(classes.getLeaderValue(id(value, place)));
}

unsigned FactorClasses::id(Value value, FactorPlace place) {
  Key key{value, place.dim, place.outer, place.size};
  auto [it, inserted] = ids.try_emplace(key, ids.size());
  if (inserted) {
    classes.insert(it->second);
    byDim[{value, place.dim}].push_back(
        {it->second, {place.outer, place.size, place.inner}});
  }
  return it->second;
}
