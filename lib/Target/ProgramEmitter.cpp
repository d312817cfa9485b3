//===- ProgramEmitter.cpp - dsp IR to .dspx programs ----------------------===//

#include "dsp/Target/ProgramEmitter.h"
#include "dsp/Dialect/DSP/IR/AttentionRing.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Dialect/DSP/IR/ProgramDType.h"
#include "dsp/Format/Checked.h"
#include "dsp/Format/CollectiveStaging.h"
#include "dsp/Format/FileIO.h"
#include "dsp/Format/HostWorkspace.h"
#include "dsp/Format/WeightSources.h"
#include "dsp/Target/BufferPlan.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

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

/// How the ranks hold `value` (a block in per-rank IR): its sharding and
/// the global shape.
struct GlobalView {
  ShardingAttr sharding;
  std::vector<int64_t> shape;
  /// The program's layout ints: six for a layout over all ranks, six per
  /// mesh axis for a compound one.
  std::vector<int64_t> encode(ArrayRef<int64_t> mesh) const {
    return sharding.isCompound() ? sharding.getMeshLayout(shape, mesh).encode()
                                 : sharding.getLayout(shape).encode();
  }
};

FailureOr<GlobalView> globalViewOf(RankedTensorType type, ShardingAttr sharding,
                                   Location loc, ArrayRef<int64_t> mesh) {
  FailureOr<RankedTensorType> global =
      sharding.getGlobalType(type, mesh, [&] { return emitError(loc); });
  if (failed(global))
    return failure();
  return GlobalView{sharding, std::vector<int64_t>(global->getShape().begin(),
                                                   global->getShape().end())};
}

FailureOr<GlobalView> globalViewOf(Value value, ArrayRef<int64_t> mesh) {
  return globalViewOf(cast<RankedTensorType>(value.getType()),
                      getShardingOrReplicated(value), value.getLoc(), mesh);
}

/// The program under construction: one tensor per value, one instruction
/// per op, in order.
class Serializer {
public:
  Serializer(ModuleOp module, func::FuncOp function, ArrayRef<int64_t> mesh,
             const ProgramOptions &options)
      : module(module), function(function), mesh(mesh),
        ranks(std::accumulate(mesh.begin(), mesh.end(), int64_t(1),
                              std::multiplies<int64_t>())),
        options(options) {}
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
  /// The body of a `fused` instruction: its block's arguments, splat
  /// constants and ops as values and steps.
  LogicalResult addFusedBody(FusedOp fused, program::Instruction *instruction);
  LogicalResult addOutputs(func::ReturnOp ret);
  LogicalResult planBuffers();

  ModuleOp module;
  func::FuncOp function;
  /// The sizes of the group's mesh axes (one: its ranks).
  SmallVector<int64_t> mesh;
  int64_t ranks;
  const ProgramOptions &options;
  SerializedProgram result;
  program::Program &program = result.program;
  DenseMap<Value, uint32_t> ids;
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
    FailureOr<GlobalView> global = globalViewOf(value, mesh);
    if (failed(global))
      return failure();
    for (int64_t v : global->encode(mesh))
      tensor->add_layout(v);
    for (int64_t d : global->shape)
      tensor->add_global_shape(d);
  }
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
  // A fused op's reader is in its body, where its block argument is read.
  SmallVector<OpOperand *> uses;
  for (OpOperand &use : op->getUses()) {
    auto fused = dyn_cast<FusedOp>(use.getOwner());
    if (!fused) {
      uses.push_back(&use);
      continue;
    }
    for (OpOperand &inner :
         fused.getBody().getArgument(use.getOperandNumber()).getUses())
      uses.push_back(&inner);
  }
  for (OpOperand *reader : uses) {
    OpOperand &use = *reader;
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

/// The one element of a splat constant, in the program's encoding.
static void setSplat(program::Tensor *tensor, DenseElementsAttr dense) {
  Type element = dense.getElementType();
  std::string bytes;
  if (element.isInteger(1))
    bytes.push_back(dense.getSplatValue<bool>() ? 1 : 0);
  else
    bytes.assign(dense.getRawData().data(),
                 bytesOf(RankedTensorType::get({}, element)));
  tensor->mutable_splat()->set_element(std::move(bytes));
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
  // A splat is one element in the program, filled at load.
  if (dense.isSplat()) {
    setSplat(program.mutable_tensors(id), dense);
    return success();
  }
  if (!type.getElementType().isInteger(1)) {
    ArrayRef<char> raw = dense.getRawData();
    if (raw.size() != bytes)
      return op.emitError("constant data has ")
             << raw.size() << " bytes, expected " << bytes;
    result.weights.push_back({id, raw.data(), bytes});
    return success();
  }
  // Booleans, bit-packed in MLIR, are expanded to one byte each, in memory:
  // bounded, so that a constant of a huge shape is an error rather than a
  // failed allocation.
  if (bytes > kMaxExpandedConstantBytes)
    return op.emitError("a boolean constant of ")
           << bytes << " bytes is too large to expand into a program (at most "
           << kMaxExpandedConstantBytes << ")";
  std::vector<char> data;
  data.reserve(bytes);
  for (bool b : dense.getValues<bool>())
    data.push_back(b ? 1 : 0);
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
  auto allToAll = dyn_cast<AllToAllOp>(op);
  FailureOr<GlobalView> from =
      allToAll ? globalViewOf(allToAll.getSwitchedInputType(),
                              allToAll.getSwitchedInputSharding(), op->getLoc(),
                              mesh)
               : globalViewOf(op->getOperand(0), mesh);
  FailureOr<GlobalView> to =
      allToAll ? globalViewOf(allToAll.getSwitchedResultType(),
                              allToAll.getSwitchedResultSharding(),
                              op->getLoc(), mesh)
               : globalViewOf(op->getResult(0), mesh);
  if (failed(from) || failed(to))
    return failure();
  // On a mesh axis the collective converts the value the other axes leave
  // each rank, among the ranks of that axis.
  std::vector<int64_t> shape = to->shape;
  auto layoutOf = [&](const GlobalView &view, std::optional<uint64_t> axis) {
    if (!axis)
      return view.sharding.getLayout(view.shape);
    return view.sharding.getMeshLayout(view.shape, mesh)
        .within(*axis, view.shape, shape);
  };
  std::optional<uint64_t> axis;
  if (auto attr = op->getAttrOfType<IntegerAttr>("axis"))
    axis = attr.getValue().getZExtValue();
  setInts(instruction, "from", layoutOf(*from, axis).encode());
  if (!isa<ZeroPadOp>(op))
    setInts(instruction, "to", layoutOf(*to, axis).encode());
  setInts(instruction, "global_shape", shape);
  if (axis)
    setInts(instruction, "axis", {static_cast<int64_t>(*axis)});
  if (allToAll && allToAll.getInputPerm())
    setInts(instruction, "input_perm", *allToAll.getInputPerm());
  if (allToAll && allToAll.getOutputPerm())
    setInts(instruction, "output_perm", *allToAll.getOutputPerm());
  if (allToAll && allToAll.getAsync())
    setInts(instruction, "async", {1});
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
  program::Instruction *instruction = program.add_instructions();
  if (auto wait = dyn_cast<WaitOp>(op)) {
    // The value once it arrived is the collective's output tensor itself.
    instruction->set_op("wait");
    instruction->set_location(locationName(op->getLoc()));
    uint32_t id = ids.at(wait.getInput());
    instruction->add_inputs(id);
    ids[wait.getOutput()] = id;
    return success();
  }
  instruction->set_op(isa<LaunchOp>(op)   ? "kernel"
                      : isa<LinearOp>(op) ? "matmul"
                      : getAttentionRing(op)
                          ? "ring_attention"
                          : op->getName().stripDialect().str());
  if (auto fused = dyn_cast<FusedOp>(op))
    if (failed(addFusedBody(fused, instruction)))
      return failure();
  instruction->set_location(locationName(op->getLoc()));
  for (Value operand : op->getOperands())
    instruction->add_inputs(ids.at(operand));
  for (Value value : op->getResults()) {
    if (failed(addTensor(value, program::INTERMEDIATE, "")))
      return failure();
    instruction->add_outputs(ids[value]);
  }
  // Collectives carry the layouts they convert between instead of their
  // dims, which the layouts imply.
  if (isCollective(op) || isa<ZeroPadOp>(op))
    return addLayoutAttributes(op, instruction);
  if (auto launch = dyn_cast<LaunchOp>(op))
    return addLaunchAttributes(launch, instruction);
  // The last key blocks may end in padding, which the ring leaves out.
  if (std::optional<AttentionRing> ring = getAttentionRing(op)) {
    FailureOr<GlobalView> keys = globalViewOf(op->getOperand(1), mesh);
    if (failed(keys))
      return failure();
    setInts(instruction, "key_count", {keys->shape[2]});
    if (ring->axis)
      setInts(instruction, "axis", {*ring->axis});
  }
  return addInherentAttributes(op, instruction);
}

LogicalResult Serializer::addFusedBody(FusedOp fused,
                                       program::Instruction *instruction) {
  program::FusedBody *body = instruction->mutable_body();
  DenseMap<Value, uint32_t> values;
  auto addValue = [&](Value value,
                      program::TensorKind kind) -> program::Tensor * {
    auto type = cast<RankedTensorType>(value.getType());
    std::optional<program::DType> dtype = programDType(type.getElementType());
    if (!dtype) {
      emitError(value.getLoc())
          << "a program cannot hold a value of type " << value.getType();
      return nullptr;
    }
    values[value] = body->values_size();
    program::Tensor *tensor = body->add_values();
    tensor->set_dtype(*dtype);
    for (int64_t d : type.getShape())
      tensor->add_shape(d);
    tensor->set_kind(kind);
    return tensor;
  };
  Block &block = fused.getBody().front();
  for (BlockArgument argument : block.getArguments())
    if (!addValue(argument, program::INPUT))
      return failure();
  // The constants come before the steps' values.
  for (ConstantOp constant : block.getOps<ConstantOp>()) {
    auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
    if (!dense || !dense.isSplat())
      return constant.emitError("a fused body holds splat constants only");
    program::Tensor *tensor = addValue(constant.getOutput(), program::WEIGHT);
    if (!tensor)
      return failure();
    setSplat(tensor, dense);
  }
  for (Operation &op : block) {
    if (isa<ConstantOp>(op))
      continue;
    if (auto yield = dyn_cast<YieldOp>(op)) {
      for (Value value : yield.getValues())
        body->add_results(values.at(value));
      continue;
    }
    program::Instruction *step = body->add_steps();
    step->set_op(op.getName().stripDialect().str());
    step->set_location(locationName(op.getLoc()));
    for (Value operand : op.getOperands())
      step->add_inputs(values.at(operand));
    if (!addValue(op.getResult(0), program::INTERMEDIATE))
      return failure();
    step->add_outputs(values.at(op.getResult(0)));
    if (failed(addInherentAttributes(&op, step)))
      return failure();
  }
  return success();
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
    auto keptFrom = function.getResultAttrOfType<StringAttr>(
        index, DSPDialect::kKeptShardedAttrName);
    if (keptFrom)
      tensor->set_keeps_layout_of(keptFrom.str());
    if (ranks > 1) {
      FailureOr<GlobalView> global = globalViewOf(value, mesh);
      if (failed(global))
        return failure();
      if (!global->sharding.isReplicated() && !keptFrom)
        return ret.emitError("result ")
               << index << " must be replicated; run --dsp-insert-reshards "
               << "(or --dsp-pipeline) first";
      for (int64_t v : global->encode(mesh))
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
  if (!planProgramBuffers(program, kArenaAlignment))
    return function.emitError("the program's tensors need more than 2^56 "
                              "bytes of memory");
  return success();
}

FailureOr<SerializedProgram> Serializer::run() {
  program.set_format_version(format::kMajorVersion);
  program.set_ranks(ranks);
  if (mesh.size() > 1)
    for (int64_t size : mesh)
      program.add_mesh(size);
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
    if (ranks == 1 && (isCollective(&op) || isa<ZeroPadOp, WaitOp>(op)))
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
  GroupAttr group = getGroup(module);
  SmallVector<int64_t> mesh =
      group ? group.getMeshShape() : SmallVector<int64_t>{1};
  auto function = module.lookupSymbol<func::FuncOp>("main");
  if (!function || function.getBody().getBlocks().size() != 1)
    return emitError(module.getLoc(),
                     "a program needs a func.func @main with one block");
  return Serializer(module, function, mesh, options).run();
}

llvm::json::Object mlir::dsp::programMemory(const program::Program &program,
                                            unsigned threads) {
  // The emitter's buffer plan keeps the arena under 2^56 bytes, and the
  // inputs are tensors of it.
  uint64_t inputBytes = 0;
  for (uint32_t input : program.inputs())
    inputBytes += program.tensors(static_cast<int>(input)).bytes();
  uint64_t stagingBytes = 0, scratchBytes = 0;
  for (const program::Instruction &instruction : program.instructions()) {
    uint64_t staging = format::instructionStagingBytes(program, instruction);
    stagingBytes = std::max(stagingBytes, staging);
    if (!staging)
      scratchBytes = std::max<uint64_t>(
          scratchBytes,
          format::hostKernelWorkspaceBytes(program, instruction, threads));
  }
  bool hostKernels = program.code_objects_size() == 0;
  format::HostWorkspace workspace =
      hostKernels ? format::hostWorkspace(program, threads)
                  : format::HostWorkspace{stagingBytes, 0};
  auto toJson = [](uint64_t bytes) {
    return static_cast<int64_t>(
        std::min<uint64_t>(bytes, std::numeric_limits<int64_t>::max()));
  };
  uint64_t total = 0;
  for (uint64_t part :
       {program.arena_bytes(), inputBytes, workspace.kernels, workspace.lane})
    total = format::checkedAdd(total, part).value_or(UINT64_MAX);
  llvm::json::Object memory{
      {"arena_bytes", toJson(program.arena_bytes())},
      {"input_bytes", toJson(inputBytes)},
      {"collective_workspace_bytes", toJson(stagingBytes)},
      {"workspace_bytes",
       toJson(format::checkedAdd(workspace.kernels, workspace.lane)
                  .value_or(UINT64_MAX))},
      {"bytes_per_rank", toJson(total)}};
  if (hostKernels) {
    memory["threads"] = static_cast<int64_t>(threads);
    memory["kernel_scratch_bytes"] = toJson(scratchBytes);
  }
  return memory;
}

LogicalResult mlir::dsp::writeProgram(ModuleOp module,
                                      SerializedProgram &serialized,
                                      StringRef path) {
  std::string error = format::writeProgramFile(path.str(), serialized.program,
                                               serialized.weights);
  if (!error.empty())
    return emitError(module.getLoc(), "cannot write the program: ") << error;
  return success();
}

LogicalResult mlir::dsp::emitProgram(ModuleOp module, StringRef path,
                                     ProgramOptions options) {
  options.folder = format::parentFolder(path.str());
  FailureOr<SerializedProgram> serialized = serializeProgram(module, options);
  if (failed(serialized))
    return failure();
  return writeProgram(module, *serialized, path);
}

LogicalResult mlir::dsp::emitProgramText(ModuleOp module, raw_ostream &os,
                                         const ProgramOptions &options) {
  FailureOr<SerializedProgram> serialized = serializeProgram(module, options);
  if (failed(serialized))
    return failure();
  os << format::programText(serialized->program);
  return success();
}
