//===- ProgramEmitter.cpp - dsp IR to .dspx programs ----------------------===//

#include "dsp/Target/ProgramEmitter.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Format/ProgramFile.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include <cstring>
#include <set>

using namespace mlir;
using namespace mlir::dsp;
namespace program = ::dsp::program;
namespace format = ::dsp::format;

namespace {
constexpr uint64_t kArenaAlignment = 64;

std::optional<program::DType> dtypeOf(Type type) {
  if (type.isF32())
    return program::F32;
  if (type.isF16())
    return program::F16;
  if (type.isBF16())
    return program::BF16;
  if (type.isInteger(64))
    return program::I64;
  if (type.isInteger(32))
    return program::I32;
  if (type.isInteger(1))
    return program::BOOL;
  return std::nullopt;
}

uint64_t bytesOf(RankedTensorType type) {
  Type element = type.getElementType();
  uint64_t width =
      element.isInteger(1) ? 1 : element.getIntOrFloatBitWidth() / 8;
  return static_cast<uint64_t>(type.getNumElements()) * width;
}

/// A value's sharding; constants are whole on every rank.
ShardingAttr shardingOf(Value value) {
  if (ShardingAttr sharding = getSharding(value))
    return sharding;
  return ShardingAttr::getReplicated(value.getContext());
}

/// The six ints of the runtime's Layout (include/dsp/Format/Layout.h):
/// [kind, dim, outer, size, inner, pad].
SmallVector<int64_t> layoutInts(ShardingAttr sharding, RankedTensorType type) {
  if (sharding.isReplicated())
    return {0, 0, 1, 1, 1, 0};
  if (sharding.isPartial())
    return {2, 0, 1, 1, 1, 0};
  return {1,
          sharding.getDim(),
          sharding.getOuter(),
          sharding.getSplitExtent(type),
          sharding.getInner(),
          sharding.getPad()};
}

/// The block of `shape` one of `ranks` ranks holds under `sharding`.
SmallVector<int64_t> blockShape(ArrayRef<int64_t> shape, ShardingAttr sharding,
                                RankedTensorType type, int64_t ranks) {
  SmallVector<int64_t> local(shape);
  if (sharding.isSplit()) {
    int64_t block = (sharding.getSplitExtent(type) + sharding.getPad()) / ranks;
    local[sharding.getDim()] =
        sharding.getOuter() * block * sharding.getInner();
  }
  return local;
}

void setInts(program::Instruction *instruction, StringRef name,
             ArrayRef<int64_t> values) {
  program::Attribute *attribute = instruction->add_attributes();
  attribute->set_name(name.str());
  for (int64_t v : values)
    attribute->mutable_ints()->add_values(v);
}

/// The program under construction.
class Emitter {
public:
  Emitter(func::FuncOp function, int64_t ranks)
      : function(function), ranks(ranks) {}
  LogicalResult run(StringRef path);

private:
  LogicalResult addTensor(Value value, program::TensorKind kind,
                          StringRef name);
  /// A tensor the lowering adds (no IR value): an intermediate of `shape`.
  uint32_t addIntermediate(program::DType dtype, ArrayRef<int64_t> shape);
  /// A weight that holds `data`, e.g. a scale the lowering needs.
  uint32_t addScalarWeight(float value);
  LogicalResult addWeight(ConstantOp op);
  LogicalResult addInstruction(Operation *op);
  /// Appends an instruction and records the lifetimes of its tensors.
  program::Instruction *appendInstruction(StringRef op,
                                          ArrayRef<uint32_t> inputs,
                                          ArrayRef<uint32_t> outputs,
                                          Location loc);
  uint32_t addCopy(uint32_t source, Location loc);
  void planBuffers();

  // Multi-rank lowering: per-rank shapes, collectives, pads.
  SmallVector<int64_t> localShape(Value value);
  LogicalResult addCollective(Operation *op);
  /// The operand ids of `op`, with pads zeroed where `op` sums over them.
  SmallVector<uint32_t> operandIds(Operation *op);

  func::FuncOp function;
  int64_t ranks;
  program::Program program;
  DenseMap<Value, uint32_t> ids;
  std::vector<format::WeightData> weights;
  /// Bytes of constants that have no contiguous storage of their own
  /// (splats, booleans), kept alive until the file is written.
  std::vector<std::vector<char>> expanded;
  /// Instruction index that defines each tensor (-1: before the first)
  /// and the last that reads it.
  std::vector<int64_t> firstUse, lastUse;
};
} // namespace

LogicalResult Emitter::addTensor(Value value, program::TensorKind kind,
                                 StringRef name) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  std::optional<program::DType> dtype =
      type ? dtypeOf(type.getElementType()) : std::nullopt;
  if (!dtype)
    return emitError(value.getLoc())
           << "a program cannot hold a value of type " << value.getType();
  ids[value] = program.tensors_size();
  program::Tensor *tensor = program.add_tensors();
  tensor->set_name(name.str());
  tensor->set_dtype(*dtype);
  SmallVector<int64_t> shape = localShape(value);
  for (int64_t d : shape)
    tensor->add_shape(d);
  tensor->set_kind(kind);
  tensor->set_bytes(
      bytesOf(RankedTensorType::get(shape, type.getElementType())));
  // Each rank of a multi-rank program reads its own block of an input.
  if (ranks > 1 && kind == program::INPUT) {
    for (int64_t v : layoutInts(shardingOf(value), type))
      tensor->add_layout(v);
    for (int64_t d : type.getShape())
      tensor->add_global_shape(d);
  }
  firstUse.push_back(-1);
  lastUse.push_back(-1);
  return success();
}

static std::string locationName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return (file.getFilename().getValue() + ":" + Twine(file.getLine())).str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    if (!fused.getLocations().empty())
      return locationName(fused.getLocations().front());
  return "";
}

LogicalResult Emitter::addWeight(ConstantOp op) {
  if (failed(addTensor(op.getOutput(), program::WEIGHT,
                       locationName(op.getLoc()))))
    return failure();
  uint32_t id = ids[op.getOutput()];
  auto type = cast<RankedTensorType>(op.getType());
  uint64_t bytes = bytesOf(type);
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(op.getValue())) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != bytes)
      return op.emitError("weight blob '")
             << resource.getRawHandle().getKey()
             << "' is missing or does not match its type";
    weights.push_back({id, blob->getData().data(), bytes});
    return success();
  }
  auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
  if (!dense)
    return op.emitError("cannot emit constant of kind ") << op.getValue();
  ArrayRef<char> raw = dense.getRawData();
  if (!dense.isSplat() && !type.getElementType().isInteger(1) &&
      raw.size() == bytes) {
    weights.push_back({id, raw.data(), bytes});
    return success();
  }
  // Splats and booleans (bit-packed in MLIR) are expanded to one element
  // (one byte for booleans) each.
  std::vector<char> data;
  data.reserve(bytes);
  if (type.getElementType().isInteger(1)) {
    for (bool b : dense.getValues<bool>())
      data.push_back(b ? 1 : 0);
  } else {
    size_t width = bytes / std::max<int64_t>(type.getNumElements(), 1);
    for (int64_t i = 0; i < type.getNumElements(); ++i)
      data.insert(data.end(), raw.begin(), raw.begin() + width);
  }
  expanded.push_back(std::move(data));
  weights.push_back({id, expanded.back().data(), bytes});
  return success();
}

program::Instruction *Emitter::appendInstruction(StringRef op,
                                                 ArrayRef<uint32_t> inputs,
                                                 ArrayRef<uint32_t> outputs,
                                                 Location loc) {
  int64_t index = program.instructions_size();
  program::Instruction *instruction = program.add_instructions();
  instruction->set_op(op.str());
  instruction->set_location(locationName(loc));
  for (uint32_t id : inputs) {
    instruction->add_inputs(id);
    lastUse[id] = index;
  }
  for (uint32_t id : outputs) {
    instruction->add_outputs(id);
    if (firstUse[id] < 0)
      firstUse[id] = index;
    lastUse[id] = std::max(lastUse[id], index);
  }
  return instruction;
}

SmallVector<int64_t> Emitter::localShape(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  if (ranks == 1)
    return SmallVector<int64_t>(type.getShape());
  return blockShape(type.getShape(), shardingOf(value), type, ranks);
}

uint32_t Emitter::addIntermediate(program::DType dtype,
                                  ArrayRef<int64_t> shape) {
  uint32_t id = program.tensors_size();
  program::Tensor *tensor = program.add_tensors();
  tensor->set_dtype(dtype);
  tensor->set_kind(program::INTERMEDIATE);
  uint64_t elements = 1;
  for (int64_t d : shape) {
    tensor->add_shape(d);
    elements *= d;
  }
  tensor->set_bytes(elements * (dtype == program::F32    ? 4
                                : dtype == program::I64  ? 8
                                : dtype == program::I32  ? 4
                                : dtype == program::BOOL ? 1
                                                         : 2));
  firstUse.push_back(-1);
  lastUse.push_back(-1);
  return id;
}

uint32_t Emitter::addScalarWeight(float value) {
  uint32_t id = program.tensors_size();
  program::Tensor *tensor = program.add_tensors();
  tensor->set_dtype(program::F32);
  tensor->set_kind(program::WEIGHT);
  tensor->set_bytes(sizeof(float));
  firstUse.push_back(-1);
  lastUse.push_back(-1);
  std::vector<char> data(sizeof(float));
  std::memcpy(data.data(), &value, sizeof(float));
  expanded.push_back(std::move(data));
  weights.push_back({id, expanded.back().data(), sizeof(float)});
  return id;
}

SmallVector<uint32_t> Emitter::operandIds(Operation *op) {
  SmallVector<uint32_t> inputs;
  for (Value operand : op->getOperands())
    inputs.push_back(ids.at(operand));
  ShardingAttr result =
      op->getNumResults() == 1 ? getResultSharding(op, 0) : ShardingAttr();
  if (ranks == 1 || !result || !result.isPartial())
    return inputs;
  // The op sums over a split factor: its pads must add nothing, whatever the
  // ops before them left there.
  for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
    ShardingAttr sharding = shardingOf(operand);
    if (!sharding.isSplit() || sharding.getPad() == 0)
      continue;
    auto type = cast<RankedTensorType>(operand.getType());
    const program::Tensor &tensor = program.tensors(inputs[index]);
    uint32_t zeroed = addIntermediate(
        tensor.dtype(),
        SmallVector<int64_t>(tensor.shape().begin(), tensor.shape().end()));
    program::Instruction *instruction =
        appendInstruction("zero_pad", {inputs[index]}, {zeroed}, op->getLoc());
    setInts(instruction, "from", layoutInts(sharding, type));
    setInts(instruction, "global_shape", type.getShape());
    inputs[index] = zeroed;
  }
  return inputs;
}

LogicalResult Emitter::addInstruction(Operation *op) {
  SmallVector<uint32_t> inputs = operandIds(op);
  SmallVector<uint32_t> outputs;
  for (Value result : op->getResults()) {
    if (failed(addTensor(result, program::INTERMEDIATE, "")))
      return failure();
    outputs.push_back(ids[result]);
  }
  // A mean over a split factor is a partial sum on each rank: each rank
  // sums its block and scales by the true count, pads excluded.
  auto mean = dyn_cast<ReduceMeanOp>(op);
  ShardingAttr resultSharding =
      op->getNumResults() == 1 ? getResultSharding(op, 0) : ShardingAttr();
  bool partialMean =
      ranks > 1 && mean && resultSharding && resultSharding.isPartial();
  uint32_t sum = 0;
  if (partialMean) {
    const program::Tensor &out = program.tensors(outputs[0]);
    sum = addIntermediate(out.dtype(), SmallVector<int64_t>(out.shape().begin(),
                                                            out.shape().end()));
  }
  program::Instruction *instruction = appendInstruction(
      partialMean ? "reduce_sum" : op->getName().stripDialect(), inputs,
      partialMean ? ArrayRef<uint32_t>{sum} : ArrayRef<uint32_t>(outputs),
      op->getLoc());
  // Inherent attributes, with the defaults of those left unset.
  NamedAttrList attributes(op->getAttrDictionary());
  if (auto registered = op->getRegisteredInfo())
    registered->populateDefaultAttrs(attributes);
  for (NamedAttribute named : attributes) {
    if (named.getName().strref().starts_with("dsp."))
      continue;
    program::Attribute *attribute = instruction->add_attributes();
    attribute->set_name(named.getName().str());
    Attribute value = named.getValue();
    // BoolAttr is an IntegerAttr of i1, so it goes first.
    if (auto boolean = dyn_cast<BoolAttr>(value)) {
      attribute->mutable_ints()->add_values(boolean.getValue() ? 1 : 0);
    } else if (auto integer = dyn_cast<IntegerAttr>(value)) {
      attribute->mutable_ints()->add_values(integer.getValue().getSExtValue());
    } else if (auto floating = dyn_cast<FloatAttr>(value)) {
      attribute->mutable_floats()->add_values(floating.getValueAsDouble());
    } else if (auto array = dyn_cast<DenseI64ArrayAttr>(value)) {
      for (int64_t v : array.asArrayRef())
        attribute->mutable_ints()->add_values(v);
    } else if (auto text = dyn_cast<StringAttr>(value)) {
      attribute->set_str(text.str());
    } else {
      return op->emitError("cannot emit attribute '")
             << named.getName() << "' = " << value;
    }
  }
  // A slice keeps a split dim whole: its limit is the block's extent.
  if (auto slice = dyn_cast<SliceOp>(op); slice && ranks > 1) {
    SmallVector<int64_t> limits(slice.getLimits());
    SmallVector<int64_t> local = localShape(slice.getInput());
    ShardingAttr sharding = shardingOf(slice.getInput());
    if (sharding.isSplit())
      limits[sharding.getDim()] = local[sharding.getDim()];
    for (program::Attribute &attribute : *instruction->mutable_attributes())
      if (attribute.name() == "limits") {
        attribute.mutable_ints()->clear_values();
        for (int64_t v : limits)
          attribute.mutable_ints()->add_values(v);
      }
  }
  if (partialMean) {
    int64_t count = 1;
    for (int64_t axis : mean.getAxes())
      count *= mean.getInput().getType().getDimSize(axis);
    appendInstruction("mul", {sum, addScalarWeight(1.0f / count)}, outputs,
                      op->getLoc());
  }
  return success();
}

LogicalResult Emitter::addCollective(Operation *op) {
  Value input = op->getOperand(0), output = op->getResult(0);
  auto type = cast<RankedTensorType>(output.getType());
  ShardingAttr from = shardingOf(input), to = shardingOf(output);
  if (failed(addTensor(output, program::INTERMEDIATE, "")))
    return failure();
  uint32_t in = ids.at(input), out = ids[output];
  program::DType dtype = program.tensors(in).dtype();
  StringRef name = op->getName().stripDialect();

  if (isa<AllToAllOp>(op) && from.getDim() == to.getDim()) {
    // A switch between two factors of one dim: view the dim as its factors,
    // so that the runtime's all_to_all moves between two dims.
    std::optional<FactorSwitchView> view =
        viewFactorSwitch(type, from, to, ranks);
    if (!view)
      return op->emitError("cannot lower the switch from ")
             << from << " to " << to << " for " << ranks << " ranks";
    auto expandedType =
        RankedTensorType::get(view->shape, type.getElementType());
    uint32_t viewIn = addIntermediate(
        dtype, blockShape(view->shape, view->from, expandedType, ranks));
    uint32_t viewOut = addIntermediate(
        dtype, blockShape(view->shape, view->to, expandedType, ranks));
    appendInstruction("reshape", {in}, {viewIn}, op->getLoc());
    program::Instruction *instruction =
        appendInstruction("all_to_all", {viewIn}, {viewOut}, op->getLoc());
    setInts(instruction, "from", layoutInts(view->from, expandedType));
    setInts(instruction, "to", layoutInts(view->to, expandedType));
    setInts(instruction, "global_shape", view->shape);
    appendInstruction("reshape", {viewOut}, {out}, op->getLoc());
    return success();
  }

  program::Instruction *instruction =
      appendInstruction(name, {in}, {out}, op->getLoc());
  setInts(instruction, "from", layoutInts(from, type));
  setInts(instruction, "to", layoutInts(to, type));
  setInts(instruction, "global_shape", type.getShape());
  if (auto reduce = dyn_cast<AllReduceOp>(op)) {
    program::Attribute *attribute = instruction->add_attributes();
    attribute->set_name("reduction");
    attribute->set_str(stringifyReduceKind(reduce.getReduction()).str());
  }
  return success();
}

/// Copies tensor `source` into a new intermediate tensor with a `reshape` to
/// the same shape, and returns the new tensor's id.
uint32_t Emitter::addCopy(uint32_t source, Location loc) {
  int64_t index = program.instructions_size();
  uint32_t id = program.tensors_size();
  program::Tensor *copy = program.add_tensors();
  *copy = program.tensors(source);
  copy->set_name("");
  copy->set_kind(program::INTERMEDIATE);
  copy->clear_offset();
  firstUse.push_back(index);
  lastUse.push_back(index);
  program::Instruction *instruction = program.add_instructions();
  instruction->set_op("reshape");
  instruction->set_location(locationName(loc));
  instruction->add_inputs(source);
  instruction->add_outputs(id);
  lastUse[source] = index;
  return id;
}

void Emitter::planBuffers() {
  // First fit over lifetimes: each arena tensor, in order of definition,
  // takes the lowest aligned offset that overlaps no tensor whose lifetime
  // overlaps its own.
  struct Placed {
    uint64_t offset, end;
    int64_t first, last;
  };
  std::vector<Placed> placed;
  uint64_t arena = 0;
  int64_t end = program.instructions_size();
  for (int i = 0; i < program.tensors_size(); ++i) {
    program::Tensor *tensor = program.mutable_tensors(i);
    if (tensor->kind() == program::WEIGHT)
      continue;
    int64_t first = firstUse[i];
    int64_t last = tensor->kind() == program::OUTPUT ? end : lastUse[i];
    uint64_t size = (tensor->bytes() + kArenaAlignment - 1) / kArenaAlignment *
                    kArenaAlignment;
    std::vector<std::pair<uint64_t, uint64_t>> busy;
    for (const Placed &p : placed)
      if (p.first <= last && first <= p.last)
        busy.push_back({p.offset, p.end});
    llvm::sort(busy);
    uint64_t offset = 0;
    for (auto [start, stop] : busy) {
      if (offset + size <= start)
        break;
      offset = std::max(offset, stop);
    }
    tensor->set_offset(offset);
    placed.push_back({offset, offset + size, first, last});
    arena = std::max(arena, offset + size);
  }
  program.set_arena_bytes(arena);
}

LogicalResult Emitter::run(StringRef path) {
  program.set_format_version(format::kMajorVersion);
  program.set_ranks(ranks);
  program.set_producer("dsp-opt");

  for (BlockArgument argument : function.getArguments()) {
    auto name = function.getArgAttrOfType<StringAttr>(
        argument.getArgNumber(), DSPDialect::kNameAttrName);
    std::string fallback = "input" + std::to_string(argument.getArgNumber());
    if (failed(addTensor(argument, program::INPUT,
                         name ? name.getValue() : StringRef(fallback))))
      return failure();
    program.add_inputs(ids[argument]);
  }

  for (Operation &op : function.getBody().front()) {
    if (auto constant = dyn_cast<ConstantOp>(op)) {
      if (failed(addWeight(constant)))
        return failure();
      continue;
    }
    if (auto weight = dyn_cast<WeightOp>(op))
      return weight.emitError("weight '")
             << weight.getName()
             << "' has no bytes (imported with --no-weights); a program "
                "needs the model's weights";
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [index, value] : llvm::enumerate(ret.getOperands())) {
        uint32_t id = ids.at(value);
        // A result that is an input, a weight or an earlier result (an
        // identity or constant model) gets a buffer of its own, so that each
        // output has its own tensor and name.
        if (program.tensors(id).kind() != program::INTERMEDIATE)
          id = addCopy(id, value.getLoc());
        program::Tensor *tensor = program.mutable_tensors(id);
        tensor->set_kind(program::OUTPUT);
        // A copy carries its source's layout; an output is replicated.
        tensor->clear_layout();
        tensor->clear_global_shape();
        if (ranks > 1) {
          auto type = cast<RankedTensorType>(value.getType());
          for (int64_t v : layoutInts(
                   ShardingAttr::getReplicated(value.getContext()), type))
            tensor->add_layout(v);
          for (int64_t d : type.getShape())
            tensor->add_global_shape(d);
        }
        auto name = function.getResultAttrOfType<StringAttr>(
            index, DSPDialect::kNameAttrName);
        tensor->set_name(name ? name.str() : "output" + std::to_string(index));
        program.add_outputs(id);
      }
      continue;
    }
    if (!isa<DSPDialect>(op.getDialect()))
      return op.emitError("cannot emit an op outside the dsp dialect");
    if (isa<AllToAllOp, AllGatherOp, AllReduceOp, ReduceScatterOp,
            LocalSliceOp>(op)) {
      if (ranks == 1)
        return op.emitError("collectives need a multi-rank program");
      if (failed(addCollective(&op)))
        return failure();
      continue;
    }
    if (ranks > 1 && !getResultSharding(&op, 0))
      return op.emitError("a multi-rank program needs every op sharded; run "
                          "--dsp-propagate-sharding and --dsp-insert-reshards "
                          "(or --dsp-pipeline) first");
    if (failed(addInstruction(&op)))
      return failure();
  }
  planBuffers();
  std::string error = format::writeProgramFile(path.str(), program, weights);
  if (!error.empty())
    return function.emitError("cannot write the program: ") << error;
  return success();
}

LogicalResult mlir::dsp::emitProgram(ModuleOp module, StringRef path) {
  int64_t ranks = std::max<int64_t>(getGroupRanks(module), 1);
  auto function = module.lookupSymbol<func::FuncOp>("main");
  if (!function || function.getBody().getBlocks().size() != 1)
    return module.emitError("a program needs a func.func @main with one block");
  Emitter emitter(function, ranks);
  return emitter.run(path);
}
