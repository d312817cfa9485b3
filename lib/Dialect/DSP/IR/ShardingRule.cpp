//===- ShardingRule.cpp - Factor mappings of dsp ops ----------------------===//

#include "dsp/Dialect/DSP/IR/ShardingRule.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"

using namespace mlir;
using namespace mlir::dsp;

StringRef mlir::dsp::stringifyFactorKind(FactorKind kind) {
  switch (kind) {
  case FactorKind::Parallel:
    return "parallel";
  case FactorKind::Reduction:
    return "reduction";
  case FactorKind::Mixing:
    return "mixing";
  }
  llvm_unreachable("unknown factor kind");
}

int64_t ShardingRule::addFactor(int64_t size, FactorKind kind) {
  factors.push_back({size, kind});
  return factors.size() - 1;
}

static ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

ShardingRule ShardingRule::getReplicatedOnly(Operation *op) {
  ShardingRule rule;
  auto mixingDims = [&](Value value) {
    TensorFactors dims;
    for (int64_t size : shapeOf(value))
      dims.push_back({rule.addFactor(size, FactorKind::Mixing)});
    return dims;
  };
  for (Value operand : op->getOperands())
    rule.addOperand(mixingDims(operand));
  for (Value result : op->getResults())
    rule.addResult(mixingDims(result));
  return rule;
}

/// Maps `shape` onto `factors` (one per dim of a broadcast shape), aligned at
/// the trailing dim; a dim of size 1 that is broadcast gets no factor.
static ShardingRule::TensorFactors
broadcastOperand(ArrayRef<int64_t> shape, ArrayRef<int64_t> resultShape,
                 ArrayRef<int64_t> factors) {
  ShardingRule::TensorFactors dims;
  size_t offset = resultShape.size() - shape.size();
  for (auto [d, size] : llvm::enumerate(shape)) {
    if (size == resultShape[d + offset])
      dims.push_back({factors[d + offset]});
    else
      dims.push_back({});
  }
  return dims;
}

ShardingRule ShardingRule::getElementwise(Operation *op) {
  ShardingRule rule;
  ArrayRef<int64_t> resultShape = shapeOf(op->getResult(0));
  SmallVector<int64_t> factors;
  for (int64_t size : resultShape)
    factors.push_back(rule.addFactor(size, FactorKind::Parallel));
  for (Value operand : op->getOperands())
    rule.addOperand(broadcastOperand(shapeOf(operand), resultShape, factors));
  rule.addResult(broadcastOperand(resultShape, resultShape, factors));
  return rule;
}

LogicalResult ShardingRule::verify(Operation *op) const {
  auto check = [&](ArrayRef<TensorFactors> tensors, ValueRange values,
                   StringRef what) -> LogicalResult {
    if (tensors.size() != values.size())
      return op->emitError() << "sharding rule covers " << tensors.size() << " "
                             << what << "s, the op has " << values.size();
    for (auto [index, dims, value] : llvm::enumerate(tensors, values)) {
      ArrayRef<int64_t> shape = shapeOf(value);
      if (dims.size() != shape.size())
        return op->emitError()
               << "sharding rule gives " << what << " " << index << " "
               << dims.size() << " dims, it has " << shape.size();
      for (auto [d, dimFactors] : llvm::enumerate(dims)) {
        int64_t product = 1;
        for (int64_t f : dimFactors) {
          if (f < 0 || f >= static_cast<int64_t>(factors.size()))
            return op->emitError()
                   << "sharding rule names unknown factor " << f;
          product *= factors[f].size;
        }
        if (product != shape[d] && !(dimFactors.empty() && shape[d] == 1))
          return op->emitError()
                 << "sharding rule factors of " << what << " " << index
                 << " dim " << d << " multiply to " << product
                 << ", the dim has size " << shape[d];
      }
    }
    return success();
  };
  return failure(failed(check(operands, op->getOperands(), "operand")) ||
                 failed(check(results, op->getResults(), "result")));
}

static std::string factorName(int64_t index) {
  std::string name(1, static_cast<char>('a' + index % 26));
  if (index >= 26)
    name += std::to_string(index / 26);
  return name;
}

void ShardingRule::print(raw_ostream &os) const {
  auto printTensors = [&](ArrayRef<TensorFactors> tensors) {
    os << "(";
    llvm::interleaveComma(tensors, os, [&](const TensorFactors &dims) {
      os << "[";
      llvm::interleaveComma(dims, os, [&](const DimFactors &dimFactors) {
        if (dimFactors.empty()) {
          os << "1";
          return;
        }
        llvm::interleave(
            dimFactors, os, [&](int64_t f) { os << factorName(f); }, "*");
      });
      os << "]";
    });
    os << ")";
  };
  printTensors(operands);
  os << " -> ";
  printTensors(results);
  os << " {";
  llvm::interleaveComma(llvm::enumerate(factors), os, [&](auto entry) {
    os << factorName(entry.index()) << " = " << entry.value().size << " "
       << stringifyFactorKind(entry.value().kind);
  });
  os << "}";
}

//===----------------------------------------------------------------------===//
// Rules of the ops
//===----------------------------------------------------------------------===//

/// A rule whose operands and results are all mapped dim by dim onto fresh
/// parallel factors of the result: constants and weights, which any rank
/// can slice locally.
static ShardingRule parallelResultRule(Operation *op) {
  ShardingRule rule;
  ShardingRule::TensorFactors dims;
  for (int64_t size : shapeOf(op->getResult(0)))
    dims.push_back({rule.addFactor(size, FactorKind::Parallel)});
  rule.addResult(dims);
  return rule;
}

ShardingRule ConstantOp::getShardingRule() { return parallelResultRule(*this); }

ShardingRule WeightOp::getShardingRule() { return parallelResultRule(*this); }

ShardingRule MatMulOp::getShardingRule() {
  ShardingRule rule;
  ArrayRef<int64_t> result = shapeOf(getOutput());
  ArrayRef<int64_t> lhs = shapeOf(getLhs()), rhs = shapeOf(getRhs());
  size_t batchRank = result.size() - 2;
  SmallVector<int64_t> batch;
  for (int64_t size : result.take_front(batchRank))
    batch.push_back(rule.addFactor(size, FactorKind::Parallel));
  int64_t m = rule.addFactor(lhs[lhs.size() - 2], FactorKind::Parallel);
  int64_t k = rule.addFactor(lhs.back(), FactorKind::Reduction);
  int64_t n = rule.addFactor(rhs.back(), FactorKind::Parallel);
  auto operand = [&](ArrayRef<int64_t> shape, int64_t row, int64_t column) {
    ShardingRule::TensorFactors dims = broadcastOperand(
        shape.drop_back(2), result.take_front(batchRank), batch);
    dims.push_back({row});
    dims.push_back({column});
    return dims;
  };
  rule.addOperand(operand(lhs, m, k));
  rule.addOperand(operand(rhs, k, n));
  rule.addResult(operand(result, m, n));
  return rule;
}

ShardingRule LayerNormOp::getShardingRule() {
  ShardingRule rule;
  ShardingRule::TensorFactors input, normalized;
  for (auto [d, size] : llvm::enumerate(shapeOf(getInput()))) {
    bool mixed = static_cast<int64_t>(d) >= static_cast<int64_t>(getAxis());
    int64_t f =
        rule.addFactor(size, mixed ? FactorKind::Mixing : FactorKind::Parallel);
    input.push_back({f});
    if (mixed)
      normalized.push_back({f});
  }
  rule.addOperand(input);
  rule.addOperand(normalized);
  if (getBias())
    rule.addOperand(normalized);
  rule.addResult(input);
  return rule;
}

ShardingRule SoftmaxOp::getShardingRule() {
  ShardingRule rule;
  ShardingRule::TensorFactors dims;
  for (auto [d, size] : llvm::enumerate(shapeOf(getInput())))
    dims.push_back({rule.addFactor(
        size, d == getAxis() ? FactorKind::Mixing : FactorKind::Parallel)});
  rule.addOperand(dims);
  rule.addResult(dims);
  return rule;
}

ShardingRule AttentionOp::getShardingRule() {
  ShardingRule rule;
  ArrayRef<int64_t> q = shapeOf(getQuery()), k = shapeOf(getKey()),
                    v = shapeOf(getValue());
  int64_t batch = rule.addFactor(q[0], FactorKind::Parallel);
  int64_t heads = rule.addFactor(q[1], FactorKind::Parallel);
  int64_t querySeq = rule.addFactor(q[2], FactorKind::Parallel);
  int64_t keySeq = rule.addFactor(k[2], FactorKind::Mixing);
  int64_t headDim = rule.addFactor(q[3], FactorKind::Reduction);
  int64_t valueDim = rule.addFactor(v[3], FactorKind::Parallel);
  rule.addOperand({{batch}, {heads}, {querySeq}, {headDim}});
  rule.addOperand({{batch}, {heads}, {keySeq}, {headDim}});
  rule.addOperand({{batch}, {heads}, {keySeq}, {valueDim}});
  if (getMask())
    rule.addOperand(broadcastOperand(shapeOf(getMask()),
                                     {q[0], q[1], q[2], k[2]},
                                     {batch, heads, querySeq, keySeq}));
  rule.addResult({{batch}, {heads}, {querySeq}, {valueDim}});
  return rule;
}

ShardingRule ConvOp::getShardingRule() {
  ShardingRule rule;
  ArrayRef<int64_t> input = shapeOf(getInput()), weight = shapeOf(getWeight()),
                    output = shapeOf(getOutput());
  int64_t batch = rule.addFactor(input[0], FactorKind::Parallel);
  int64_t outChannels = rule.addFactor(weight[0], FactorKind::Parallel);
  // Grouped convolutions tie input channels to output channels.
  int64_t inChannels = rule.addFactor(
      input[1], getGroup() == 1 ? FactorKind::Reduction : FactorKind::Mixing);
  ShardingRule::TensorFactors inputDims = {{batch}, {inChannels}};
  ShardingRule::TensorFactors weightDims = {
      {outChannels},
      {getGroup() == 1 ? inChannels
                       : rule.addFactor(weight[1], FactorKind::Mixing)}};
  ShardingRule::TensorFactors outputDims = {{batch}, {outChannels}};
  for (size_t d = 0; d + 2 < input.size(); ++d) {
    int64_t kernel = weight[d + 2];
    // A patch embedding (stride == kernel, no pad, no dilation) views each
    // input dim as [patches, kernel]: patches are parallel, the kernel
    // offset is a reduction.
    bool patches = getStrides()[d] == kernel && getDilations()[d] == 1 &&
                   getPads()[d] == 0 && getPads()[d + input.size() - 2] == 0 &&
                   output[d + 2] * kernel == input[d + 2];
    if (patches) {
      int64_t patch = rule.addFactor(output[d + 2], FactorKind::Parallel);
      int64_t offset = rule.addFactor(kernel, FactorKind::Reduction);
      inputDims.push_back({patch, offset});
      weightDims.push_back({offset});
      outputDims.push_back({patch});
      continue;
    }
    inputDims.push_back({rule.addFactor(input[d + 2], FactorKind::Mixing)});
    weightDims.push_back({rule.addFactor(kernel, FactorKind::Mixing)});
    outputDims.push_back({rule.addFactor(output[d + 2], FactorKind::Mixing)});
  }
  rule.addOperand(inputDims);
  rule.addOperand(weightDims);
  if (getBias())
    rule.addOperand({{outChannels}});
  rule.addResult(outputDims);
  return rule;
}

ShardingRule TransposeOp::getShardingRule() {
  ShardingRule rule;
  ShardingRule::TensorFactors input, output;
  for (int64_t size : shapeOf(getInput()))
    input.push_back({rule.addFactor(size, FactorKind::Parallel)});
  for (int64_t p : getPerm())
    output.push_back(input[p]);
  rule.addOperand(input);
  rule.addResult(output);
  return rule;
}

/// Reductions: reduced dims are reduction factors for sums and means (a
/// shard gives a partial sum) and mixing for max.
static ShardingRule reductionRule(Operation *op, ArrayRef<int64_t> axes,
                                  bool keepdims, FactorKind reducedKind) {
  ShardingRule rule;
  ShardingRule::TensorFactors input, output;
  for (auto [d, size] : llvm::enumerate(shapeOf(op->getOperand(0)))) {
    bool reduced = llvm::is_contained(axes, static_cast<int64_t>(d));
    int64_t f =
        rule.addFactor(size, reduced ? reducedKind : FactorKind::Parallel);
    input.push_back({f});
    if (!reduced)
      output.push_back({f});
    else if (keepdims)
      output.push_back({});
  }
  rule.addOperand(input);
  rule.addResult(output);
  return rule;
}

ShardingRule ReduceSumOp::getShardingRule() {
  return reductionRule(*this, getAxes(), getKeepdims(), FactorKind::Reduction);
}

ShardingRule ReduceMeanOp::getShardingRule() {
  return reductionRule(*this, getAxes(), getKeepdims(), FactorKind::Reduction);
}

ShardingRule ReduceMaxOp::getShardingRule() {
  return reductionRule(*this, getAxes(), getKeepdims(), FactorKind::Mixing);
}
