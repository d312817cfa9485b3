//===- ImportContext.h - What the ONNX op converters share ------*- C++ -*-===//
//
// The importer maps each node through one table from ONNX op type to
// converter. The converters live by op family in ConvertElementwise.cpp,
// ConvertShape.cpp and ConvertNN.cpp, each with the function that registers
// them; they build dsp ops through the ImportContext, which holds the builder,
// the opset and the values defined so far. A converter reports a bad node by
// `fail`, which throws; the importer prefixes the node and reports it once.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_LIB_IMPORT_IMPORTCONTEXT_H
#define DSP_LIB_IMPORT_IMPORTCONTEXT_H

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Import/OnnxImporter.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "llvm/ADT/StringMap.h"

#include "onnx/onnx_pb.h"

#include <functional>
#include <memory>

namespace llvm {
class MemoryBuffer;
} // namespace llvm

namespace mlir::dsp::onnx_import {

using Values = SmallVector<Value>;

/// The error of one node, reported once at the importer's boundary.
struct ImportError {
  std::string message;
};

[[noreturn]] inline void fail(const Twine &message) {
  throw ImportError{message.str()};
}

/// "[2,3,4]", for messages.
std::string shapeString(ArrayRef<int64_t> shape);

inline RankedTensorType typeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// Fails unless `type` has non-negative dims and at most kMaxElements
/// elements, so that no size computed from it can overflow.
void checkSize(RankedTensorType type, const Twine &what);

/// The element types an operand may have.
enum class ElementKind { Float, Numeric, Bool, Integer };

/// Fails unless the element type of `value` is of `kind`, naming `what`:
/// an op that takes some element types refuses the others here, before any
/// dsp op sees them.
void requireElementType(Value value, const Twine &what, ElementKind kind);

/// The values of a constant integer tensor; fails naming `what` otherwise.
SmallVector<int64_t> constantInts(Value value, StringRef what);

/// The values of `value` where it is a constant, for an op the importer
/// computes itself (NonZero, integer ReduceSum); null where it is not.
/// Fails for a constant of more elements than the dialect's folders take.
DenseElementsAttr computableConstant(Value value);

int64_t normalizeAxis(int64_t axis, int64_t rank);

// Attributes of a node; absent ones read as the default.
const onnx::AttributeProto *attribute(const onnx::NodeProto &node,
                                      StringRef name);
int64_t intAttr(const onnx::NodeProto &node, StringRef name,
                int64_t defaultValue);
float floatAttr(const onnx::NodeProto &node, StringRef name,
                float defaultValue);
std::string stringAttr(const onnx::NodeProto &node, StringRef name,
                       StringRef defaultValue);
std::optional<SmallVector<int64_t>> intsAttr(const onnx::NodeProto &node,
                                             StringRef name);

class ImportContext {
public:
  ImportContext(MLIRContext &context, StringRef path,
                const OnnxImportOptions &options)
      : context(context), builder(&context), path(path.str()),
        options(options) {}

  // Inputs of a node.
  Value input(const onnx::NodeProto &node, int index);
  Value optionalInput(const onnx::NodeProto &node, int index);
  std::optional<SmallVector<int64_t>>
  optionalConstantInts(const onnx::NodeProto &node, int index);
  /// Axes given as attribute before `inputSince` and as input from then on.
  std::optional<SmallVector<int64_t>> axes(const onnx::NodeProto &node,
                                           int64_t inputSince, int inputIndex);

  // Types and tensors.
  Type elementType(int32_t onnxType, StringRef what);
  /// The value of an initializer or Constant tensor; `external`, if given,
  /// is set to where the bytes lie when they come from an external file.
  ElementsAttr tensorAttr(onnx::TensorProto &tensor, bool allowBlob,
                          ExternalDataAttr *external = nullptr);
  Value constant(ElementsAttr value) {
    return ConstantOp::create(builder, location, value);
  }
  Value scalar(float value, Type elementType) {
    auto type = RankedTensorType::get({}, elementType);
    return constant(
        DenseElementsAttr::get(type, builder.getFloatAttr(elementType, value)));
  }

  // Op builders.
  /// Builds `Op`, checks it and folds it. Result types are inferred before
  /// the op exists and the op is verified before any folder sees it, so an
  /// operand or attribute the op rejects is this node's import error, never
  /// an assertion in a generated builder.
  template <typename Op, typename... Args> Value fold(Args &&...args) {
    OperationState state(location, Op::getOperationName());
    std::string diagnostics;
    ScopedDiagnosticHandler capture(&context, [&](Diagnostic &diagnostic) {
      if (diagnostic.getSeverity() == DiagnosticSeverity::Error)
        diagnostics += (diagnostics.empty() ? "" : "; ") + diagnostic.str();
      return success();
    });
    auto reject = [&](StringRef what) {
      fail(diagnostics.empty() ? what.str() : diagnostics);
    };
    if constexpr (Op::template hasTrait<InferTypeOpInterface::Trait>() &&
                  llvm::is_detected<BuildWithResultTypes, Op, Args...>::value) {
      Op::build(builder, state, TypeRange(), std::forward<Args>(args)...);
      SmallVector<Type> types;
      if (failed(Op::inferReturnTypes(&context, location, state.operands,
                                      state.attributes.getDictionary(&context),
                                      state.getRawProperties(), state.regions,
                                      types)))
        reject("its operands and attributes do not fit " +
               Op::getOperationName().str());
      state.addTypes(types);
    } else {
      Op::build(builder, state, std::forward<Args>(args)...);
    }
    for (Type type : state.types)
      checkSize(cast<RankedTensorType>(type), "the result");
    Operation *op = builder.create(state);
    if (failed(verify(op, /*verifyRecursively=*/false))) {
      op->erase();
      reject("the " + Op::getOperationName().str() + " it maps to is invalid");
    }
    SmallVector<Value> folded;
    if (succeeded(builder.tryFold(op, folded)) && !folded.empty()) {
      op->erase();
      return folded.front();
    }
    return op->getResult(0);
  }
  template <typename Op, typename... Args>
  using BuildWithResultTypes =
      decltype(Op::build(std::declval<OpBuilder &>(),
                         std::declval<OperationState &>(),
                         std::declval<TypeRange>(), std::declval<Args>()...));
  Value reshape(Value value, ArrayRef<int64_t> shape) {
    auto type = RankedTensorType::get(shape, typeOf(value).getElementType());
    return fold<ReshapeOp>(type, value);
  }

  MLIRContext &context;
  OpBuilder builder;
  /// The node or initializer being imported.
  Location location = UnknownLoc::get(&context);
  int64_t opset = 0;

protected:
  /// The mapped external data file of `tensor` and the offset of its
  /// `bytes` bytes in it.
  std::pair<std::shared_ptr<llvm::MemoryBuffer>, uint64_t>
  externalData(const onnx::TensorProto &tensor, const std::string &what,
               uint64_t bytes);

  std::string path;
  const OnnxImportOptions &options;
  llvm::StringMap<Value> values;
  /// Keeps the external data files mapped while the module references them.
  llvm::StringMap<std::shared_ptr<llvm::MemoryBuffer>> externalFiles;
};

/// Converts one node into the values of its outputs, in order.
using Converter =
    std::function<Values(ImportContext &, const onnx::NodeProto &)>;

/// The converter of each supported ONNX op type. The first `floatInputs`
/// inputs of an op, where given, must be float tensors.
class ConverterTable {
public:
  void add(StringRef opType,
           Values (*convert)(ImportContext &, const onnx::NodeProto &),
           int floatInputs = 0);
  /// A converter of an op with one output.
  void add(StringRef opType,
           Value (*convert)(ImportContext &, const onnx::NodeProto &),
           int floatInputs = 0);
  /// Null for an op type no family converts.
  const Converter *lookup(StringRef opType) const;

private:
  void insert(StringRef opType, Converter convert, int floatInputs);

  llvm::StringMap<Converter> converters;
};

void registerElementwiseConverters(ConverterTable &table);
void registerShapeConverters(ConverterTable &table);
void registerNNConverters(ConverterTable &table);

} // namespace mlir::dsp::onnx_import

#endif // DSP_LIB_IMPORT_IMPORTCONTEXT_H
