//===- OnnxImporter.cpp - ONNX models into the dsp dialect ----------------===//
//
// Walks the (topologically sorted) ONNX graph once and builds dsp ops with
// createOrFold, so that shape computations on constants fold while the graph
// is read. Result types come from the ops' own inference. Each ONNX operator
// is mapped according to the opset the model imports, by the rules of the
// version that defines it there (axes as attribute or input, Softmax's
// coercion to 2-D before opset 13, ...).
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"
#include "dsp/Format/Checked.h"
#include "dsp/Format/FileIO.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/defs/parser.h"
#include "onnx/onnx_pb.h"

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <unistd.h>

using namespace mlir;
using namespace mlir::dsp;
using namespace mlir::dsp::onnx_import;

namespace {
constexpr int64_t kMinOpset = 11;
constexpr int64_t kMaxOpset = 18;
constexpr int64_t kMaxIrVersion = 10;
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
  void importNode(const onnx::NodeProto &node, int64_t index);
  Values mapNode(const onnx::NodeProto &node);

  Value unary(const onnx::NodeProto &node);
  Value binary(const onnx::NodeProto &node);
  Value variadic(const onnx::NodeProto &node);
  Value matmul(Value lhs, Value rhs);
  Value gemm(const onnx::NodeProto &node);
  Value softmax(const onnx::NodeProto &node);
  Value reshapeNode(const onnx::NodeProto &node);
  Value slice(const onnx::NodeProto &node);
  Values split(const onnx::NodeProto &node);
  Values layerNorm(const onnx::NodeProto &node);
  Values dropout(const onnx::NodeProto &node);
  Value squeeze(const onnx::NodeProto &node);
  Value unsqueeze(const onnx::NodeProto &node);
  Value flatten(const onnx::NodeProto &node);
  Value expand(const onnx::NodeProto &node);
  Value conv(const onnx::NodeProto &node);
  Value reduce(const onnx::NodeProto &node);
  Value einsum(const onnx::NodeProto &node);
  Value instanceNorm(const onnx::NodeProto &node);
  Value groupNorm(const onnx::NodeProto &node);
  Value normalizeGroups(Value x, int64_t groups, float epsilon,
                        Value groupScale, Value groupBias);
  Value scatterND(const onnx::NodeProto &node);
  Value scatterRows(Value data, Value updates, ArrayRef<int64_t> targets,
                    bool accumulate);
  Value constantNode(const onnx::NodeProto &node);
  Value constantOfShape(const onnx::NodeProto &node);
  Value shapeNode(const onnx::NodeProto &node);
  Value castNode(const onnx::NodeProto &node);
};
} // namespace

//===----------------------------------------------------------------------===//
// Model, versions, graph inputs and initializers
//===----------------------------------------------------------------------===//

void Importer::checkVersions(const onnx::ModelProto &model) {
  if (model.ir_version() > kMaxIrVersion)
    fail("IR version " + Twine(model.ir_version()) +
         " is newer than the supported " + Twine(kMaxIrVersion));
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
  default:
    fail(what + " has element type " +
         onnx::TensorProto::DataType_Name(
             static_cast<onnx::TensorProto::DataType>(onnxType)) +
         ", which is not supported (float, float16, bfloat16, int64, int32, "
         "bool are)");
  }
}

ElementsAttr ImportContext::tensorAttr(onnx::TensorProto &tensor,
                                       bool allowBlob) {
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
    bool detectedSplat = false;
    if (!DenseElementsAttr::isValidRawBuffer(tensorType, raw, detectedSplat))
      fail(what + " has raw data that does not fit its type");
    if (type.isInteger(1)) {
      SmallVector<bool> bits;
      for (char c : raw)
        bits.push_back(c != 0);
      return DenseElementsAttr::get(tensorType, bits);
    }
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
  if (llvm::sys::path::is_absolute(location))
    fail(what + " has an absolute external data location '" + location +
         "'; locations must be relative to the model's directory");
  for (auto it = llvm::sys::path::begin(location),
            end = llvm::sys::path::end(location);
       it != end; ++it)
    if (*it == "..")
      fail(what + " has external data location '" + location +
           "' that leaves the model's directory");
  if (length && *length != bytes)
    fail(what + " declares " + Twine(*length) +
         " bytes of external data, its shape needs " + Twine(bytes));

  // Resolved before it is opened: symlinks and '..' may not lead out of the
  // model's folder, and only a regular file is read.
  SmallString<256> folder(llvm::sys::path::parent_path(path));
  if (folder.empty())
    folder = ".";
  SmallString<256> realFolder, file(folder), realFile;
  llvm::sys::path::append(file, location);
  if (std::error_code error = llvm::sys::fs::real_path(folder, realFolder))
    fail(what + ": cannot resolve the model's directory '" + folder +
         "': " + error.message());
  if (std::error_code error = llvm::sys::fs::real_path(file, realFile))
    fail(what + ": cannot open external data file '" + file +
         "': " + error.message());
  if (!StringRef(realFile).starts_with((realFolder + "/").str()))
    fail(what + " has external data location '" + location +
         "', which leads outside the model's directory (to '" + realFile +
         "')");
  auto &mapped = externalFiles[realFile];
  if (!mapped) {
    std::string error;
    uint64_t size = 0;
    int fd = ::dsp::format::openRegularFile(
        realFile.str().str(), std::numeric_limits<uint64_t>::max(), size,
        error);
    if (fd < 0) {
      StringRef reason(error);
      reason.consume_front((realFile + ": ").str());
      fail(what + ": external data file '" + file + "' " + reason);
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
  values[tensor.name()] = constant(tensorAttr(tensor, /*allowBlob=*/true));
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
    inputTypes.push_back(type);
    inputNames.push_back(input.name());
  }
  for (const auto &entry : options.inputShapes)
    if (!llvm::is_contained(inputNames, entry.getKey()))
      fail("--input-shape names '" + entry.getKey() +
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
  StringRef op = node.op_type();
  if (op == "Identity")
    return {input(node, 0)};
  if (op == "Dropout")
    return dropout(node);
  if (op == "Split")
    return split(node);
  using Mapper = Value (Importer::*)(const onnx::NodeProto &);
  Mapper mapper =
      llvm::StringSwitch<Mapper>(op)
          .Cases({"Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Abs", "Erf",
                  "Tanh", "Sigmoid", "Relu", "Sin", "Cos", "IsNaN", "Not"},
                 &Importer::unary)
          .Cases({"Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less",
                  "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or",
                  "Xor", "Where"},
                 &Importer::binary)
          .Cases({"Max", "Min", "Sum"}, &Importer::variadic)
          .Case("Gemm", &Importer::gemm)
          .Case("Softmax", &Importer::softmax)
          .Case("Reshape", &Importer::reshapeNode)
          .Case("Slice", &Importer::slice)
          .Case("Squeeze", &Importer::squeeze)
          .Case("Unsqueeze", &Importer::unsqueeze)
          .Case("Flatten", &Importer::flatten)
          .Case("Expand", &Importer::expand)
          .Case("Conv", &Importer::conv)
          .Cases({"ReduceMean", "ReduceSum", "ReduceMax"}, &Importer::reduce)
          .Case("Einsum", &Importer::einsum)
          .Case("InstanceNormalization", &Importer::instanceNorm)
          .Case("GroupNormalization", &Importer::groupNorm)
          .Case("ScatterND", &Importer::scatterND)
          .Case("Constant", &Importer::constantNode)
          .Case("ConstantOfShape", &Importer::constantOfShape)
          .Case("Shape", &Importer::shapeNode)
          .Case("Cast", &Importer::castNode)
          .Default(nullptr);
  if (mapper)
    return {(this->*mapper)(node)};

  if (op == "MatMul")
    return {matmul(input(node, 0), input(node, 1))};
  if (op == "Transpose") {
    Value x = input(node, 0);
    int64_t rank = typeOf(x).getRank();
    SmallVector<int64_t> perm =
        intsAttr(node, "perm")
            .value_or(
                llvm::to_vector(llvm::reverse(llvm::seq<int64_t>(0, rank))));
    return {fold<TransposeOp>(x, perm)};
  }
  if (op == "Concat") {
    if (node.input_size() == 0)
      fail("needs at least one input");
    Values inputs;
    for (int i = 0; i < node.input_size(); ++i)
      inputs.push_back(input(node, i));
    int64_t axis =
        normalizeAxis(intAttr(node, "axis", 0), typeOf(inputs[0]).getRank());
    return {fold<ConcatOp>(inputs, axis)};
  }
  if (op == "Gather") {
    Value data = input(node, 0);
    int64_t axis =
        normalizeAxis(intAttr(node, "axis", 0), typeOf(data).getRank());
    return {fold<GatherOp>(data, input(node, 1), axis)};
  }
  if (op == "Tile") {
    SmallVector<int64_t> repeats = constantInts(input(node, 1), "repeats");
    return {fold<TileOp>(input(node, 0), repeats)};
  }
  if (op == "LayerNormalization")
    return layerNorm(node);
  fail("unsupported operator; the supported operators and opsets are listed "
       "in docs/supported-ops.md");
}

Value Importer::unary(const onnx::NodeProto &node) {
  Value x = input(node, 0);
  StringRef op = node.op_type();
  if (op == "IsNaN")
    return fold<IsNaNOp>(
        RankedTensorType::get(typeOf(x).getShape(), builder.getI1Type()), x);
  if (op == "Not")
    return fold<NotOp>(x);
  if (!isa<FloatType>(typeOf(x).getElementType()))
    fail("operand must be a float tensor, got " +
         std::string(llvm::formatv("{0}", x.getType())));
  using Builder = std::function<Value(Value)>;
  auto make = [&](auto tag) -> Builder {
    using Op = decltype(tag);
    return [this](Value v) { return fold<Op>(v); };
  };
  Builder build = llvm::StringSwitch<Builder>(op)
                      .Case("Neg", make(NegOp()))
                      .Case("Exp", make(ExpOp()))
                      .Case("Log", make(LogOp()))
                      .Case("Sqrt", make(SqrtOp()))
                      .Case("Reciprocal", make(ReciprocalOp()))
                      .Case("Abs", make(AbsOp()))
                      .Case("Erf", make(ErfOp()))
                      .Case("Tanh", make(TanhOp()))
                      .Case("Sigmoid", make(SigmoidOp()))
                      .Case("Relu", make(ReluOp()))
                      .Case("Sin", make(SinOp()))
                      .Case("Cos", make(CosOp()));
  return build(x);
}

Value Importer::binary(const onnx::NodeProto &node) {
  StringRef op = node.op_type();
  if (op == "Where")
    return fold<WhereOp>(input(node, 0), input(node, 1), input(node, 2));
  Value lhs = input(node, 0), rhs = input(node, 1);
  if (typeOf(lhs).getElementType() != typeOf(rhs).getElementType())
    fail("operand element types differ");
  if (op == "Add")
    return fold<AddOp>(lhs, rhs);
  if (op == "Sub")
    return fold<SubOp>(lhs, rhs);
  if (op == "Mul")
    return fold<MulOp>(lhs, rhs);
  if (op == "Div")
    return fold<DivOp>(lhs, rhs);
  if (op == "Pow")
    return fold<PowOp>(lhs, rhs);
  if (op == "Equal")
    return fold<EqualOp>(lhs, rhs);
  if (op == "Less")
    return fold<LessOp>(lhs, rhs);
  if (op == "LessOrEqual")
    return fold<LessEqualOp>(lhs, rhs);
  if (op == "Greater")
    return fold<GreaterOp>(lhs, rhs);
  if (op == "GreaterOrEqual")
    return fold<GreaterEqualOp>(lhs, rhs);
  if (op == "And")
    return fold<AndOp>(lhs, rhs);
  if (op == "Or")
    return fold<OrOp>(lhs, rhs);
  return fold<XorOp>(lhs, rhs);
}

Value Importer::variadic(const onnx::NodeProto &node) {
  Value result = input(node, 0);
  for (int i = 1; i < node.input_size(); ++i) {
    Value next = input(node, i);
    if (node.op_type() == "Max")
      result = fold<MaxOp>(result, next);
    else if (node.op_type() == "Min")
      result = fold<MinOp>(result, next);
    else
      result = fold<AddOp>(result, next);
  }
  return result;
}

Value Importer::matmul(Value lhs, Value rhs) {
  // ONNX promotes 1-D operands to matrices and drops the added dim after.
  ArrayRef<int64_t> l = typeOf(lhs).getShape(), r = typeOf(rhs).getShape();
  if (l.empty() || r.empty())
    fail("MatMul operands must have rank 1 or more");
  bool vectorLhs = l.size() == 1, vectorRhs = r.size() == 1;
  if (vectorLhs)
    lhs = reshape(lhs, {1, l[0]});
  if (vectorRhs)
    rhs = reshape(rhs, {r[0], 1});
  ArrayRef<int64_t> l2 = typeOf(lhs).getShape(), r2 = typeOf(rhs).getShape();
  if (l2.back() != r2[r2.size() - 2])
    fail("MatMul contracting dims differ: " + Twine(l2.back()) + " and " +
         Twine(r2[r2.size() - 2]));
  Value product = fold<MatMulOp>(lhs, rhs);
  if (!vectorLhs && !vectorRhs)
    return product;
  SmallVector<int64_t> shape(typeOf(product).getShape());
  if (vectorRhs)
    shape.pop_back();
  if (vectorLhs)
    shape.erase(shape.end() - (vectorRhs ? 1 : 2));
  return reshape(product, shape);
}

Value Importer::gemm(const onnx::NodeProto &node) {
  Value a = input(node, 0), b = input(node, 1);
  if (typeOf(a).getRank() != 2 || typeOf(b).getRank() != 2)
    fail("Gemm operands must be matrices");
  if (intAttr(node, "transA", 0))
    a = fold<TransposeOp>(a, ArrayRef<int64_t>{1, 0});
  if (intAttr(node, "transB", 0))
    b = fold<TransposeOp>(b, ArrayRef<int64_t>{1, 0});
  Type type = typeOf(a).getElementType();
  Value result = fold<MatMulOp>(a, b);
  float alpha = floatAttr(node, "alpha", 1.0f);
  if (alpha != 1.0f)
    result = fold<MulOp>(result, scalar(alpha, type));
  if (Value c = optionalInput(node, 2)) {
    float beta = floatAttr(node, "beta", 1.0f);
    if (beta != 1.0f)
      c = fold<MulOp>(c, scalar(beta, type));
    result = fold<AddOp>(result, c);
  }
  return result;
}

Value Importer::softmax(const onnx::NodeProto &node) {
  Value x = input(node, 0);
  RankedTensorType type = typeOf(x);
  int64_t rank = type.getRank();
  if (opset >= 13) {
    int64_t axis = normalizeAxis(intAttr(node, "axis", -1), rank);
    return fold<SoftmaxOp>(x, axis);
  }
  // Before opset 13 the input is coerced to 2-D at `axis`: the softmax runs
  // over all trailing dims together.
  int64_t axis = normalizeAxis(intAttr(node, "axis", 1), rank);
  // When the dims after `axis` are all 1 (axis -1 above all), the 2-D
  // softmax is the one over `axis`: import it as such, so that it reads
  // like opset 13's (and attention fuses).
  if (llvm::all_of(type.getShape().drop_front(axis + 1),
                   [](int64_t d) { return d == 1; }))
    return fold<SoftmaxOp>(x, axis);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < axis ? outer : inner) *= type.getDimSize(d);
  Value flat = reshape(x, {outer, inner});
  return reshape(fold<SoftmaxOp>(flat, int64_t{1}), type.getShape());
}

Values Importer::layerNorm(const onnx::NodeProto &node) {
  Value x = input(node, 0);
  int64_t rank = typeOf(x).getRank();
  int64_t axis = normalizeAxis(intAttr(node, "axis", -1), rank);
  float epsilon = floatAttr(node, "epsilon", 1e-5f);
  Values results = {fold<LayerNormOp>(x, input(node, 1), optionalInput(node, 2),
                                      builder.getI64IntegerAttr(axis),
                                      builder.getF64FloatAttr(epsilon))};
  auto used = [&](int index) {
    return index < node.output_size() && !node.output(index).empty();
  };
  if (!used(1) && !used(2))
    return results;
  // Mean and InvStdDev keep the normalized dims as 1s; computed apart from
  // the fused op, which does not expose them. They have the stash type,
  // float32 unless stash_type says otherwise.
  SmallVector<int64_t> axes = llvm::to_vector(llvm::seq<int64_t>(axis, rank));
  Type type = elementType(intAttr(node, "stash_type", onnx::TensorProto::FLOAT),
                          "stash_type");
  if (typeOf(x).getElementType() != type)
    x = fold<CastOp>(RankedTensorType::get(typeOf(x).getShape(), type), x);
  Value mean = fold<ReduceMeanOp>(x, axes, true);
  Value centered = fold<SubOp>(x, mean);
  Value variance =
      fold<ReduceMeanOp>(fold<MulOp>(centered, centered), axes, true);
  Value invStdDev = fold<ReciprocalOp>(
      fold<SqrtOp>(fold<AddOp>(variance, scalar(epsilon, type))));
  results.push_back(mean);
  results.push_back(invStdDev);
  return results;
}

Values Importer::dropout(const onnx::NodeProto &node) {
  // Inference: the output is the input and the mask all true. Before opset
  // 12 the ratio is an attribute and there is no training mode.
  Value x = input(node, 0);
  if (opset >= 12) {
    if (std::optional<SmallVector<int64_t>> training =
            optionalConstantInts(node, 2);
        training && llvm::any_of(*training, [](int64_t t) { return t != 0; })) {
      Value ratio = optionalInput(node, 1);
      DenseElementsAttr value;
      bool zero = ratio && matchPattern(ratio, m_Constant(&value)) &&
                  isa<FloatType>(value.getElementType()) &&
                  llvm::all_of(value.getValues<APFloat>(),
                               [](const APFloat &r) { return r.isZero(); });
      if (!zero)
        fail("training mode with a nonzero ratio drops random elements; "
             "only inference (or a ratio of 0) is supported");
    }
  }
  Values results = {x};
  if (node.output_size() > 1 && !node.output(1).empty()) {
    auto type =
        RankedTensorType::get(typeOf(x).getShape(), builder.getI1Type());
    results.push_back(constant(DenseElementsAttr::get(type, true)));
  }
  return results;
}

Value Importer::reshapeNode(const onnx::NodeProto &node) {
  Value x = input(node, 0);
  RankedTensorType type = typeOf(x);
  SmallVector<int64_t> shape = constantInts(input(node, 1), "shape");
  bool allowZero = intAttr(node, "allowzero", 0) != 0;
  int64_t known = 1, inferred = -1;
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (d == 0 && !allowZero) {
      if (static_cast<int64_t>(i) >= type.getRank())
        fail("shape entry " + Twine(i) + " copies a dim the input lacks");
      d = type.getDimSize(i);
    }
    if (d == -1) {
      if (inferred >= 0)
        fail("shape has more than one -1");
      inferred = i;
      continue;
    }
    std::optional<int64_t> product = ::dsp::format::checkedMul(known, d);
    if (d < 0 || !product)
      fail("shape " + shapeString(shape) + " is not a valid shape");
    known = *product;
  }
  if (inferred >= 0) {
    if (known == 0 || type.getNumElements() % known != 0)
      fail("cannot infer the -1 dim of the new shape");
    shape[inferred] = type.getNumElements() / known;
  }
  std::optional<int64_t> count = ::dsp::format::checkedElementCount(shape);
  if (count != type.getNumElements())
    fail("cannot reshape " + Twine(type.getNumElements()) +
         " elements into shape " + shapeString(shape));
  return reshape(x, shape);
}

Value Importer::slice(const onnx::NodeProto &node) {
  Value x = input(node, 0);
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  int64_t rank = shape.size();
  SmallVector<int64_t> starts = constantInts(input(node, 1), "starts");
  SmallVector<int64_t> ends = constantInts(input(node, 2), "ends");
  SmallVector<int64_t> axes = optionalConstantInts(node, 3).value_or(
      llvm::to_vector(llvm::seq<int64_t>(0, starts.size())));
  SmallVector<int64_t> steps = optionalConstantInts(node, 4).value_or(
      SmallVector<int64_t>(starts.size(), 1));
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    fail("starts, ends, axes and steps must have the same length");
  SmallVector<int64_t> sliceStarts(rank, 0), limits(shape), strides(rank, 1);
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t axis = normalizeAxis(axes[i], rank), size = shape[axis];
    int64_t step = steps[i];
    if (step == 0)
      fail("step must not be 0");
    // Clamp as ONNX does: into [0, size] for positive steps and
    // [-1, size - 1] for negative ones.
    auto clamp = [&](int64_t v, int64_t lo, int64_t hi) {
      if (v < 0)
        v = v < std::numeric_limits<int64_t>::min() / 2 ? lo : v + size;
      return std::clamp(v, lo, hi);
    };
    int64_t start =
        step > 0 ? clamp(starts[i], 0, size) : clamp(starts[i], -1, size - 1);
    int64_t end =
        step > 0 ? clamp(ends[i], 0, size) : clamp(ends[i], -1, size - 1);
    if (step > 0 && end < start)
      end = start;
    if (step < 0 && end > start)
      end = start;
    sliceStarts[axis] = start;
    limits[axis] = end;
    strides[axis] = step;
  }
  return fold<SliceOp>(x, sliceStarts, limits, strides);
}

Values Importer::split(const onnx::NodeProto &node) {
  Value x = input(node, 0);
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  int64_t rank = shape.size();
  int64_t axis = normalizeAxis(intAttr(node, "axis", 0), rank);
  std::optional<SmallVector<int64_t>> sizes =
      opset >= 13 ? optionalConstantInts(node, 1) : intsAttr(node, "split");
  if (!sizes) {
    int64_t parts = node.output_size();
    if (opset >= 18 && attribute(node, "num_outputs"))
      parts = intAttr(node, "num_outputs", parts);
    if (parts < 1)
      fail("splits into " + Twine(parts) + " parts; at least 1 is needed");
    int64_t chunk = (shape[axis] + parts - 1) / parts;
    sizes.emplace();
    for (int64_t offset = 0; offset < shape[axis]; offset += chunk)
      sizes->push_back(std::min(chunk, shape[axis] - offset));
  }
  int64_t total = 0;
  for (int64_t s : *sizes) {
    std::optional<int64_t> sum = ::dsp::format::checkedAdd(total, s);
    if (s < 0 || !sum)
      fail("split sizes " + shapeString(*sizes) +
           " are not non-negative sizes");
    total = *sum;
  }
  if (total != shape[axis])
    fail("split sizes add up to " + Twine(total) + ", the axis has " +
         Twine(shape[axis]));
  Values results;
  int64_t offset = 0;
  for (int64_t size : *sizes) {
    SmallVector<int64_t> starts(rank, 0), limits(shape), strides(rank, 1);
    starts[axis] = offset;
    limits[axis] = offset + size;
    results.push_back(fold<SliceOp>(x, starts, limits, strides));
    offset += size;
  }
  return results;
}

Value Importer::squeeze(const onnx::NodeProto &node) {
  Value x = input(node, 0);
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  int64_t rank = shape.size();
  std::optional<SmallVector<int64_t>> squeezed = axes(node, 13, 1);
  SmallVector<int64_t> result;
  for (int64_t d = 0; d < rank; ++d) {
    bool drop = squeezed ? llvm::any_of(*squeezed,
                                        [&](int64_t a) {
                                          return normalizeAxis(a, rank) == d;
                                        })
                         : shape[d] == 1;
    if (drop && shape[d] != 1)
      fail("cannot squeeze dim " + Twine(d) + " of size " + Twine(shape[d]));
    if (!drop)
      result.push_back(shape[d]);
  }
  return reshape(x, result);
}

Value Importer::unsqueeze(const onnx::NodeProto &node) {
  Value x = input(node, 0);
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  std::optional<SmallVector<int64_t>> inserted = axes(node, 13, 1);
  if (!inserted)
    fail("needs axes");
  int64_t rank = shape.size() + inserted->size();
  SmallVector<bool> isNew(rank, false);
  for (int64_t a : *inserted) {
    int64_t axis = normalizeAxis(a, rank);
    if (isNew[axis])
      fail("axes repeat " + Twine(axis));
    isNew[axis] = true;
  }
  SmallVector<int64_t> result;
  const int64_t *next = shape.begin();
  for (int64_t d = 0; d < rank; ++d)
    result.push_back(isNew[d] ? 1 : *next++);
  return reshape(x, result);
}

Value Importer::flatten(const onnx::NodeProto &node) {
  Value x = input(node, 0);
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  int64_t rank = shape.size();
  int64_t axis = intAttr(node, "axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis > rank)
    fail("axis " + Twine(axis) + " is out of range");
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < axis ? outer : inner) *= shape[d];
  return reshape(x, {outer, inner});
}

Value Importer::expand(const onnx::NodeProto &node) {
  Value x = input(node, 0);
  SmallVector<int64_t> shape = constantInts(input(node, 1), "shape");
  auto broadcast = broadcastShapes(typeOf(x).getShape(), shape);
  if (failed(broadcast))
    fail("cannot expand the input to the given shape");
  auto type = RankedTensorType::get(*broadcast, typeOf(x).getElementType());
  return fold<ExpandOp>(type, x);
}

Value Importer::conv(const onnx::NodeProto &node) {
  Value x = input(node, 0), w = input(node, 1);
  int64_t spatial = typeOf(x).getRank() - 2;
  if (spatial < 1)
    fail("input must have at least one spatial dim");
  std::string autoPad = stringAttr(node, "auto_pad", "NOTSET");
  if (autoPad != "NOTSET" && autoPad != "VALID" && autoPad != "SAME_UPPER" &&
      autoPad != "SAME_LOWER")
    fail("auto_pad '" + autoPad + "' is not valid");
  SmallVector<int64_t> ones(spatial, 1);
  SmallVector<int64_t> strides = intsAttr(node, "strides").value_or(ones);
  SmallVector<int64_t> dilations = intsAttr(node, "dilations").value_or(ones);
  if (static_cast<int64_t>(strides.size()) != spatial ||
      static_cast<int64_t>(dilations.size()) != spatial)
    fail("strides and dilations need one value per spatial dim");
  if (llvm::any_of(strides, [](int64_t s) { return s < 1; }))
    fail("strides must be positive");
  SmallVector<int64_t> pads =
      autoPad == "NOTSET" ? intsAttr(node, "pads")
                                .value_or(SmallVector<int64_t>(2 * spatial, 0))
                          : SmallVector<int64_t>(2 * spatial, 0);
  if (typeOf(w).getRank() != typeOf(x).getRank())
    fail("the weight must have the input's rank");
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    // Pad so that each output dim is ceil(input / stride); the odd pad goes
    // at the end for SAME_UPPER and at the beginning for SAME_LOWER.
    ArrayRef<int64_t> in = typeOf(x).getShape().drop_front(2);
    ArrayRef<int64_t> kernel = typeOf(w).getShape().drop_front(2);
    using ::dsp::format::checkedAdd;
    using ::dsp::format::checkedMul;
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t out = in[i] / strides[i] + (in[i] % strides[i] != 0);
      std::optional<int64_t> span = checkedMul(out - 1, strides[i]);
      std::optional<int64_t> window =
          checkedMul(std::max<int64_t>(kernel[i] - 1, 0), dilations[i]);
      std::optional<int64_t> needed =
          span && window ? checkedAdd(*span, *window) : std::nullopt;
      if (!needed)
        fail("strides or dilations overflow spatial dim " + Twine(i));
      int64_t total = std::max<int64_t>(0, *needed + 1 - in[i]);
      int64_t small = total / 2, large = total - small;
      pads[i] = autoPad == "SAME_UPPER" ? small : large;
      pads[spatial + i] = autoPad == "SAME_UPPER" ? large : small;
    }
  }
  if (auto kernel = intsAttr(node, "kernel_shape"))
    if (ArrayRef<int64_t>(*kernel) != typeOf(w).getShape().drop_front(2))
      fail("kernel_shape differs from the weight's shape");
  return fold<ConvOp>(x, w, optionalInput(node, 2), strides, pads, dilations,
                      intAttr(node, "group", 1));
}

Value Importer::reduce(const onnx::NodeProto &node) {
  Value x = input(node, 0);
  int64_t rank = typeOf(x).getRank();
  StringRef op = node.op_type();
  // ReduceSum took axes as an input from opset 13, the others from 18.
  std::optional<SmallVector<int64_t>> given =
      axes(node, op == "ReduceSum" ? 13 : 18, 1);
  bool keepdims = intAttr(node, "keepdims", 1) != 0;
  SmallVector<int64_t> reduced;
  if (!given || given->empty()) {
    if (intAttr(node, "noop_with_empty_axes", 0))
      return x;
    reduced = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  } else {
    for (int64_t a : *given)
      reduced.push_back(normalizeAxis(a, rank));
    llvm::sort(reduced);
    reduced.erase(llvm::unique(reduced), reduced.end());
  }
  if (op == "ReduceMean")
    return fold<ReduceMeanOp>(x, reduced, keepdims);
  if (op == "ReduceSum")
    return fold<ReduceSumOp>(x, reduced, keepdims);
  return fold<ReduceMaxOp>(x, reduced, keepdims);
}

Value Importer::normalizeGroups(Value x, int64_t groups, float epsilon,
                                Value groupScale, Value groupBias) {
  // [N, C, D...] viewed as [N, groups, C / groups * D...]: a layer norm over
  // the last dim normalizes each group of channels over all its positions.
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  if (shape.size() < 3)
    fail("input must be [N, C, D...] with at least one spatial dim");
  if (groups < 1 || shape[1] % groups != 0)
    fail(Twine(shape[1]) + " channels do not split into " + Twine(groups) +
         " groups");
  // Not the element count over N * groups: N may be 0.
  int64_t size = shape[1] / groups;
  for (int64_t d : shape.drop_front(2))
    size *= d;
  Type type = typeOf(x).getElementType();
  Value ones = constant(DenseElementsAttr::get(
      RankedTensorType::get({size}, type), builder.getFloatAttr(type, 1.0)));
  Value normalized = fold<LayerNormOp>(
      reshape(x, {shape[0], groups, size}), ones, Value(),
      builder.getI64IntegerAttr(2), builder.getF64FloatAttr(epsilon));
  if (groupScale) {
    auto perGroup = [&](Value v, StringRef what) {
      if (typeOf(v).getShape() != ArrayRef<int64_t>{groups})
        fail(what + " must have one value per group (" + Twine(groups) + ")");
      return reshape(v, {groups, 1});
    };
    Value scale = perGroup(groupScale, "scale");
    Value bias = perGroup(groupBias, "bias");
    normalized = fold<AddOp>(fold<MulOp>(normalized, scale), bias);
  }
  return reshape(normalized, shape);
}

Value Importer::instanceNorm(const onnx::NodeProto &node) {
  Value x = input(node, 0);
  int64_t rank = typeOf(x).getRank();
  int64_t channels = rank > 1 ? typeOf(x).getDimSize(1) : 0;
  Value normalized =
      normalizeGroups(x, channels, floatAttr(node, "epsilon", 1e-5f), {}, {});
  // Scale and bias per channel, broadcast over [C, 1, ...].
  SmallVector<int64_t> perChannel(rank - 1, 1);
  perChannel[0] = channels;
  auto affine = [&](int index, StringRef what) {
    Value v = input(node, index);
    if (typeOf(v).getShape() != ArrayRef<int64_t>{channels})
      fail(what + " must have one value per channel (" + Twine(channels) + ")");
    return reshape(v, perChannel);
  };
  Value scale = affine(1, "scale");
  Value bias = affine(2, "bias");
  return fold<AddOp>(fold<MulOp>(normalized, scale), bias);
}

Value Importer::groupNorm(const onnx::NodeProto &node) {
  // Opset 18's GroupNormalization scales and shifts per group (opset 21
  // changed that to per channel).
  if (opset < 18)
    fail("GroupNormalization exists from opset 18");
  if (!attribute(node, "num_groups"))
    fail("num_groups is required");
  return normalizeGroups(input(node, 0), intAttr(node, "num_groups", 0),
                         floatAttr(node, "epsilon", 1e-5f), input(node, 1),
                         input(node, 2));
}

Value Importer::einsum(const onnx::NodeProto &node) {
  if (opset < 12)
    fail("Einsum exists from opset 12");
  std::string equation;
  for (char c : stringAttr(node, "equation", ""))
    if (c != ' ')
      equation.push_back(c);
  size_t arrow = equation.find("->");
  StringRef lhs = StringRef(equation).substr(0, arrow);
  SmallVector<StringRef> terms;
  lhs.split(terms, ',');
  if (static_cast<int>(terms.size()) != node.input_size())
    fail("equation '" + equation + "' has " + Twine(terms.size()) +
         " operand terms for " + Twine(node.input_size()) + " inputs");
  if (terms.size() > 2)
    fail("only one or two operands are supported");

  // Labels are letters; the dims an ellipsis covers get the characters
  // '0', '1', ... aligned to the right, as broadcasting aligns them.
  Values operands;
  SmallVector<std::string> labels;
  int64_t ellipsisRank = 0;
  for (auto [i, term] : llvm::enumerate(terms)) {
    operands.push_back(input(node, i));
    int64_t rank = typeOf(operands.back()).getRank();
    size_t dots = term.find("...");
    int64_t named = term.size() - (dots == StringRef::npos ? 0 : 3);
    if (dots != StringRef::npos)
      ellipsisRank = std::max(ellipsisRank, rank - named);
    StringRef named0 = term, named1;
    if (dots != StringRef::npos) {
      named0 = term.substr(0, dots);
      named1 = term.substr(dots + 3);
    }
    if (!llvm::all_of((named0 + named1).str(),
                      [](char c) { return llvm::isAlpha(c); }))
      fail("term '" + term + "' of equation '" + equation +
           "' must be letters and at most one ellipsis");
    if (named > rank || (dots == StringRef::npos && named != rank))
      fail("term '" + term + "' does not match operand " + Twine(i) +
           " of rank " + Twine(rank));
  }
  auto expand = [&](StringRef term, int64_t rank) {
    std::string result;
    size_t dots = term.find("...");
    if (dots == StringRef::npos)
      return term.str();
    int64_t covered = rank - (static_cast<int64_t>(term.size()) - 3);
    result = term.substr(0, dots).str();
    for (int64_t d = ellipsisRank - covered; d < ellipsisRank; ++d)
      result.push_back(static_cast<char>('0' + d));
    return result + term.substr(dots + 3).str();
  };
  if (ellipsisRank > 10)
    fail("an ellipsis may cover at most 10 dims");
  std::map<char, int64_t> sizes;
  std::map<char, int> uses;
  for (auto [i, term] : llvm::enumerate(terms)) {
    labels.push_back(expand(term, typeOf(operands[i]).getRank()));
    for (auto [d, label] : llvm::enumerate(labels.back())) {
      if (llvm::count(labels.back(), label) > 1)
        fail("repeated subscript '" + Twine(label) +
             "' in one operand "
             "(a diagonal) is not supported");
      ++uses[label];
      int64_t size = typeOf(operands[i]).getDimSize(d);
      auto [it, inserted] = sizes.try_emplace(label, size);
      if (!inserted && it->second != size) {
        if (it->second != 1 && size != 1)
          fail("subscript '" + Twine(label) + "' has sizes " +
               Twine(it->second) + " and " + Twine(size));
        it->second = std::max(it->second, size);
      }
    }
  }
  std::string output;
  if (arrow == std::string::npos) {
    // Implicit output: the ellipsis dims, then the labels used once, sorted.
    for (int64_t d = 0; d < ellipsisRank; ++d)
      output.push_back(static_cast<char>('0' + d));
    for (auto [label, count] : uses)
      if (count == 1 && llvm::isAlpha(label))
        output.push_back(label);
  } else {
    StringRef out = StringRef(equation).substr(arrow + 2);
    if (out.contains("...")) {
      output = out.substr(0, out.find("...")).str();
      for (int64_t d = 0; d < ellipsisRank; ++d)
        output.push_back(static_cast<char>('0' + d));
      output += out.substr(out.find("...") + 3).str();
    } else {
      output = out.str();
    }
  }
  for (char label : output)
    if (!uses.count(label) || llvm::count(output, label) > 1)
      fail("output subscript '" + Twine(label) +
           "' must appear once in the output and in an operand");
  auto sizeOf = [&](char label) { return sizes.at(label); };

  // Sums the labels only one operand has and the output lacks, and
  // broadcasts size-1 dims; returns the operand and its remaining labels.
  auto prepare = [&](Value value, std::string own, StringRef other) {
    SmallVector<int64_t> summed;
    std::string kept;
    for (auto [d, label] : llvm::enumerate(own)) {
      if (!StringRef(output).contains(label) && !other.contains(label))
        summed.push_back(d);
      else
        kept.push_back(label);
    }
    if (!summed.empty())
      value = fold<ReduceSumOp>(value, summed, /*keepdims=*/false);
    SmallVector<int64_t> full;
    for (char label : kept)
      full.push_back(sizeOf(label));
    if (ArrayRef<int64_t>(full) != typeOf(value).getShape())
      value = fold<ExpandOp>(
          RankedTensorType::get(full, typeOf(value).getElementType()), value);
    return std::make_pair(value, kept);
  };
  auto permute = [&](Value value, StringRef from, StringRef to) {
    SmallVector<int64_t> perm;
    for (char label : to)
      perm.push_back(from.find(label));
    return fold<TransposeOp>(value, perm);
  };

  if (operands.size() == 1) {
    auto [value, kept] = prepare(operands[0], labels[0], "");
    return permute(value, kept, output);
  }
  auto [a, aLabels] = prepare(operands[0], labels[0], labels[1]);
  auto [b, bLabels] = prepare(operands[1], labels[1], labels[0]);
  std::string batch, rows, cols, contracted;
  for (char label : output) {
    bool inA = StringRef(aLabels).contains(label);
    bool inB = StringRef(bLabels).contains(label);
    (inA && inB ? batch : inA ? rows : cols).push_back(label);
  }
  for (char label : aLabels)
    if (StringRef(bLabels).contains(label) &&
        !StringRef(output).contains(label))
      contracted.push_back(label);
  auto product = [&](StringRef group) {
    int64_t n = 1;
    for (char label : group)
      n *= sizeOf(label);
    return n;
  };
  SmallVector<int64_t> batchShape;
  for (char label : batch)
    batchShape.push_back(sizeOf(label));
  auto matrix = [&](Value value, StringRef from, StringRef first,
                    StringRef second) {
    Value permuted = permute(value, from, batch + first.str() + second.str());
    SmallVector<int64_t> shape(batchShape);
    shape.push_back(product(first));
    shape.push_back(product(second));
    return reshape(permuted, shape);
  };
  Value result = matmul(matrix(a, aLabels, rows, contracted),
                        matrix(b, bLabels, contracted, cols));
  SmallVector<int64_t> shape(batchShape);
  for (char label : rows + cols)
    shape.push_back(sizeOf(label));
  return permute(reshape(result, shape), batch + rows + cols, output);
}

Value Importer::scatterND(const onnx::NodeProto &node) {
  std::string reduction = stringAttr(node, "reduction", "none");
  if (reduction != "none" && reduction != "add")
    fail("reduction '" + reduction + "' is not supported (only none and add)");
  Value data = input(node, 0), updates = input(node, 2);
  ArrayRef<int64_t> shape = typeOf(data).getShape();
  ArrayRef<int64_t> indexShape = typeOf(input(node, 1)).getShape();
  SmallVector<int64_t> indices = constantInts(input(node, 1), "indices");
  if (indexShape.empty() || indexShape.back() < 1 ||
      indexShape.back() > static_cast<int64_t>(shape.size()))
    fail("indices must have a last dim between 1 and the data's rank");
  int64_t depth = indexShape.back();
  int64_t count = static_cast<int64_t>(indices.size()) / depth;
  SmallVector<int64_t> prefix(shape.take_front(depth));
  SmallVector<int64_t> rowShape{count};
  rowShape.append(shape.begin() + depth, shape.end());
  if (typeOf(updates).getNumElements() != llvm::product_of(rowShape) ||
      typeOf(updates).getElementType() != typeOf(data).getElementType())
    fail("updates must have the shape indices.shape[:-1] + data.shape[" +
         Twine(depth) + ":] and the data's element type");
  SmallVector<int64_t> lows(depth, std::numeric_limits<int64_t>::max());
  SmallVector<int64_t> highs(depth, std::numeric_limits<int64_t>::min());
  SmallVector<int64_t> targets; // the flat prefix position of each update
  for (int64_t n = 0; n < count; ++n) {
    int64_t flat = 0;
    for (int64_t d = 0; d < depth; ++d) {
      int64_t &index = indices[n * depth + d];
      if (index < -shape[d] || index >= shape[d])
        fail("index " + Twine(index) + " is out of range for dim " + Twine(d) +
             " of size " + Twine(shape[d]));
      if (index < 0)
        index += shape[d];
      lows[d] = std::min(lows[d], index);
      highs[d] = std::max(highs[d], index + 1);
      flat = flat * shape[d] + index;
    }
    targets.push_back(flat);
  }
  SmallVector<int64_t> box;
  for (int64_t d = 0; d < depth; ++d)
    box.push_back(highs[d] - lows[d]);
  // A slice assignment (`x[a:b, c:d] = u`, the updates filling one box of
  // the data in row-major order) becomes slices and concats, which shard
  // like the data; other scatters are gathers with constant indices.
  bool isBox =
      reduction == "none" && count > 0 && count == llvm::product_of(box);
  SmallVector<int64_t> position(lows);
  for (int64_t n = 0; isBox && n < count; ++n) {
    for (int64_t d = 0; d < depth; ++d)
      isBox &= indices[n * depth + d] == position[d];
    for (int64_t d = depth - 1; d >= 0; --d) {
      if (++position[d] < highs[d])
        break;
      position[d] = lows[d];
    }
  }
  if (!isBox)
    return scatterRows(data, updates, targets, reduction == "add");

  SmallVector<int64_t> blockShape(box);
  blockShape.append(shape.begin() + depth, shape.end());
  Value block = reshape(updates, blockShape);
  // Replaces the block dim by dim: along dim d, the data before and after
  // the block's range surround the data of the range with the inner dims
  // replaced.
  std::function<Value(Value, int64_t)> insert = [&](Value into,
                                                    int64_t d) -> Value {
    if (d == depth)
      return block;
    ArrayRef<int64_t> dims = typeOf(into).getShape();
    auto part = [&](int64_t low, int64_t high) {
      SmallVector<int64_t> starts(dims.size(), 0), limits(dims);
      SmallVector<int64_t> strides(dims.size(), 1);
      starts[d] = low;
      limits[d] = high;
      return fold<SliceOp>(into, starts, limits, strides);
    };
    Values pieces;
    if (lows[d] > 0)
      pieces.push_back(part(0, lows[d]));
    pieces.push_back(insert(part(lows[d], highs[d]), d + 1));
    if (highs[d] < dims[d])
      pieces.push_back(part(highs[d], dims[d]));
    return pieces.size() == 1 ? pieces[0] : fold<ConcatOp>(pieces, d);
  };
  return insert(data, 0);
}

Value Importer::scatterRows(Value data, Value updates,
                            ArrayRef<int64_t> targets, bool accumulate) {
  // Rows are the data's elements at one prefix position (the dims the
  // indices address); each update is one row.
  ArrayRef<int64_t> shape = typeOf(data).getShape();
  int64_t count = targets.size();
  int64_t rowSize =
      typeOf(updates).getNumElements() / std::max<int64_t>(count, 1);
  int64_t rows = typeOf(data).getNumElements() / std::max<int64_t>(rowSize, 1);
  Type elementType = typeOf(data).getElementType();
  Value data2d = reshape(data, {rows, rowSize});
  Value updates2d = reshape(updates, {count, rowSize});
  Value result;
  if (accumulate) {
    // Duplicates add up: data + onehot[rows, count] . updates.
    if (rows * count > (1 << 22))
      fail("a scatter-add of " + Twine(count) + " updates into " + Twine(rows) +
           " rows is too large to import");
    SmallVector<float> onehot(rows * count, 0.0f);
    for (auto [n, row] : llvm::enumerate(targets))
      onehot[row * count + n] += 1.0f;
    auto type = RankedTensorType::get({rows, count}, builder.getF32Type());
    Value weights = constant(DenseElementsAttr::get(type, ArrayRef(onehot)));
    if (elementType != builder.getF32Type())
      weights = fold<CastOp>(RankedTensorType::get({rows, count}, elementType),
                             weights);
    result = fold<AddOp>(data2d, fold<MatMulOp>(weights, updates2d));
  } else {
    // The last update of a row wins, as in the ONNX reference.
    SmallVector<int64_t> source(rows, 0);
    SmallVector<bool> written(rows, false);
    for (auto [n, row] : llvm::enumerate(targets)) {
      source[row] = n;
      written[row] = true;
    }
    Value index = constant(DenseElementsAttr::get(
        RankedTensorType::get({rows}, builder.getI64Type()), ArrayRef(source)));
    Value mask = constant(DenseElementsAttr::get(
        RankedTensorType::get({rows, 1}, builder.getI1Type()),
        ArrayRef(written)));
    result = fold<WhereOp>(mask, fold<GatherOp>(updates2d, index, 0), data2d);
  }
  return reshape(result, shape);
}

Value Importer::constantNode(const onnx::NodeProto &node) {
  if (node.attribute_size() != 1)
    fail("must have exactly one value attribute");
  const onnx::AttributeProto &attr = node.attribute(0);
  StringRef name = attr.name();
  if (name == "value") {
    onnx::TensorProto tensor = attr.t();
    return constant(tensorAttr(tensor, /*allowBlob=*/false));
  }
  if (name == "value_float")
    return scalar(attr.f(), builder.getF32Type());
  if (name == "value_int")
    return constant(
        DenseElementsAttr::get(RankedTensorType::get({}, builder.getI64Type()),
                               builder.getI64IntegerAttr(attr.i())));
  if (name == "value_floats") {
    SmallVector<float> data(attr.floats().begin(), attr.floats().end());
    return constant(DenseElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(data.size())},
                              builder.getF32Type()),
        ArrayRef<float>(data)));
  }
  if (name == "value_ints") {
    SmallVector<int64_t> data(attr.ints().begin(), attr.ints().end());
    return constant(DenseElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(data.size())},
                              builder.getI64Type()),
        ArrayRef<int64_t>(data)));
  }
  fail("value attribute '" + name + "' is not supported");
}

Value Importer::constantOfShape(const onnx::NodeProto &node) {
  SmallVector<int64_t> shape = constantInts(input(node, 0), "shape");
  ElementsAttr value;
  if (const auto *attr = attribute(node, "value")) {
    onnx::TensorProto tensor = attr->t();
    value = tensorAttr(tensor, /*allowBlob=*/false);
  } else {
    value = DenseElementsAttr::get(
        RankedTensorType::get({1}, builder.getF32Type()), 0.0f);
  }
  auto dense = cast<DenseElementsAttr>(value);
  auto type = RankedTensorType::get(shape, dense.getElementType());
  return constant(
      DenseElementsAttr::get(type, dense.getSplatValue<Attribute>()));
}

Value Importer::shapeNode(const onnx::NodeProto &node) {
  ArrayRef<int64_t> shape = typeOf(input(node, 0)).getShape();
  int64_t rank = shape.size();
  // Shape's start and end (opset 15) clamp like Slice.
  auto clampIndex = [&](int64_t v) {
    return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank);
  };
  int64_t start = clampIndex(intAttr(node, "start", 0));
  int64_t end = clampIndex(intAttr(node, "end", rank));
  SmallVector<int64_t> dims(shape.begin() + start,
                            shape.begin() + std::max(start, end));
  return constant(DenseElementsAttr::get(
      RankedTensorType::get({static_cast<int64_t>(dims.size())},
                            builder.getI64Type()),
      ArrayRef<int64_t>(dims)));
}

Value Importer::castNode(const onnx::NodeProto &node) {
  Value x = input(node, 0);
  Type to = elementType(intAttr(node, "to", 0), "the Cast target");
  return fold<CastOp>(RankedTensorType::get(typeOf(x).getShape(), to), x);
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
