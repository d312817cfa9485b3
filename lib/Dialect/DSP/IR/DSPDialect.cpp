//===- DSPDialect.cpp - The dsp dialect -----------------------------------===//

#include "dsp/Dialect/DSP/IR/DSPDialect.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Dialect/DSP/IR/ProgramDType.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::dsp;

#include "dsp/Dialect/DSP/IR/DSPOpsDialect.cpp.inc"

void DSPDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "dsp/Dialect/DSP/IR/DSPOps.cpp.inc"
      >();
}

Operation *DSPDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}

LogicalResult DSPDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attribute) {
  if (attribute.getName() == kGroupAttrName) {
    if (!isa<ModuleOp>(op))
      return op->emitError()
             << "'" << kGroupAttrName << "' belongs on the module";
    if (!isa<GroupAttr>(attribute.getValue()))
      return op->emitError()
             << "'" << kGroupAttrName << "' must be a #dsp.group";
    return success();
  }
  if (attribute.getName() == kTargetAttrName) {
    if (!isa<ModuleOp>(op) || !isa<TargetAttr>(attribute.getValue()))
      return op->emitError() << "'" << kTargetAttrName
                             << "' must be a #dsp.target on the module";
    return success();
  }
  if (attribute.getName() == kOverlapChunksAttrName) {
    auto chunks = dyn_cast<IntegerAttr>(attribute.getValue());
    if (!isa<ModuleOp>(op) || !chunks || chunks.getInt() < 2)
      return op->emitError() << "'" << kOverlapChunksAttrName
                             << "' must be an integer of 2 or more on the "
                                "module";
    return success();
  }
  if (attribute.getName() == kCostModelAttrName) {
    if (!isa<ModuleOp>(op) || !isa<DictionaryAttr>(attribute.getValue()))
      return op->emitError() << "'" << kCostModelAttrName
                             << "' must be a dictionary on the module";
    return success();
  }
  if (attribute.getName() == kApproximatePlanAttrName) {
    if (!isa<FunctionOpInterface>(op) ||
        !isa<DictionaryAttr>(attribute.getValue()))
      return op->emitError() << "'" << kApproximatePlanAttrName
                             << "' must be a dictionary on a function";
    return success();
  }
  if (attribute.getName() == kReadShardingAttrName) {
    auto sharding = dyn_cast<ShardingAttr>(attribute.getValue());
    auto type = op->getNumResults() == 1
                    ? dyn_cast<RankedTensorType>(op->getResult(0).getType())
                    : nullptr;
    if (!sharding || !type)
      return op->emitError() << "'" << kReadShardingAttrName
                             << "' must be one #dsp.shard on an op with one "
                                "ranked tensor result";
    return sharding.verifyFor(type, getGroup(op), [&] {
      return op->emitError() << "'" << kReadShardingAttrName << "': ";
    });
  }
  bool results = attribute.getName() == kShardingAttrName;
  if (results || attribute.getName() == kOperandShardingsAttrName) {
    ValueRange values =
        results ? ValueRange(op->getResults()) : ValueRange(op->getOperands());
    StringRef what = results ? "result" : "operand";
    auto shardings = dyn_cast<ArrayAttr>(attribute.getValue());
    if (!shardings || shardings.size() != values.size())
      return op->emitError()
             << "'" << attribute.getName().getValue()
             << "' must be an array with one "
             << "#dsp.shard per " << what << " (" << values.size() << ")";
    GroupAttr group = getGroup(op);
    for (auto [index, entry] : llvm::enumerate(shardings)) {
      auto sharding = dyn_cast<ShardingAttr>(entry);
      if (!sharding)
        return op->emitError() << "'" << attribute.getName().getValue()
                               << "' entry " << index << " is not a #dsp.shard";
      auto type = dyn_cast<RankedTensorType>(values[index].getType());
      if (!type)
        return op->emitError() << what << " " << index
                               << " is not a ranked tensor, so it cannot be "
                                  "sharded";
      if (failed(sharding.verifyFor(type, group, [&] {
            return op->emitError() << what << " " << index << ": ";
          })))
        return failure();
    }
    return success();
  }
  return op->emitError() << "unknown dsp attribute '"
                         << attribute.getName().getValue() << "'";
}

static LogicalResult verifyStringAttribute(Operation *op,
                                           NamedAttribute attribute) {
  if (attribute.getName() != DSPDialect::kNameAttrName &&
      attribute.getName() != DSPDialect::kKeptShardedAttrName)
    return op->emitError() << "unknown dsp argument or result attribute '"
                           << attribute.getName().getValue() << "'";
  if (!isa<StringAttr>(attribute.getValue()))
    return op->emitError() << "'" << attribute.getName().getValue()
                           << "' must be a string";
  return success();
}

/// An argument's or result's `dsp.sharding` (or an argument's
/// `dsp.read_sharding`): one #dsp.shard that fits its type.
static LogicalResult verifyValueSharding(Operation *op, Type type,
                                         StringRef what, unsigned index,
                                         NamedAttribute attribute) {
  auto sharding = dyn_cast<ShardingAttr>(attribute.getValue());
  if (!sharding || !isa<FunctionOpInterface>(op))
    return op->emitError() << "an " << what << "'s '"
                           << attribute.getName().getValue()
                           << "' must be one #dsp.shard";
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return op->emitError() << what << " " << index << " is not a ranked tensor";
  return sharding.verifyFor(tensor, getGroup(op), [&] {
    return op->emitError() << what << " " << index << ": ";
  });
}

LogicalResult DSPDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                   unsigned argIndex,
                                                   NamedAttribute attribute) {
  // An argument's sharding: the block of it that each rank reads; its read
  // sharding: what it is converted to first.
  if (attribute.getName() == kShardingAttrName ||
      attribute.getName() == kReadShardingAttrName) {
    auto function = dyn_cast<FunctionOpInterface>(op);
    return verifyValueSharding(
        op, function ? function.getArgumentTypes()[argIndex] : Type(),
        "argument", argIndex, attribute);
  }
  if (attribute.getName() == kKeptShardedAttrName)
    return op->emitError() << "'" << kKeptShardedAttrName
                           << "' is a result attribute";
  return verifyStringAttribute(op, attribute);
}

LogicalResult DSPDialect::verifyRegionResultAttribute(
    Operation *op, unsigned, unsigned resultIndex, NamedAttribute attribute) {
  // A kept result's sharding: the block of it that each rank holds.
  if (attribute.getName() == kShardingAttrName) {
    auto function = dyn_cast<FunctionOpInterface>(op);
    return verifyValueSharding(
        op, function ? function.getResultTypes()[resultIndex] : Type(),
        "result", resultIndex, attribute);
  }
  return verifyStringAttribute(op, attribute);
}

namespace mlir::dsp {

GroupAttr getGroup(Operation *op) {
  auto module =
      isa<ModuleOp>(op) ? cast<ModuleOp>(op) : op->getParentOfType<ModuleOp>();
  if (!module)
    return nullptr;
  return module->getAttrOfType<GroupAttr>(DSPDialect::kGroupAttrName);
}

TargetAttr getTarget(Operation *op) {
  auto module =
      isa<ModuleOp>(op) ? cast<ModuleOp>(op) : op->getParentOfType<ModuleOp>();
  return module ? module->getAttrOfType<TargetAttr>(DSPDialect::kTargetAttrName)
                : TargetAttr();
}

int64_t getOverlapChunks(ModuleOp module) {
  auto chunks =
      module->getAttrOfType<IntegerAttr>(DSPDialect::kOverlapChunksAttrName);
  return chunks ? chunks.getInt() : 1;
}

int64_t getGroupRanks(Operation *op) {
  GroupAttr group = getGroup(op);
  return group ? group.getRanks() : 0;
}

bool isPerRank(Operation *op) {
  GroupAttr group = getGroup(op);
  return group && group.getPerRank();
}

ShardingAttr getResultSharding(Operation *op, unsigned index) {
  auto shardings = op->getAttrOfType<ArrayAttr>(DSPDialect::kShardingAttrName);
  if (!shardings || index >= shardings.size())
    return nullptr;
  return dyn_cast<ShardingAttr>(shardings[index]);
}

ShardingAttr getSharding(Value value) {
  if (auto argument = dyn_cast<BlockArgument>(value)) {
    auto function =
        dyn_cast<FunctionOpInterface>(argument.getOwner()->getParentOp());
    if (!function)
      return nullptr;
    return function.getArgAttrOfType<ShardingAttr>(
        argument.getArgNumber(), DSPDialect::kShardingAttrName);
  }
  auto result = cast<OpResult>(value);
  return getResultSharding(result.getOwner(), result.getResultNumber());
}

ShardingAttr getShardingOrReplicated(Value value) {
  if (ShardingAttr sharding = getSharding(value))
    return sharding;
  return ShardingAttr::getReplicated(value.getContext());
}

void setShardings(Operation *op, ArrayRef<ShardingAttr> shardings) {
  SmallVector<Attribute> entries(shardings.begin(), shardings.end());
  op->setAttr(DSPDialect::kShardingAttrName,
              ArrayAttr::get(op->getContext(), entries));
}

std::optional<::dsp::program::DType> programDType(Type elementType) {
  namespace program = ::dsp::program;
  if (elementType.isF32())
    return program::F32;
  if (elementType.isF16())
    return program::F16;
  if (elementType.isBF16())
    return program::BF16;
  if (elementType.isInteger(64))
    return program::I64;
  if (elementType.isInteger(32))
    return program::I32;
  if (elementType.isInteger(1))
    return program::BOOL;
  return std::nullopt;
}

} // namespace mlir::dsp
