//===- ShardingRule.cpp - Factor mappings of dsp ops ----------------------===//

#include "dsp/Dialect/DSP/IR/ShardingRule.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"

#include <numeric>

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

bool ShardingRule::hasRole(FactorRole role) const {
  return llvm::any_of(roles,
                      [&](const auto &entry) { return entry.second == role; });
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

ShardingRule ShardingRule::getElementwise(Operation *op,
                                          DataMovement movement) {
  ShardingRule rule;
  rule.setMovement(movement);
  ArrayRef<int64_t> resultShape = shapeOf(op->getResult(0));
  SmallVector<int64_t> factors;
  for (int64_t size : resultShape)
    factors.push_back(rule.addFactor(size, FactorKind::Parallel));
  for (Value operand : op->getOperands())
    rule.addOperand(broadcastOperand(shapeOf(operand), resultShape, factors));
  rule.addResult(broadcastOperand(resultShape, resultShape, factors));
  return rule;
}

FailureOr<int64_t> ShardingRule::wholeDimOf(const TensorFactors &dims,
                                            int64_t factor) {
  int64_t found = -1;
  for (auto [d, dimFactors] : llvm::enumerate(dims)) {
    if (!llvm::is_contained(dimFactors, factor))
      continue;
    if (dimFactors.size() != 1 || found != -1)
      return failure();
    found = d;
  }
  return found;
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
  rule.setRole(k, FactorRole::Contracting);
  rule.setRole(n, FactorRole::Columns);
  // The columns of an activation are tokens (the keys of a score matmul);
  // those of a weight are output features.
  rule.addModelFactor(k);
  if (getRhs().getDefiningOp<ConstantOp>() ||
      getRhs().getDefiningOp<WeightOp>())
    rule.addModelFactor(n);
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
  // The scores sum over the head dim, but the softmax after them is not
  // linear: a shard of the head dim gives no partial of the result.
  int64_t headDim = rule.addFactor(q[3], FactorKind::Mixing);
  int64_t valueDim = rule.addFactor(v[3], FactorKind::Parallel);
  rule.addOperand({{batch}, {heads}, {querySeq}, {headDim}});
  rule.addOperand({{batch}, {heads}, {keySeq}, {headDim}});
  rule.addOperand({{batch}, {heads}, {keySeq}, {valueDim}});
  if (getMask())
    rule.addOperand(broadcastOperand(shapeOf(getMask()),
                                     {q[0], q[1], q[2], k[2]},
                                     {batch, heads, querySeq, keySeq}));
  rule.addResult({{batch}, {heads}, {querySeq}, {valueDim}});
  rule.setRole(heads, FactorRole::Heads);
  for (int64_t f : {heads, headDim, valueDim})
    rule.addModelFactor(f);
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
  for (const ShardingRule::DimFactors &dim : weightDims)
    rule.addModelFactor(dim.front());
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
  rule.setMovement(DataMovement::View);
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

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

namespace {
/// The factors that line up in both shapes of one reshape group, found by
/// walking the input and output sizes in step from one end.
struct CommonFactorWalk {
  /// The input dim, output dim and size of each common factor, in the order
  /// the walk met them.
  SmallVector<std::tuple<size_t, size_t, int64_t>> common;
  /// Where the walk stopped and what it left of the dims it stopped in.
  size_t inputDim = 0, outputDim = 0;
  int64_t inputLeft = 1, outputLeft = 1;
  bool complete = false;
};
} // namespace

/// Walks `input` and `output` (sizes > 1, equal products) from their first
/// dims. The gcd of what is left of the two current dims has the same stride
/// on both sides, so it is a common factor; the walk stops where the sizes
/// left are coprime, as no factor lines up there.
static CommonFactorWalk walkCommonFactors(ArrayRef<int64_t> input,
                                          ArrayRef<int64_t> output) {
  CommonFactorWalk walk;
  size_t i = 0, j = 0;
  int64_t inputLeft = input.front(), outputLeft = output.front();
  for (;;) {
    int64_t size = std::gcd(inputLeft, outputLeft);
    if (size == 1)
      break;
    walk.common.push_back({i, j, size});
    inputLeft /= size;
    outputLeft /= size;
    if (inputLeft == 1 && ++i < input.size())
      inputLeft = input[i];
    if (outputLeft == 1 && ++j < output.size())
      outputLeft = output[j];
  }
  walk.inputDim = i;
  walk.outputDim = j;
  walk.inputLeft = inputLeft;
  walk.outputLeft = outputLeft;
  walk.complete = i == input.size();
  return walk;
}

/// Maps one minimal group of reshape dims (sizes > 1 whose products are
/// equal, with no shorter prefixes of equal products) onto factors: common
/// parallel factors walked from the major end, then from the minor end, and
/// for what lies between, where no factor lines up, a mixing factor per dim
/// and side.
static void addReshapeGroup(ShardingRule &rule, ArrayRef<int64_t> inputSizes,
                            ArrayRef<int64_t> outputSizes,
                            ArrayRef<ShardingRule::DimFactors *> inputDims,
                            ArrayRef<ShardingRule::DimFactors *> outputDims) {
  CommonFactorWalk major = walkCommonFactors(inputSizes, outputSizes);
  for (auto [i, j, size] : major.common) {
    int64_t f = rule.addFactor(size, FactorKind::Parallel);
    inputDims[i]->push_back(f);
    outputDims[j]->push_back(f);
  }
  if (major.complete)
    return;

  // What the major walk left, minor dim first.
  auto rest = [](ArrayRef<int64_t> sizes, size_t dim, int64_t left) {
    SmallVector<int64_t> reversed(llvm::reverse(sizes.drop_front(dim + 1)));
    reversed.push_back(left);
    return reversed;
  };
  SmallVector<int64_t> inputRest =
      rest(inputSizes, major.inputDim, major.inputLeft);
  SmallVector<int64_t> outputRest =
      rest(outputSizes, major.outputDim, major.outputLeft);
  CommonFactorWalk minor = walkCommonFactors(inputRest, outputRest);

  // The middle: the dims neither walk covered, and the parts the minor walk
  // left of the dims it stopped in.
  auto addMiddle = [&](ArrayRef<int64_t> restSizes, size_t stopDim,
                       int64_t stopLeft, size_t firstDim,
                       ArrayRef<ShardingRule::DimFactors *> dims) {
    for (size_t r = restSizes.size(); r-- > stopDim;) {
      int64_t size = r == stopDim ? stopLeft : restSizes[r];
      if (size > 1)
        dims[firstDim + restSizes.size() - 1 - r]->push_back(
            rule.addFactor(size, FactorKind::Mixing));
    }
  };
  addMiddle(inputRest, minor.inputDim, minor.inputLeft, major.inputDim,
            inputDims);
  addMiddle(outputRest, minor.outputDim, minor.outputLeft, major.outputDim,
            outputDims);

  // The minor walk met its factors minor first.
  for (auto [i, j, size] : llvm::reverse(minor.common)) {
    int64_t f = rule.addFactor(size, FactorKind::Parallel);
    inputDims[major.inputDim + inputRest.size() - 1 - i]->push_back(f);
    outputDims[major.outputDim + outputRest.size() - 1 - j]->push_back(f);
  }
}

/// A row-major reshape keeps the linear order of the elements, so the
/// factors of the common refinement of the two shapes are parallel: each
/// rank's block of such a factor holds the same elements on both sides.
static ShardingRule reshapeRule(ArrayRef<int64_t> input,
                                ArrayRef<int64_t> output) {
  ShardingRule rule;
  ShardingRule::TensorFactors inputDims(input.size()),
      outputDims(output.size());
  size_t i = 0, j = 0;
  while (i < input.size() || j < output.size()) {
    // Size-1 dims between groups: paired ones share a factor of size 1,
    // unpaired ones (inserted or dropped) map onto no factor.
    bool inputUnit = i < input.size() && input[i] == 1;
    bool outputUnit = j < output.size() && output[j] == 1;
    if (inputUnit && outputUnit) {
      int64_t f = rule.addFactor(1, FactorKind::Parallel);
      inputDims[i++].push_back(f);
      outputDims[j++].push_back(f);
      continue;
    }
    if (inputUnit || outputUnit) {
      i += inputUnit;
      j += outputUnit;
      continue;
    }

    // The shortest runs of dims from here whose products are equal; size-1
    // dims inside them map onto no factor.
    SmallVector<int64_t> groupInput, groupOutput;
    SmallVector<ShardingRule::DimFactors *> groupInputDims, groupOutputDims;
    int64_t inputProduct = 1, outputProduct = 1;
    do {
      if (inputProduct <= outputProduct) {
        if (input[i] > 1) {
          groupInput.push_back(input[i]);
          groupInputDims.push_back(&inputDims[i]);
        }
        inputProduct *= input[i++];
      } else {
        if (output[j] > 1) {
          groupOutput.push_back(output[j]);
          groupOutputDims.push_back(&outputDims[j]);
        }
        outputProduct *= output[j++];
      }
    } while (inputProduct != outputProduct);
    addReshapeGroup(rule, groupInput, groupOutput, groupInputDims,
                    groupOutputDims);
  }
  rule.addOperand(inputDims);
  rule.addResult(outputDims);
  return rule;
}

ShardingRule ReshapeOp::getShardingRule() {
  ArrayRef<int64_t> input = shapeOf(getInput()), output = shapeOf(getOutput());
  // An empty tensor has no elements to line up.
  ShardingRule rule =
      llvm::is_contained(input, 0) || llvm::is_contained(output, 0)
          ? ShardingRule::getReplicatedOnly(*this)
          : reshapeRule(input, output);
  rule.setMovement(DataMovement::View);
  return rule;
}

/// Every dim but the axis is shared by the inputs and the result; along the
/// axis each input lands at its own offset of the result.
ShardingRule ConcatOp::getShardingRule() {
  ShardingRule rule;
  int64_t axis = getAxis();
  ShardingRule::TensorFactors shared;
  for (auto [d, size] : llvm::enumerate(shapeOf(getInputs().front())))
    shared.push_back({rule.addFactor(size, static_cast<int64_t>(d) == axis
                                               ? FactorKind::Mixing
                                               : FactorKind::Parallel)});
  auto withOwnAxis = [&](Value value) {
    ShardingRule::TensorFactors dims = shared;
    dims[axis] = {rule.addFactor(shapeOf(value)[axis], FactorKind::Mixing)};
    return dims;
  };
  rule.addOperand(shared);
  for (Value input : getInputs().drop_front())
    rule.addOperand(withOwnAxis(input));
  rule.addResult(withOwnAxis(getOutput()));
  rule.setMovement(DataMovement::Combine);
  return rule;
}

/// A dim taken whole is copied as is; any other dim moves elements to new
/// positions.
ShardingRule SliceOp::getShardingRule() {
  ShardingRule rule;
  ArrayRef<int64_t> input = shapeOf(getInput()), output = shapeOf(getOutput());
  ShardingRule::TensorFactors inputDims, outputDims;
  SmallVector<bool> whole;
  for (auto [d, size] : llvm::enumerate(input)) {
    whole.push_back(getStarts()[d] == 0 && getLimits()[d] == size &&
                    getStrides()[d] == 1);
    inputDims.push_back({rule.addFactor(
        size, whole.back() ? FactorKind::Parallel : FactorKind::Mixing)});
  }
  for (auto [d, size] : llvm::enumerate(output))
    outputDims.push_back(whole[d] ? inputDims[d]
                                  : ShardingRule::DimFactors{rule.addFactor(
                                        size, FactorKind::Mixing)});
  rule.addOperand(inputDims);
  rule.addResult(outputDims);
  rule.setMovement(DataMovement::Split);
  return rule;
}

/// The result is `data[:axis] + indices + data[axis+1:]`: every result dim
/// comes from one data or indices dim unchanged; the data axis is looked up
/// at arbitrary positions.
ShardingRule GatherOp::getShardingRule() {
  ShardingRule rule;
  int64_t axis = getAxis();
  ShardingRule::TensorFactors dataDims, indicesDims;
  for (auto [d, size] : llvm::enumerate(shapeOf(getData())))
    dataDims.push_back({rule.addFactor(size, static_cast<int64_t>(d) == axis
                                                 ? FactorKind::Mixing
                                                 : FactorKind::Parallel)});
  for (int64_t size : shapeOf(getIndices()))
    indicesDims.push_back({rule.addFactor(size, FactorKind::Parallel)});
  ShardingRule::TensorFactors outputDims(dataDims.begin(),
                                         dataDims.begin() + axis);
  llvm::append_range(outputDims, indicesDims);
  outputDims.append(dataDims.begin() + axis + 1, dataDims.end());
  rule.addOperand(dataDims);
  rule.addOperand(indicesDims);
  rule.addResult(outputDims);
  rule.setMovement(DataMovement::Combine);
  return rule;
}

/// Broadcasting as elementwise ops do: a dim of size 1 expanded to n maps
/// onto no factor.
ShardingRule ExpandOp::getShardingRule() {
  return ShardingRule::getElementwise(*this);
}

/// The dims of an op's input and result where each result dim either copies
/// its input dim as is (a parallel factor both share) or, where `copied`
/// says not, places its elements anew (a mixing factor on each side).
static std::pair<ShardingRule::TensorFactors, ShardingRule::TensorFactors>
copiedOrMixedDims(ShardingRule &rule, ArrayRef<int64_t> input,
                  ArrayRef<int64_t> output,
                  function_ref<bool(int64_t)> copied) {
  ShardingRule::TensorFactors inputDims, outputDims;
  for (auto [d, size] : llvm::enumerate(input)) {
    bool same = copied(d);
    int64_t f =
        rule.addFactor(size, same ? FactorKind::Parallel : FactorKind::Mixing);
    inputDims.push_back({f});
    outputDims.push_back(
        {same ? f : rule.addFactor(output[d], FactorKind::Mixing)});
  }
  return {inputDims, outputDims};
}

/// A dim repeated once is copied as is; a repeated dim holds the input at
/// several offsets.
ShardingRule TileOp::getShardingRule() {
  ShardingRule rule;
  auto [inputDims, outputDims] =
      copiedOrMixedDims(rule, shapeOf(getInput()), shapeOf(getOutput()),
                        [&](int64_t d) { return getRepeats()[d] == 1; });
  rule.addOperand(inputDims);
  rule.addResult(outputDims);
  return rule;
}

/// An unpadded dim is copied as is. A padded dim is mixing: reflect and
/// edge pads read elements from elsewhere in the dim, and even constant
/// pads shift every element, so a block of the dim is no block of the
/// result.
ShardingRule PadOp::getShardingRule() {
  ShardingRule rule;
  ArrayRef<int64_t> input = shapeOf(getInput()), pads = getPads();
  auto [inputDims, outputDims] =
      copiedOrMixedDims(rule, input, shapeOf(getOutput()), [&](int64_t d) {
        return pads[d] == 0 && pads[input.size() + d] == 0;
      });
  rule.addOperand(inputDims);
  if (getValue())
    rule.addOperand({});
  rule.addResult(outputDims);
  return rule;
}

/// Along the axis each update lands at the position its index names:
/// mixing. Another dim is parallel where the indices cover all of the
/// data's; where they cover a prefix, it is mixing too.
ShardingRule ScatterElementsOp::getShardingRule() {
  ShardingRule rule;
  ArrayRef<int64_t> data = shapeOf(getData()), indices = shapeOf(getIndices());
  int64_t axis = getAxis();
  auto [dataDims, indexDims] =
      copiedOrMixedDims(rule, data, indices, [&](int64_t d) {
        return d != axis && indices[d] == data[d];
      });
  rule.addOperand(dataDims);
  rule.addOperand(indexDims);
  rule.addOperand(indexDims);
  rule.addResult(dataDims);
  rule.setMovement(DataMovement::Combine);
  return rule;
}
