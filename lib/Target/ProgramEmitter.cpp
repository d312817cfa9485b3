//===- ProgramEmitter.cpp - dsp IR to .dspx programs ----------------------===//

#include "dsp/Target/ProgramEmitter.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Runtime/ProgramFile.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"

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

/// The program under construction.
class Emitter {
public:
  explicit Emitter(func::FuncOp function) : function(function) {}
  LogicalResult run(StringRef path);

private:
  LogicalResult addTensor(Value value, program::TensorKind kind,
                          StringRef name);
  LogicalResult addWeight(ConstantOp op);
  LogicalResult addInstruction(Operation *op);
  uint32_t addCopy(uint32_t source, Location loc);
  void planBuffers();

  func::FuncOp function;
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
  for (int64_t d : type.getShape())
    tensor->add_shape(d);
  tensor->set_kind(kind);
  tensor->set_bytes(bytesOf(type));
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

LogicalResult Emitter::addInstruction(Operation *op) {
  int64_t index = program.instructions_size();
  program::Instruction *instruction = program.add_instructions();
  instruction->set_op(op->getName().stripDialect().str());
  instruction->set_location(locationName(op->getLoc()));
  for (Value operand : op->getOperands()) {
    uint32_t id = ids.at(operand);
    instruction->add_inputs(id);
    lastUse[id] = index;
  }
  for (Value result : op->getResults()) {
    if (failed(addTensor(result, program::INTERMEDIATE, "")))
      return failure();
    uint32_t id = ids[result];
    instruction->add_outputs(id);
    firstUse[id] = index;
    lastUse[id] = std::max(lastUse[id], index);
  }
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
  program.set_ranks(1);
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
            LocalSliceOp>(op))
      return op.emitError("collectives need a multi-rank program");
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
  int64_t ranks = getGroupRanks(module);
  if (ranks > 1)
    return module.emitError("the module targets ")
           << ranks
           << " ranks; emitting programs for more than one rank needs SPMD "
              "lowering to per-rank shapes, which this compiler does not have "
              "yet (plans for N ranks can be inspected with --dsp-summary and "
              "--dsp-report)";
  auto function = module.lookupSymbol<func::FuncOp>("main");
  if (!function || function.getBody().getBlocks().size() != 1)
    return module.emitError("a program needs a func.func @main with one block");
  Emitter emitter(function);
  return emitter.run(path);
}
