//===- DSPDialect.cpp - The dsp dialect -----------------------------------===//

#include "dsp/Dialect/DSP/IR/DSPDialect.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectImplementation.h"
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
  if (attribute.getName() == kShardingAttrName) {
    auto shardings = dyn_cast<ArrayAttr>(attribute.getValue());
    if (!shardings || shardings.size() != op->getNumResults())
      return op->emitError()
             << "'" << kShardingAttrName
             << "' must be an array with one #dsp.shard per result ("
             << op->getNumResults() << ")";
    int64_t ranks = getGroupRanks(op);
    for (auto [index, entry] : llvm::enumerate(shardings)) {
      auto sharding = dyn_cast<ShardingAttr>(entry);
      if (!sharding)
        return op->emitError() << "'" << kShardingAttrName << "' entry "
                               << index << " is not a #dsp.shard";
      auto type = dyn_cast<RankedTensorType>(op->getResult(index).getType());
      if (!type)
        return op->emitError() << "result " << index
                               << " is not a ranked tensor, so it cannot be "
                                  "sharded";
      if (failed(sharding.verifyFor(type, ranks, [&] {
            return op->emitError() << "result " << index << ": ";
          })))
        return failure();
    }
    return success();
  }
  return op->emitError() << "unknown dsp attribute '"
                         << attribute.getName().getValue() << "'";
}

static LogicalResult verifyNameAttribute(Operation *op,
                                         NamedAttribute attribute) {
  if (attribute.getName() != DSPDialect::kNameAttrName)
    return op->emitError() << "unknown dsp argument or result attribute '"
                           << attribute.getName() << "'";
  if (!isa<StringAttr>(attribute.getValue()))
    return op->emitError() << "'" << DSPDialect::kNameAttrName
                           << "' must be a string";
  return success();
}

LogicalResult DSPDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                   unsigned,
                                                   NamedAttribute attribute) {
  return verifyNameAttribute(op, attribute);
}

LogicalResult
DSPDialect::verifyRegionResultAttribute(Operation *op, unsigned, unsigned,
                                        NamedAttribute attribute) {
  return verifyNameAttribute(op, attribute);
}

namespace mlir::dsp {

int64_t getGroupRanks(Operation *op) {
  auto module =
      isa<ModuleOp>(op) ? cast<ModuleOp>(op) : op->getParentOfType<ModuleOp>();
  if (!module)
    return 0;
  auto group = module->getAttrOfType<GroupAttr>(DSPDialect::kGroupAttrName);
  return group ? group.getRanks() : 0;
}

ShardingAttr getResultSharding(Operation *op, unsigned index) {
  auto shardings = op->getAttrOfType<ArrayAttr>(DSPDialect::kShardingAttrName);
  if (!shardings || index >= shardings.size())
    return nullptr;
  return dyn_cast<ShardingAttr>(shardings[index]);
}

ShardingAttr getSharding(Value value) {
  auto result = dyn_cast<OpResult>(value);
  if (!result)
    return nullptr;
  return getResultSharding(result.getOwner(), result.getResultNumber());
}

void setShardings(Operation *op, ArrayRef<ShardingAttr> shardings) {
  SmallVector<Attribute> entries(shardings.begin(), shardings.end());
  op->setAttr(DSPDialect::kShardingAttrName,
              ArrayAttr::get(op->getContext(), entries));
}

} // namespace mlir::dsp
