//===- AttentionRing.cpp - Attention whose key blocks travel --------------===//

#include "dsp/Dialect/DSP/IR/AttentionRing.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"

using namespace mlir;
using namespace mlir::dsp;

std::optional<AttentionRing> mlir::dsp::getAttentionRing(Operation *op) {
  auto attention = dyn_cast<AttentionOp>(op);
  GroupAttr group = attention ? getGroup(op) : nullptr;
  ShardingAttr keys = group ? attention.getAttendedSharding(1) : nullptr;
  if (!keys)
    return std::nullopt;
  auto inBlocks = [](ShardingAttr part) {
    return part && part.isSplit() && part.getDim() == 2;
  };
  if (inBlocks(keys))
    return AttentionRing{std::nullopt, group.getRanks()};
  if (!keys.isCompound())
    return std::nullopt;
  SmallVector<int64_t> mesh = group.getMeshShape();
  for (auto [axis, part] : llvm::enumerate(keys.getAxes()))
    if (inBlocks(part))
      return AttentionRing{static_cast<int64_t>(axis), mesh[axis]};
  return std::nullopt;
}
