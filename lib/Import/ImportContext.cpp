//===- ImportContext.cpp - What the ONNX op converters share --------------===//
//
// Reading a node's inputs and attributes, and the table of converters. The
// tensors (initializers and their external data) are read in
// OnnxImporter.cpp.
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"
#include "dsp/Format/Checked.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/FormatVariadic.h"

#include <cassert>

using namespace mlir;
using namespace mlir::dsp;
using namespace mlir::dsp::onnx_import;

std::string onnx_import::shapeString(ArrayRef<int64_t> shape) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "[";
  llvm::interleave(shape, os, ",");
  os << "]";
  return text;
}

void onnx_import::checkSize(RankedTensorType type, const Twine &what) {
  if (!::dsp::format::checkedElementCount(type.getShape()))
    fail(what + " would have shape " + shapeString(type.getShape()) +
         ", more than 2^48 elements or a negative dim");
}

void onnx_import::requireElementType(Value value, const Twine &what,
                                     ElementKind kind) {
  Type type = typeOf(value).getElementType();
  bool isBool = type.isInteger(1), isInteger = type.isInteger() && !isBool;
  bool isFloat = isa<FloatType>(type);
  const char *expected = nullptr;
  switch (kind) {
  case ElementKind::Float:
    expected = isFloat ? nullptr : "a float";
    break;
  case ElementKind::Numeric:
    expected = isFloat || isInteger ? nullptr : "a float or integer";
    break;
  case ElementKind::Bool:
    expected = isBool ? nullptr : "a bool";
    break;
  case ElementKind::Integer:
    expected = isInteger ? nullptr : "an integer";
    break;
  }
  if (expected)
    fail(what + " must be " + expected + " tensor, got " +
         std::string(llvm::formatv("{0}", value.getType())));
}

SmallVector<int64_t> onnx_import::constantInts(Value value, StringRef what) {
  // Large int64 initializers (index tensors) are kept as blobs.
  ElementsAttr elements;
  if (matchPattern(value, m_Constant(&elements)))
    if (auto blob = dyn_cast<DenseI64ResourceElementsAttr>(elements))
      if (std::optional<ArrayRef<int64_t>> data = blob.tryGetAsArrayRef())
        return SmallVector<int64_t>(*data);
  DenseElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) ||
      !attr.getElementType().isInteger())
    fail(what + " must be a constant integer tensor once shapes are static");
  // A splat stores one element whatever its shape: read out, a splat of a
  // huge shape would take any amount of memory.
  constexpr int64_t kMaxReadElements = int64_t(1) << 24;
  if (attr.getNumElements() > kMaxReadElements)
    fail(what + " has " + Twine(attr.getNumElements()) +
         " elements, more than the " + Twine(kMaxReadElements) +
         " a constant integer input may have");
  SmallVector<int64_t> result;
  for (const APInt &v : attr.getValues<APInt>())
    result.push_back(v.getSExtValue());
  return result;
}

DenseElementsAttr onnx_import::computableConstant(Value value) {
  // The dialect's folders stop at this many elements too.
  constexpr int64_t kMaxComputedElements = 1 << 16;
  DenseElementsAttr values;
  if (!matchPattern(value, m_Constant(&values)))
    return nullptr;
  if (values.getNumElements() > kMaxComputedElements)
    fail("a constant input of " + Twine(values.getNumElements()) +
         " elements is more than the " + Twine(kMaxComputedElements) +
         " computed on while the model is read");
  return values;
}

int64_t onnx_import::normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    fail("axis " + Twine(axis) + " is out of range for rank " + Twine(rank));
  return axis < 0 ? axis + rank : axis;
}

const onnx::AttributeProto *onnx_import::attribute(const onnx::NodeProto &node,
                                                   StringRef name) {
  for (const auto &attr : node.attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

int64_t onnx_import::intAttr(const onnx::NodeProto &node, StringRef name,
                             int64_t defaultValue) {
  const auto *attr = attribute(node, name);
  return attr ? attr->i() : defaultValue;
}

float onnx_import::floatAttr(const onnx::NodeProto &node, StringRef name,
                             float defaultValue) {
  const auto *attr = attribute(node, name);
  return attr ? attr->f() : defaultValue;
}

std::string onnx_import::stringAttr(const onnx::NodeProto &node, StringRef name,
                                    StringRef defaultValue) {
  const auto *attr = attribute(node, name);
  return attr ? attr->s() : defaultValue.str();
}

std::optional<SmallVector<int64_t>>
onnx_import::intsAttr(const onnx::NodeProto &node, StringRef name) {
  const auto *attr = attribute(node, name);
  if (!attr)
    return std::nullopt;
  return SmallVector<int64_t>(attr->ints().begin(), attr->ints().end());
}

Value ImportContext::input(const onnx::NodeProto &node, int index) {
  Value value = optionalInput(node, index);
  if (!value)
    fail("input " + Twine(index) + " is missing");
  return value;
}

Value ImportContext::optionalInput(const onnx::NodeProto &node, int index) {
  if (index >= node.input_size() || node.input(index).empty())
    return nullptr;
  auto it = values.find(node.input(index));
  if (it == values.end())
    fail("input '" + node.input(index) + "' is not defined before use");
  return it->second;
}

std::optional<SmallVector<int64_t>>
ImportContext::optionalConstantInts(const onnx::NodeProto &node, int index) {
  Value value = optionalInput(node, index);
  if (!value)
    return std::nullopt;
  return constantInts(value, "input " + std::to_string(index));
}

std::optional<SmallVector<int64_t>>
ImportContext::axes(const onnx::NodeProto &node, int64_t inputSince,
                    int inputIndex) {
  if (opset >= inputSince) {
    if (attribute(node, "axes"))
      fail("takes axes as an input from opset " + Twine(inputSince) +
           ", not as an attribute");
    return optionalConstantInts(node, inputIndex);
  }
  return intsAttr(node, "axes");
}

void ConverterTable::add(StringRef opType,
                         Values (*convert)(ImportContext &,
                                           const onnx::NodeProto &),
                         int floatInputs) {
  insert(opType, convert, floatInputs);
}

void ConverterTable::add(StringRef opType,
                         Value (*convert)(ImportContext &,
                                          const onnx::NodeProto &),
                         int floatInputs) {
  insert(
      opType,
      [convert](ImportContext &context, const onnx::NodeProto &node) -> Values {
        return {convert(context, node)};
      },
      floatInputs);
}

void ConverterTable::insert(StringRef opType, Converter convert,
                            int floatInputs) {
  if (floatInputs > 0)
    convert = [convert = std::move(convert),
               floatInputs](ImportContext &context,
                            const onnx::NodeProto &node) -> Values {
      for (int i = 0; i < floatInputs; ++i)
        if (Value value = context.optionalInput(node, i))
          requireElementType(value, "input " + Twine(i), ElementKind::Float);
      return convert(context, node);
    };
  bool added = converters.try_emplace(opType, std::move(convert)).second;
  assert(added && "an op type has one converter");
  (void)added;
}

const Converter *ConverterTable::lookup(StringRef opType) const {
  auto it = converters.find(opType);
  return it == converters.end() ? nullptr : &it->second;
}
