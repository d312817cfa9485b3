//===- ProgramEmitter.cpp - dsp IR to .dspx programs ----------------------===//

#include "dsp/Target/ProgramEmitter.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Dialect/DSP/IR/ProgramDType.h"
#include "dsp/Format/FileIO.h"
#include "dsp/Format/WeightSources.h"
#include "dsp/Target/BufferPlan.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"

#include <cmath>

using namespace mlir;
using namespace mlir::dsp;
namespace program = ::dsp::program;
namespace format = ::dsp::format;

namespace {
constexpr uint64_t kArenaAlignment = 64;
constexpr uint64_t kMaxExpandedConstantBytes = uint64_t(1) << 31;

uint64_t bytesOf(RankedTensorType type) {
  Type element = type.getElementType();
  uint64_t width =
      element.isInteger(1) ? 1 : element.getIntOrFloatBitWidth() / 8;
  return static_cast<uint64_t>(type.getNumElements()) * width;
}

void setInts(program::Instruction *instruction, StringRef name,
             ArrayRef<int64_t> values) {
  program::Attribute *attribute = instruction->add_attributes();
  attribute->set_name(name.str());
  for (int64_t v : values)
    attribute->mutable_ints()->add_values(v);
}

/// How the ranks hold `value` (a block in per-rank IR): the six ints of the
/// program's layout and the global shape.
struct GlobalView {
  ::dsp::format::Layout layout;
  SmallVector<int64_t> shape;
};

/// An attention that reads its keys in blocks of the key sequence: the ranks
/// pass the key and value blocks around (ring_attention).
bool isRingAttention(Operation *op) {
  auto attention = dyn_cast<AttentionOp>(op);
  ShardingAttr keys = attention ? getSharding(attention.getKey()) : nullptr;
  return keys && keys.isSplit() && keys.getDim() == 2;
}

FailureOr<GlobalView> globalViewOf(Value value, int64_t ranks) {
  auto type = cast<RankedTensorType>(value.getType());
  ShardingAttr sharding = getShardingOrReplicated(value);
  FailureOr<RankedTensorType> global = sharding.getGlobalType(
      type, ranks, [&] { return emitError(value.getLoc()); });
  if (failed(global))
    return failure();
  return GlobalView{sharding.getLayout(global->getShape()),
                    SmallVector<int64_t>(global->getShape())};
}

/// The program under construction: one tensor per value, one instruction
/// per op, in order.
class Serializer {
public:
  Serializer(ModuleOp module, func::FuncOp function, int64_t ranks,
             const ProgramOptions &options)
      : module(module), function(function), ranks(ranks), options(options) {}
  FailureOr<SerializedProgram> run();

private:
  LogicalResult addTensor(Value value, program::TensorKind kind,
                          StringRef name);
  LogicalResult addWeight(ConstantOp op);
  /// A weight whose bytes stay in the model's external data file.
  LogicalResult addExternalWeight(ConstantOp op, ExternalDataAttr external);
  /// A weight made at load by the seeded generator, at its init scale.
  LogicalResult addGeneratedWeight(WeightOp op);
  LogicalResult addInstruction(Operation *op);
  /// The layouts and global shape of a collective or zero_pad.
  LogicalResult addLayoutAttributes(Operation *op,
                                    program::Instruction *instruction);
  LogicalResult addInherentAttributes(Operation *op,
                                      program::Instruction *instruction);
  /// The attributes of a `kernel` instruction: its code object, function
  /// and launch extents.
  LogicalResult addLaunchAttributes(LaunchOp launch,
                                    program::Instruction *instruction);
  LogicalResult addCodeObjects();
  LogicalResult addOutputs(func::ReturnOp ret);
  LogicalResult planBuffers();

  ModuleOp module;
  func::FuncOp function;
  int64_t ranks;
  const ProgramOptions &options;
  SerializedProgram result;
  program::Program &program = result.program;
  DenseMap<Value, uint32_t> ids;
  /// Instruction index that defines each tensor (-1: before the first)
  /// and the last that reads it.
  std::vector<int64_t> firstUse, lastUse;
  /// The index of each gpu.binary's code object.
  llvm::StringMap<int64_t> codeObjects;
};
} // namespace

LogicalResult Serializer::addTensor(Value value, program::TensorKind kind,
                                    StringRef name) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  std::optional<program::DType> dtype =
      type ? programDType(type.getElementType()) : std::nullopt;
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
  // Each rank of a multi-rank program reads its own block of an input.
  if (ranks > 1 && kind == program::INPUT) {
    FailureOr<GlobalView> global = globalViewOf(value, ranks);
    if (failed(global))
      return failure();
    for (int64_t v : global->layout.encode())
      tensor->add_layout(v);
    for (int64_t d : global->shape)
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

/// The uniform range a generated weight is drawn from: PyTorch's default
/// init for the layer that reads it, +-1/sqrt(fan_in), and values around 1
/// for a layer norm's scale. `fan_in` is read off the first reader that
/// tells it; a weight no reader explains uses its last dim.
static std::pair<double, double> generatedWeightRange(WeightOp op) {
  ArrayRef<int64_t> shape = op.getType().getShape();
  int64_t fanIn = shape.empty() ? 1 : shape.back();
  for (OpOperand &use : op->getUses()) {
    Operation *user = use.getOwner();
    if (auto norm = dyn_cast<LayerNormOp>(user);
        norm && use.get() == norm.getScale())
      return {1.0, 0.1};
    // The factors are operands 0 and 1 of both; a linear op's bias and
    // residual tell nothing, as the adds they come from did not.
    if (isa<MatMulOp, LinearOp>(user) && use.getOperandNumber() <= 1 &&
        shape.size() >= 2) {
      fanIn =
          use.getOperandNumber() == 1 ? shape[shape.size() - 2] : shape.back();
      break;
    }
    if (auto conv = dyn_cast<ConvOp>(user);
        conv && use.get() == conv.getWeight()) {
      fanIn = 1;
      for (int64_t d : shape.drop_front())
        fanIn *= d;
      break;
    }
  }
  return {0.0,
          1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(fanIn, 1)))};
}

LogicalResult Serializer::addGeneratedWeight(WeightOp op) {
  if (failed(addTensor(op.getOutput(), program::WEIGHT, op.getName())))
    return failure();
  program::Tensor &tensor = *program.mutable_tensors(ids[op.getOutput()]);
  auto [center, bound] = generatedWeightRange(op);
  program::GeneratedWeight *generated = tensor.mutable_generated();
  // A seed per weight, so that no two weights hold the same values.
  generated->set_seed(
      format::weightChecksum(&options.weightSeed, sizeof(options.weightSeed)) ^
      format::weightChecksum(op.getName().data(), op.getName().size()));
  generated->set_center(center);
  generated->set_bound(bound);
  return success();
}

LogicalResult Serializer::addExternalWeight(ConstantOp op,
                                            ExternalDataAttr external) {
  StringRef file = external.getPath().getValue();
  std::string realFolder, reason;
  if (!format::realPath(options.folder, realFolder, reason))
    return op.emitError("cannot resolve the program's folder '")
           << options.folder << "': " << reason;
  // The file's path relative to the program's folder, confirmed by
  // resolving it back.
  std::string prefix = realFolder == "/" ? "/" : realFolder + "/";
  if (!file.starts_with(prefix))
    return op.emitError("weight '")
           << locationName(op.getLoc()) << "' lies in '" << file
           << "', outside the program's folder '" << options.folder
           << "'; write the program into the folder of the model's weights "
              "or one above it, or copy the weights into the program";
  std::string relative = file.drop_front(prefix.size()).str();
  std::string resolved;
  if (format::resolveInsideFolder(options.folder, relative, resolved, reason) !=
          format::Confinement::Inside ||
      resolved != file)
    return op.emitError("weight '")
           << locationName(op.getLoc()) << "': the external data file '" << file
           << "' no longer resolves to itself from the program's "
           << "folder" << (reason.empty() ? "" : ": " + reason);
  uint64_t checksum = 0;
  std::string error = format::externalWeightChecksum(
      resolved, external.getOffset(), external.getBytes(), checksum);
  if (!error.empty())
    return op.emitError("weight '")
           << locationName(op.getLoc()) << "': " << error;
  program::Tensor &tensor = *program.mutable_tensors(ids[op.getOutput()]);
  program::ExternalWeight *source = tensor.mutable_external();
  source->set_path(relative);
  source->set_offset(external.getOffset());
  source->set_bytes(external.getBytes());
  source->set_dtype(*programDType(external.getElementType()));
  source->set_checksum(checksum);
  return success();
}

LogicalResult Serializer::addWeight(ConstantOp op) {
  if (failed(addTensor(op.getOutput(), program::WEIGHT,
                       locationName(op.getLoc()))))
    return failure();
  if (ExternalDataAttr external = op.getExternalAttr();
      external && options.weights == WeightStorage::Reference)
    return addExternalWeight(op, external);
  uint32_t id = ids[op.getOutput()];
  auto type = cast<RankedTensorType>(op.getType());
  uint64_t bytes = bytesOf(type);
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(op.getValue())) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != bytes)
      return op.emitError("weight blob '")
             << resource.getRawHandle().getKey()
             << "' is missing or does not match its type";
    result.weights.push_back({id, blob->getData().data(), bytes});
    return success();
  }
  auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
  if (!dense)
    return op.emitError("cannot emit constant of kind ") << op.getValue();
  ArrayRef<char> raw = dense.getRawData();
  if (!dense.isSplat() && !type.getElementType().isInteger(1) &&
      raw.size() == bytes) {
    result.weights.push_back({id, raw.data(), bytes});
    return success();
  }
  // Splats and booleans (bit-packed in MLIR) are expanded to one element
  // (one byte for booleans) each, in memory: bounded, so that a constant of
  // a huge shape is an error rather than a failed allocation.
  if (bytes > kMaxExpandedConstantBytes)
    return op.emitError("a splat or boolean constant of ")
           << bytes << " bytes is too large to expand into a program (at most "
           << kMaxExpandedConstantBytes << ")";
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
  result.expanded.push_back(std::move(data));
  result.weights.push_back({id, result.expanded.back().data(), bytes});
  return success();
}

LogicalResult
Serializer::addInherentAttributes(Operation *op,
                                  program::Instruction *instruction) {
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

LogicalResult
Serializer::addLayoutAttributes(Operation *op,
                                program::Instruction *instruction) {
  FailureOr<GlobalView> from = globalViewOf(op->getOperand(0), ranks);
  FailureOr<GlobalView> to = globalViewOf(op->getResult(0), ranks);
  if (failed(from) || failed(to))
    return failure();
  setInts(instruction, "from", from->layout.encode());
  if (!isa<ZeroPadOp>(op))
    setInts(instruction, "to", to->layout.encode());
  setInts(instruction, "global_shape", to->shape);
  if (auto reduce = dyn_cast<AllReduceOp>(op)) {
    program::Attribute *attribute = instruction->add_attributes();
    attribute->set_name("reduction");
    attribute->set_str(stringifyReduceKind(reduce.getReduction()).str());
  }
  return success();
}

LogicalResult Serializer::addCodeObjects() {
  for (auto binary : module.getOps<gpu::BinaryOp>()) {
    program::CodeObject *code = program.add_code_objects();
    code->set_name(binary.getSymName().str());
    for (Attribute entry : binary.getObjects()) {
      auto object = cast<gpu::ObjectAttr>(entry);
      auto target = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget());
      if (!target)
        return binary.emitError("a program holds NVVM code objects only");
      code->set_target(target.getChip().str());
      StringRef bytes = object.getObject().getValue();
      switch (object.getFormat()) {
      case gpu::CompilationTarget::Assembly:
        code->set_ptx(bytes.str());
        break;
      case gpu::CompilationTarget::Binary:
      case gpu::CompilationTarget::Fatbin:
        code->set_binary(bytes.str());
        break;
      case gpu::CompilationTarget::Offload:
        return binary.emitError("an offload object (LLVM bitcode) cannot be "
                                "run; serialize to fatbin, bin or isa");
      }
    }
    codeObjects[binary.getSymName()] = program.code_objects_size() - 1;
  }
  return success();
}

LogicalResult
Serializer::addLaunchAttributes(LaunchOp launch,
                                program::Instruction *instruction) {
  auto found = codeObjects.find(launch.getKernel().getRootReference());
  if (found == codeObjects.end())
    return launch.emitError("kernel ")
           << launch.getKernel()
           << " is not in a gpu.binary; run --dsp-gpu-to-binary first";
  setInts(instruction, "code_object", {found->second});
  program::Attribute *function = instruction->add_attributes();
  function->set_name("function");
  function->set_str(launch.getKernel().getLeafReference().str());
  setInts(instruction, "grid", launch.getGrid());
  setInts(instruction, "block", launch.getBlock());
  return success();
}

LogicalResult Serializer::addInstruction(Operation *op) {
  int64_t index = program.instructions_size();
  program::Instruction *instruction = program.add_instructions();
  instruction->set_op(isa<LaunchOp>(op)   ? "kernel"
                      : isa<LinearOp>(op) ? "matmul"
                      : isRingAttention(op)
                          ? "ring_attention"
                          : op->getName().stripDialect().str());
  instruction->set_location(locationName(op->getLoc()));
  for (Value operand : op->getOperands()) {
    uint32_t id = ids.at(operand);
    instruction->add_inputs(id);
    lastUse[id] = index;
  }
  for (Value value : op->getResults()) {
    if (failed(addTensor(value, program::INTERMEDIATE, "")))
      return failure();
    uint32_t id = ids[value];
    instruction->add_outputs(id);
    firstUse[id] = lastUse[id] = index;
  }
  // Collectives carry the layouts they convert between instead of their
  // dims, which the layouts imply.
  if (isa<AllToAllOp, AllGatherOp, AllReduceOp, ReduceScatterOp, LocalSliceOp,
          ZeroPadOp>(op))
    return addLayoutAttributes(op, instruction);
  if (auto launch = dyn_cast<LaunchOp>(op))
    return addLaunchAttributes(launch, instruction);
  // The last key blocks may end in padding, which the ring leaves out.
  if (isRingAttention(op)) {
    FailureOr<GlobalView> keys = globalViewOf(op->getOperand(1), ranks);
    if (failed(keys))
      return failure();
    setInts(instruction, "key_count", {keys->shape[2]});
  }
  return addInherentAttributes(op, instruction);
}

LogicalResult Serializer::addOutputs(func::ReturnOp ret) {
  for (auto [index, value] : llvm::enumerate(ret.getOperands())) {
    uint32_t id = ids.at(value);
    program::Tensor *tensor = program.mutable_tensors(id);
    if (tensor->kind() != program::INTERMEDIATE)
      return ret.emitError("result ")
             << index << " needs a value of its own (an op's result that no "
             << "other result is); run --dsp-materialize-results first";
    tensor->set_kind(program::OUTPUT);
    if (ranks > 1) {
      FailureOr<GlobalView> global = globalViewOf(value, ranks);
      if (failed(global))
        return failure();
      if (global->layout.kind != ::dsp::format::Layout::Replicated)
        return ret.emitError("result ")
               << index << " must be replicated; run --dsp-insert-reshards "
               << "(or --dsp-pipeline) first";
      for (int64_t v : global->layout.encode())
        tensor->add_layout(v);
      for (int64_t d : global->shape)
        tensor->add_global_shape(d);
    }
    auto name = function.getResultAttrOfType<StringAttr>(
        index, DSPDialect::kNameAttrName);
    tensor->set_name(name ? name.str() : "output" + std::to_string(index));
    program.add_outputs(id);
  }
  return success();
}

LogicalResult Serializer::planBuffers() {
  std::vector<int> arenaTensors;
  std::vector<BufferLifetime> lifetimes;
  int64_t end = program.instructions_size();
  for (int i = 0; i < program.tensors_size(); ++i) {
    const program::Tensor &tensor = program.tensors(i);
    if (tensor.kind() == program::WEIGHT)
      continue;
    arenaTensors.push_back(i);
    lifetimes.push_back({tensor.bytes(), firstUse[i],
                         tensor.kind() == program::OUTPUT ? end : lastUse[i]});
  }
  std::optional<BufferPlan> plan =
      mlir::dsp::planBuffers(lifetimes, kArenaAlignment);
  if (!plan)
    return function.emitError("the program's tensors need more than 2^56 "
                              "bytes of memory");
  for (auto [tensor, offset] : llvm::zip(arenaTensors, plan->offsets))
    program.mutable_tensors(tensor)->set_offset(offset);
  program.set_arena_bytes(plan->arenaBytes);
  return success();
}

FailureOr<SerializedProgram> Serializer::run() {
  program.set_format_version(format::kMajorVersion);
  program.set_ranks(ranks);
  program.set_producer("dsp-opt");
  if (ranks > 1 && !isPerRank(function))
    return function.emitError("a multi-rank program is serialized from "
                              "per-rank IR; run --dsp-localize first");
  if (failed(addCodeObjects()))
    return failure();

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
    if (auto weight = dyn_cast<WeightOp>(op)) {
      if (failed(addGeneratedWeight(weight)))
        return failure();
      continue;
    }
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      if (failed(addOutputs(ret)))
        return failure();
      continue;
    }
    if (!isa<DSPDialect>(op.getDialect()))
      return op.emitError("cannot emit an op outside the dsp dialect");
    if (ranks == 1 && isa<AllToAllOp, AllGatherOp, AllReduceOp, ReduceScatterOp,
                          LocalSliceOp, ZeroPadOp>(op))
      return op.emitError("collectives need a multi-rank program");
    if (failed(addInstruction(&op)))
      return failure();
  }
  if (failed(planBuffers()))
    return failure();
  return std::move(result);
}

FailureOr<SerializedProgram>
mlir::dsp::serializeProgram(ModuleOp module, const ProgramOptions &options) {
  int64_t ranks = std::max<int64_t>(getGroupRanks(module), 1);
  auto function = module.lookupSymbol<func::FuncOp>("main");
  if (!function || function.getBody().getBlocks().size() != 1)
    return module.emitError("a program needs a func.func @main with one block");
  return Serializer(module, function, ranks, options).run();
}

LogicalResult mlir::dsp::emitProgram(ModuleOp module, StringRef path,
                                     ProgramOptions options) {
  options.folder = format::parentFolder(path.str());
  FailureOr<SerializedProgram> serialized = serializeProgram(module, options);
  if (failed(serialized))
    return failure();
  std::string error = format::writeProgramFile(path.str(), serialized->program,
                                               serialized->weights);
  if (!error.empty())
    return module.emitError("cannot write the program: ") << error;
  return success();
}

LogicalResult mlir::dsp::emitProgramText(ModuleOp module, raw_ostream &os,
                                         const ProgramOptions &options) {
  FailureOr<SerializedProgram> serialized = serializeProgram(module, options);
  if (failed(serialized))
    return failure();
  os << format::programText(serialized->program);
  return success();
}
