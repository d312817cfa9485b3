//===- OnnxImporter.cpp - ONNX models into the dsp dialect ----------------===//
//
// Reads the model and walks its (topologically sorted) graph once: graph
// inputs become the arguments of @main, initializers constants (inline, as
// blobs or from external data files), and each node goes through the table
// of converters (ImportContext.h). The converters build dsp ops with
// fold<Op>, so that shape computations on constants fold while the graph is
// read, and result types come from the ops' own inference. Each ONNX
// operator is mapped according to the opset the model imports, by the rules
// of the version that defines it there (axes as attribute or input,
// Softmax's coercion to 2-D before opset 13, ...).
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"
#include "dsp/Dialect/DSP/IR/ProgramDType.h"
#include "dsp/Format/Checked.h"
#include "dsp/Format/FileIO.h"
#include "dsp/Format/Npy.h"
#include "dsp/Format/ProgramFile.h"
#include "dsp/Format/WeightSources.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include "onnx/defs/parser.h"
#include <google/protobuf/message.h>
#include <google/protobuf/unknown_field_set.h>

#include <limits>
#include <unistd.h>

using namespace mlir;
using namespace mlir::dsp;
using namespace mlir::dsp::onnx_import;

namespace {
constexpr int64_t kMinOpset = 11;
// What onnx 1.23 and torch's exporters write; what the opsets and IR
// versions after 18 and 10 changed is checked by the converters and by
// unreadableField.
constexpr int64_t kMaxOpset = 28;
constexpr int64_t kMaxIrVersion = 14;
/// Initializers up to this many elements are kept inline as dense
/// constants so that shape computations fold; larger ones are blobs.
constexpr int64_t kInlineElements = 64;
/// Integer initializers hold indices and shapes (an exporter's aranges),
/// which fold: they stay dense up to the folders' own limit.
constexpr int64_t kInlineIntegerElements = 1 << 16;

class Importer : public ImportContext {
public:
  using ImportContext::ImportContext;

  OwningOpRef<ModuleOp> run(onnx::ModelProto &model);

private:
  void checkVersions(const onnx::ModelProto &model);
  void importInitializer(onnx::TensorProto &tensor);
  ElementsAttr frozenInput(StringRef name, RankedTensorType type);
  void importNode(const onnx::NodeProto &node, int64_t index);
  Values mapNode(const onnx::NodeProto &node);
};
} // namespace

//===----------------------------------------------------------------------===//
// Model, versions, graph inputs and initializers
//===----------------------------------------------------------------------===//

constexpr const char kUnsupportedElementType[] =
    ", which is not supported (float, float16, bfloat16, int64, int32, bool "
    "are)";

/// The name of an ONNX element type newer than the ONNX library the
/// importer reads with, which parses it as an unknown field.
static std::string newerElementTypeName(uint64_t type) {
  static const char *const names[] = {
      "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ",
      "UINT4",        "INT4",           "FLOAT4E2M1", "FLOAT8E8M0",
      "UINT2",        "INT2",           "FLOAT6E2M3", "FLOAT6E3M2"};
  if (type >= 17 && type < 17 + std::size(names))
    return names[type - 17];
  return "number " + std::to_string(type);
}

/// What `message` (or a message in it) holds that the ONNX library's schema
/// does not know and the importer cannot ignore, by name; "" if nothing.
/// Newer ONNX releases add metadata (ignored), functions' overloads
/// (functions are not imported) and multi-device configurations
/// (refused); their element types are known fields with new values, which
/// ImportContext::elementType names.
static std::string unreadableField(const google::protobuf::Message &message) {
  const google::protobuf::Descriptor *descriptor = message.GetDescriptor();
  const google::protobuf::Reflection *reflection = message.GetReflection();
  const std::string &type = descriptor->full_name();
  std::string name;
  if (const google::protobuf::FieldDescriptor *field =
          descriptor->FindFieldByName("name");
      field && field->type() == google::protobuf::FieldDescriptor::TYPE_STRING)
    name = reflection->GetString(message, field);
  static const std::pair<const char *, const char *> readable[] = {
      {"onnx.ModelProto", "the model"},
      {"onnx.GraphProto", "graph"},
      {"onnx.NodeProto", "node"},
      {"onnx.TensorProto", "tensor"},
      {"onnx.ValueInfoProto", "value"}};
  std::string where = type;
  for (auto [protoName, word] : readable)
    if (type == protoName)
      where = word;
  if (!name.empty())
    where += " '" + name + "'";
  const google::protobuf::UnknownFieldSet &unknown =
      reflection->GetUnknownFields(message);
  for (int i = 0; i < unknown.field_count(); ++i) {
    const google::protobuf::UnknownField &field = unknown.field(i);
    int number = field.number();
    bool metadata =
        (type == "onnx.GraphProto" && number == 16) ||
        (type == "onnx.NodeProto" && (number == 8 || number == 9)) ||
        (type == "onnx.ValueInfoProto" && number == 4) ||
        (type == "onnx.TensorProto" && number == 16) ||
        type == "onnx.FunctionProto";
    if (metadata)
      continue;
    if ((type == "onnx.ModelProto" && number == 26) ||
        (type == "onnx.NodeProto" && number == 10))
      return where + " carries a multi-device configuration, which is not "
                     "supported: DSP plans how the model is spread over "
                     "devices itself (remove it)";
    return where + " has field " + std::to_string(number) +
           ", which the importer's ONNX schema does not know";
  }
  std::vector<const google::protobuf::FieldDescriptor *> fields;
  reflection->ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor *field : fields) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE)
      continue;
    int count =
        field->is_repeated() ? reflection->FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      const google::protobuf::Message &child =
          field->is_repeated()
              ? reflection->GetRepeatedMessage(message, field, i)
              : reflection->GetMessage(message, field);
      if (std::string problem = unreadableField(child); !problem.empty())
        return problem;
    }
  }
  return "";
}

void Importer::checkVersions(const onnx::ModelProto &model) {
  if (model.ir_version() > kMaxIrVersion)
    fail("IR version " + Twine(model.ir_version()) +
         " is newer than the supported " + Twine(kMaxIrVersion));
  if (std::string problem = unreadableField(model); !problem.empty())
    fail(problem);
  for (const auto &entry : model.opset_import()) {
    if (entry.domain().empty() || entry.domain() == "ai.onnx")
      opset = entry.version();
  }
  if (opset == 0)
    fail("the model imports no default-domain opset");
  if (opset < kMinOpset || opset > kMaxOpset)
    fail("opset " + Twine(opset) + " is outside the supported range " +
         Twine(kMinOpset) + " to " + Twine(kMaxOpset));
}

Type ImportContext::elementType(int32_t onnxType, StringRef what) {
  switch (onnxType) {
  case onnx::TensorProto::FLOAT:
    return builder.getF32Type();
  case onnx::TensorProto::FLOAT16:
    return builder.getF16Type();
  case onnx::TensorProto::BFLOAT16:
    return builder.getBF16Type();
  case onnx::TensorProto::INT64:
    return builder.getI64Type();
  case onnx::TensorProto::INT32:
    return builder.getI32Type();
  case onnx::TensorProto::BOOL:
    return builder.getI1Type();
  default: {
    std::string name = onnx::TensorProto::DataType_Name(
        static_cast<onnx::TensorProto::DataType>(onnxType));
    fail(what + " has element type " +
         (name.empty() ? newerElementTypeName(onnxType) : name) +
         kUnsupportedElementType);
  }
  }
}

ElementsAttr ImportContext::tensorAttr(onnx::TensorProto &tensor,
                                       bool allowBlob,
                                       ExternalDataAttr *external) {
  std::string what = "initializer '" + tensor.name() + "'";
  Type type = elementType(tensor.data_type(), what);
  SmallVector<int64_t> shape(tensor.dims().begin(), tensor.dims().end());
  auto tensorType = RankedTensorType::get(shape, type);
  checkSize(tensorType, what);
  int64_t count = tensorType.getNumElements();
  size_t elementBytes =
      type.isInteger(1) ? 1 : type.getIntOrFloatBitWidth() / 8;
  size_t bytes = static_cast<size_t>(count) * elementBytes;

  // Raw bytes: inline, or in an external file next to the model.
  ArrayRef<char> raw;
  std::shared_ptr<void> owner;
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    std::shared_ptr<llvm::MemoryBuffer> file;
    uint64_t offset;
    std::tie(file, offset) = externalData(tensor, what, bytes);
    raw = ArrayRef<char>(file->getBufferStart() + offset, bytes);
    if (external)
      *external = ExternalDataAttr::get(
          &context, builder.getStringAttr(file->getBufferIdentifier()), offset,
          bytes, type);
    owner = file;
  } else if (tensor.has_raw_data()) {
    if (tensor.raw_data().size() != bytes)
      fail(what + " holds " + Twine(tensor.raw_data().size()) +
           " raw bytes, its shape needs " + Twine(bytes));
    // Take the bytes out of the protobuf message instead of copying them.
    auto data =
        std::make_shared<std::string>(std::move(*tensor.mutable_raw_data()));
    raw = ArrayRef<char>(data->data(), data->size());
    owner = data;
  }

  if (!raw.empty() || count == 0) {
    int64_t inlineLimit =
        isa<IntegerType>(type) ? kInlineIntegerElements : kInlineElements;
    if (allowBlob && count > inlineLimit &&
        reinterpret_cast<uintptr_t>(raw.data()) % elementBytes == 0) {
      AsmResourceBlob blob(
          raw, elementBytes,
          [owner](void *, size_t, size_t) mutable { owner.reset(); },
          /*dataIsMutable=*/false);
      return DenseResourceElementsAttr::get(tensorType, tensor.name(),
                                            std::move(blob));
    }
    // ONNX stores a bool per byte, where MLIR's raw buffers pack bits.
    if (type.isInteger(1)) {
      SmallVector<bool> bits;
      for (char c : raw)
        bits.push_back(c != 0);
      return DenseElementsAttr::get(tensorType, bits);
    }
    bool detectedSplat = false;
    if (!DenseElementsAttr::isValidRawBuffer(tensorType, raw, detectedSplat))
      fail(what + " has raw data that does not fit its type");
    return DenseElementsAttr::getFromRawBuffer(tensorType, raw);
  }

  // Typed fields.
  auto checkCount = [&](int64_t n) {
    if (n != count)
      fail(what + " holds " + Twine(n) + " values, its shape needs " +
           Twine(count));
  };
  switch (tensor.data_type()) {
  case onnx::TensorProto::FLOAT:
    checkCount(tensor.float_data_size());
    return DenseElementsAttr::get(
        tensorType, ArrayRef<float>(tensor.float_data().data(), count));
  case onnx::TensorProto::INT64:
    checkCount(tensor.int64_data_size());
    return DenseElementsAttr::get(
        tensorType, ArrayRef<int64_t>(tensor.int64_data().data(), count));
  case onnx::TensorProto::INT32:
    checkCount(tensor.int32_data_size());
    return DenseElementsAttr::get(
        tensorType, ArrayRef<int32_t>(tensor.int32_data().data(), count));
  case onnx::TensorProto::BOOL: {
    checkCount(tensor.int32_data_size());
    SmallVector<bool> bits;
    for (int32_t v : tensor.int32_data())
      bits.push_back(v != 0);
    return DenseElementsAttr::get(tensorType, bits);
  }
  default:
    fail(what + " stores its values in a form that is not supported; use "
                "raw_data");
  }
}

std::pair<std::shared_ptr<llvm::MemoryBuffer>, uint64_t>
ImportContext::externalData(const onnx::TensorProto &tensor,
                            const std::string &what, uint64_t bytes) {
  std::string location;
  uint64_t offset = 0;
  std::optional<uint64_t> length;
  for (const auto &entry : tensor.external_data()) {
    auto number = [&]() {
      std::optional<uint64_t> value =
          ::dsp::format::parseDecimal(entry.value());
      if (!value)
        fail(what + " has external data " + entry.key() + " '" + entry.value() +
             "', which is not a decimal byte count");
      return *value;
    };
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset")
      offset = number();
    else if (entry.key() == "length")
      length = number();
  }
  if (location.empty())
    fail(what + " is external but names no location");
  std::string pathProblem = ::dsp::format::externalPathProblem(location);
  if (!pathProblem.empty())
    fail(what + " has external data location '" + location + "', which " +
         pathProblem + "; it must lead to a file in the model's directory");
  if (length && *length != bytes)
    fail(what + " declares " + Twine(*length) +
         " bytes of external data, its shape needs " + Twine(bytes));

  // Resolved before it is opened: symlinks and '..' may not lead out of the
  // model's folder, and only a regular file is read.
  std::string folder = ::dsp::format::parentFolder(path);
  std::string file = folder + "/" + location, realFile, reason;
  switch (
      ::dsp::format::resolveInsideFolder(folder, location, realFile, reason)) {
  case ::dsp::format::Confinement::Inside:
    break;
  case ::dsp::format::Confinement::FolderUnresolved:
    fail(what + ": cannot resolve the model's directory '" + folder +
         "': " + reason);
  case ::dsp::format::Confinement::FileUnresolved:
    fail(what + ": cannot open external data file '" + file + "': " + reason);
  case ::dsp::format::Confinement::Outside:
    fail(what + " has external data location '" + location +
         "', which leads outside the model's directory (to '" + realFile +
         "')");
  }
  auto &mapped = externalFiles[realFile];
  if (!mapped) {
    std::string error;
    uint64_t size = 0;
    int fd = ::dsp::format::openRegularFile(
        realFile, std::numeric_limits<uint64_t>::max(), size, error);
    if (fd < 0) {
      StringRef problem(error);
      problem.consume_front(realFile + ": ");
      fail(what + ": external data file '" + file + "' " + problem);
    }
    auto buffer = llvm::MemoryBuffer::getOpenFile(
        llvm::sys::fs::convertFDToNativeFile(fd), realFile, size,
        /*RequiresNullTerminator=*/false);
    ::close(fd);
    if (!buffer)
      fail(what + ": cannot read external data file '" + realFile +
           "': " + buffer.getError().message());
    mapped = std::move(*buffer);
  }
  std::optional<uint64_t> end = ::dsp::format::checkedAdd(offset, bytes);
  if (!end || *end > mapped->getBufferSize())
    fail(what + ": external data file '" + file + "' holds " +
         Twine(mapped->getBufferSize()) + " bytes, the tensor needs " +
         Twine(bytes) + " from offset " + Twine(offset));
  return {mapped, offset};
}

void Importer::importInitializer(onnx::TensorProto &tensor) {
  location = NameLoc::get(builder.getStringAttr(tensor.name()));
  bool shapeOnly =
      !options.loadWeights && tensor.data_type() == onnx::TensorProto::FLOAT;
  if (shapeOnly) {
    SmallVector<int64_t> shape(tensor.dims().begin(), tensor.dims().end());
    auto type = RankedTensorType::get(shape, builder.getF32Type());
    checkSize(type, "initializer '" + tensor.name() + "'");
    if (type.getNumElements() > kInlineElements) {
      values[tensor.name()] =
          WeightOp::create(builder, location, type, tensor.name());
      return;
    }
  }
  ExternalDataAttr external;
  ElementsAttr value = tensorAttr(tensor, /*allowBlob=*/true, &external);
  values[tensor.name()] =
      ConstantOp::create(builder, location, value, external);
}

/// The value of graph input `name`, declared as `type`, from its
/// --freeze-input file.
ElementsAttr Importer::frozenInput(StringRef name, RankedTensorType type) {
  const std::string &path = options.frozenInputs.find(name)->second;
  ::dsp::npy::Array array;
  std::string problem = ::dsp::npy::read(path, array);
  if (!problem.empty())
    fail("--freeze-input of graph input '" + name + "': " + problem);
  if (programDType(type.getElementType()) != array.dtype ||
      ArrayRef<int64_t>(array.shape) != type.getShape()) {
    std::string declared;
    llvm::raw_string_ostream(declared) << type;
    fail("graph input '" + name + "' is " + declared +
         ", but its --freeze-input file '" + path + "' holds an array of " +
         ::dsp::format::dtypeName(array.dtype) + " " +
         shapeString(array.shape));
  }
  // .npy stores a bool per byte, where MLIR's raw buffers pack bits.
  if (type.getElementType().isInteger(1)) {
    SmallVector<bool> bits(array.data.begin(), array.data.end());
    return DenseElementsAttr::get(type, bits);
  }
  ArrayRef<char> raw(reinterpret_cast<const char *>(array.data.data()),
                     array.data.size());
  return DenseElementsAttr::getFromRawBuffer(type, raw);
}

OwningOpRef<ModuleOp> Importer::run(onnx::ModelProto &model) {
  checkVersions(model);
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  onnx::GraphProto &graph = *model.mutable_graph();

  llvm::StringSet<> initializerNames;
  for (const auto &tensor : graph.initializer())
    initializerNames.insert(tensor.name());

  // Signature.
  SmallVector<Type> inputTypes;
  SmallVector<std::string> inputNames;
  SmallVector<std::pair<std::string, RankedTensorType>> frozen;
  for (const auto &input : graph.input()) {
    if (initializerNames.contains(input.name()))
      continue;
    std::string what = "graph input '" + input.name() + "'";
    if (!input.type().has_tensor_type())
      fail(what + " is not a tensor");
    const auto &tensorType = input.type().tensor_type();
    SmallVector<int64_t> shape;
    auto given = options.inputShapes.find(input.name());
    if (given != options.inputShapes.end()) {
      shape.assign(given->second.begin(), given->second.end());
      if (static_cast<int>(shape.size()) != tensorType.shape().dim_size())
        fail(what + " has rank " + Twine(tensorType.shape().dim_size()) +
             " but --input-shape gives " + Twine(shape.size()) + " dims");
    } else {
      for (const auto &dim : tensorType.shape().dim()) {
        if (!dim.has_dim_value() || dim.dim_value() < 0)
          fail(what + " has symbolic dim '" + dim.dim_param() +
               "'; give static shapes with --input-shape=" + input.name() +
               ":D0xD1x... (e.g. --input-shape=" + input.name() +
               ":1x8x3x32x32)");
        shape.push_back(dim.dim_value());
      }
    }
    auto type =
        RankedTensorType::get(shape, elementType(tensorType.elem_type(), what));
    checkSize(type, what);
    if (options.frozenInputs.contains(input.name())) {
      frozen.emplace_back(input.name(), type);
      continue;
    }
    inputTypes.push_back(type);
    inputNames.push_back(input.name());
  }
  auto isInput = [&](StringRef name) {
    return llvm::is_contained(inputNames, name) ||
           llvm::any_of(frozen,
                        [&](auto &entry) { return entry.first == name; });
  };
  for (const auto &entry : options.inputShapes)
    if (!isInput(entry.getKey()))
      fail("--input-shape names '" + entry.getKey() +
           "', which is not a graph input");
  for (const auto &entry : options.frozenInputs)
    if (!isInput(entry.getKey()))
      fail("--freeze-input names '" + entry.getKey() +
           "', which is not a graph input");

  builder.setInsertionPointToEnd(module->getBody());
  auto function = func::FuncOp::create(builder, fileLoc, "main",
                                       builder.getFunctionType(inputTypes, {}));
  Block *body = function.addEntryBlock();
  builder.setInsertionPointToStart(body);
  for (auto [index, name] : llvm::enumerate(inputNames)) {
    values[name] = body->getArgument(index);
    function.setArgAttr(index, "dsp.name", builder.getStringAttr(name));
  }
  for (auto &[name, type] : frozen) {
    location = NameLoc::get(builder.getStringAttr(name));
    values[name] = constant(frozenInput(name, type));
  }

  for (auto &tensor : *graph.mutable_initializer())
    importInitializer(tensor);
  for (auto [index, node] : llvm::enumerate(graph.node()))
    importNode(node, index);

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &output : graph.output()) {
    auto it = values.find(output.name());
    if (it == values.end())
      fail("graph output '" + output.name() + "' is produced by no node");
    results.push_back(it->second);
    resultTypes.push_back(it->second.getType());
  }
  location = fileLoc;
  func::ReturnOp::create(builder, fileLoc, results);
  function.setType(builder.getFunctionType(inputTypes, resultTypes));
  for (auto [index, output] : llvm::enumerate(graph.output()))
    function.setResultAttr(index, "dsp.name",
                           builder.getStringAttr(output.name()));
  return module;
}

//===----------------------------------------------------------------------===//
// Nodes
//===----------------------------------------------------------------------===//

void Importer::importNode(const onnx::NodeProto &node, int64_t index) {
  std::string name = node.name().empty()
                         ? node.op_type() + "_" + std::to_string(index)
                         : node.name();
  location = NameLoc::get(builder.getStringAttr(name));
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    fail("node '" + name + "' (" + node.op_type() + ") is in domain '" +
         node.domain() + "', only the default ONNX domain is supported");
  Values outputs;
  try {
    outputs = mapNode(node);
  } catch (ImportError &error) {
    fail("node '" + name + "' (" + node.op_type() + ", opset " + Twine(opset) +
         "): " + error.message);
  }
  for (auto [i, output] : llvm::enumerate(node.output())) {
    if (output.empty())
      continue;
    if (i >= outputs.size())
      fail("node '" + name + "' (" + node.op_type() + "): output " + Twine(i) +
           " ('" + output + "') is not supported");
    values[output] = outputs[i];
  }
}

Values Importer::mapNode(const onnx::NodeProto &node) {
  static const ConverterTable table = [] {
    ConverterTable table;
    registerElementwiseConverters(table);
    registerShapeConverters(table);
    registerNNConverters(table);
    return table;
  }();
  const Converter *convert = table.lookup(node.op_type());
  if (!convert)
    fail("unsupported operator; the supported operators and opsets are listed "
         "in docs/supported-ops.md");
  return (*convert)(*this, node);
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

/// The largest model file read: protobuf parses at most 2 GiB; larger
/// models keep their weights as external data.
constexpr uint64_t kMaxModelBytes = std::numeric_limits<int>::max();

static bool readModel(StringRef path, onnx::ModelProto &model,
                      std::string &error) {
  std::string bytes;
  std::string problem =
      ::dsp::format::readRegularFile(path.str(), kMaxModelBytes, bytes);
  if (!problem.empty()) {
    // The diagnostic names the file already.
    StringRef reason(problem);
    reason.consume_front((path + ": ").str());
    error = "cannot read the model: " + reason.str();
    return false;
  }
  if (path.ends_with(".onnxtxt")) {
    onnx::OnnxParser parser(bytes.data());
    auto status = parser.Parse(model);
    if (!status.IsOK()) {
      error = "cannot parse the textual model: " + status.ErrorMessage();
      return false;
    }
    return true;
  }
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    error = "not a valid ONNX model (malformed or truncated protobuf)";
    return false;
  }
  if (!model.has_graph()) {
    error = "not a valid ONNX model (it has no graph)";
    return false;
  }
  return true;
}

OwningOpRef<ModuleOp>
mlir::dsp::importOnnxFile(MLIRContext &context, StringRef path,
                          const OnnxImportOptions &options) {
  context.loadDialect<DSPDialect, func::FuncDialect>();
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  try {
    onnx::ModelProto model;
    std::string error;
    if (!readModel(path, model, error)) {
      emitError(fileLoc) << error;
      return nullptr;
    }
    Importer importer(context, path, options);
    return importer.run(model);
  } catch (ImportError &error) {
    emitError(fileLoc) << error.message;
  } catch (std::exception &error) {
    emitError(fileLoc) << "the ONNX library reported: " << error.what();
  }
  return nullptr;
}

LogicalResult mlir::dsp::parseInputShapes(ArrayRef<std::string> specs,
                                          OnnxImportOptions &options,
                                          std::string &error) {
  for (StringRef spec : specs) {
    auto [name, dims] = spec.rsplit(':');
    if (name.empty() || dims.empty()) {
      error = "--input-shape expects NAME:D0xD1x..., got '" + spec.str() + "'";
      return failure();
    }
    std::vector<int64_t> shape;
    SmallVector<StringRef> parts;
    dims.split(parts, 'x');
    for (StringRef part : parts) {
      int64_t d;
      if (part.getAsInteger(10, d) || d < 0) {
        error = "--input-shape '" + spec.str() + "': '" + part.str() +
                "' is not a dim size";
        return failure();
      }
      shape.push_back(d);
    }
    options.inputShapes[name] = std::move(shape);
  }
  return success();
}

LogicalResult mlir::dsp::parseFrozenInputs(ArrayRef<std::string> specs,
                                           OnnxImportOptions &options,
                                           std::string &error) {
  for (StringRef spec : specs) {
    auto [name, file] = spec.split('=');
    if (name.empty() || !file.consume_front("@") || file.empty()) {
      error = "--freeze-input expects NAME=@FILE.npy, got '" + spec.str() + "'";
      return failure();
    }
    SmallString<256> resolved;
    if (std::error_code problem = llvm::sys::fs::real_path(file, resolved)) {
      error = "--freeze-input '" + spec.str() + "': cannot open '" +
              file.str() + "': " + problem.message();
      return failure();
    }
    if (!options.frozenInputs.try_emplace(name, resolved.str().str()).second) {
      error = "--freeze-input gives graph input '" + name.str() + "' twice";
      return failure();
    }
  }
  return success();
}
