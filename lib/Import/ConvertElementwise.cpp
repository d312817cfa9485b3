//===- ConvertElementwise.cpp - Elementwise ONNX ops ----------------------===//
//
// Unary and binary arithmetic, comparisons, logic, Where, the variadic
// Max, Min and Sum, and Cast.
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"

using namespace mlir;
using namespace mlir::dsp;
using namespace mlir::dsp::onnx_import;

/// An elementwise function of a float tensor (the table checks the type).
template <typename Op>
static Value convertFloatUnary(ImportContext &ctx,
                               const onnx::NodeProto &node) {
  return ctx.fold<Op>(ctx.input(node, 0));
}

/// Opset 20's Gelu: the erf form, or the tanh approximation.
static Value convertGelu(ImportContext &ctx, const onnx::NodeProto &node) {
  if (ctx.opset < 20)
    fail("Gelu exists from opset 20");
  std::string approximate = stringAttr(node, "approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    fail("approximate '" + approximate + "' is not one of none and tanh");
  return ctx.fold<GeluOp>(ctx.input(node, 0),
                          ctx.builder.getStringAttr(approximate));
}

/// Integers are negated as 0 - x, which folds in index computations.
static Value convertNeg(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  requireElementType(x, "input 0", ElementKind::Numeric);
  Type type = typeOf(x).getElementType();
  if (isa<FloatType>(type))
    return ctx.fold<NegOp>(x);
  Value zero = ctx.constant(DenseElementsAttr::get(
      RankedTensorType::get({}, type), ctx.builder.getIntegerAttr(type, 0)));
  return ctx.fold<SubOp>(zero, x);
}

static Value convertIsNaN(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  return ctx.fold<IsNaNOp>(
      RankedTensorType::get(typeOf(x).getShape(), ctx.builder.getI1Type()), x);
}

static Value convertNot(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  requireElementType(x, "input 0", ElementKind::Bool);
  return ctx.fold<NotOp>(x);
}

/// Arithmetic, comparison and logic on two operands of one element type,
/// of `Kind`.
template <typename Op, ElementKind Kind>
static Value convertBinary(ImportContext &ctx, const onnx::NodeProto &node) {
  Value lhs = ctx.input(node, 0), rhs = ctx.input(node, 1);
  requireElementType(lhs, "input 0", Kind);
  if (typeOf(lhs).getElementType() != typeOf(rhs).getElementType())
    fail("operand element types differ");
  return ctx.fold<Op>(lhs, rhs);
}

/// Mod: integers take `fmod` 0 (the sign of the divisor) or 1 (the sign of
/// the dividend); floats need `fmod` 1, as ONNX defines.
static Value convertMod(ImportContext &ctx, const onnx::NodeProto &node) {
  Value lhs = ctx.input(node, 0), rhs = ctx.input(node, 1);
  requireElementType(lhs, "input 0", ElementKind::Numeric);
  if (typeOf(lhs).getElementType() != typeOf(rhs).getElementType())
    fail("operand element types differ");
  int64_t fmod = intAttr(node, "fmod", 0);
  if (fmod != 0 && fmod != 1)
    fail("fmod must be 0 or 1, got " + Twine(fmod));
  if (fmod == 0 && isa<FloatType>(typeOf(lhs).getElementType()))
    fail("float operands need fmod = 1");
  return ctx.fold<ModOp>(lhs, rhs, fmod == 1);
}

/// Equal also compares bools, as the negation of their xor.
static Value convertEqual(ImportContext &ctx, const onnx::NodeProto &node) {
  Value lhs = ctx.input(node, 0), rhs = ctx.input(node, 1);
  if (typeOf(lhs).getElementType().isInteger(1) &&
      typeOf(rhs).getElementType().isInteger(1))
    return ctx.fold<NotOp>(ctx.fold<XorOp>(lhs, rhs));
  return convertBinary<EqualOp, ElementKind::Numeric>(ctx, node);
}

static Value convertWhere(ImportContext &ctx, const onnx::NodeProto &node) {
  Value condition = ctx.input(node, 0);
  requireElementType(condition, "input 0", ElementKind::Bool);
  Value x = ctx.input(node, 1), y = ctx.input(node, 2);
  if (typeOf(x).getElementType() != typeOf(y).getElementType())
    fail("operand element types differ");
  return ctx.fold<WhereOp>(condition, x, y);
}

/// Max, Min and Sum of any number of inputs, two at a time.
template <typename Op>
static Value convertVariadic(ImportContext &ctx, const onnx::NodeProto &node) {
  Value result = ctx.input(node, 0);
  requireElementType(result, "input 0", ElementKind::Numeric);
  for (int i = 1; i < node.input_size(); ++i) {
    Value next = ctx.input(node, i);
    if (typeOf(next).getElementType() != typeOf(result).getElementType())
      fail("operand element types differ");
    result = ctx.fold<Op>(result, next);
  }
  return result;
}

static Value convertCast(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  Type to = ctx.elementType(intAttr(node, "to", 0), "the Cast target");
  return ctx.fold<CastOp>(RankedTensorType::get(typeOf(x).getShape(), to), x);
}

void onnx_import::registerElementwiseConverters(ConverterTable &table) {
  table.add("IsNaN", convertIsNaN, 1);
  table.add("Not", convertNot);
  table.add("Where", convertWhere);
  table.add("Cast", convertCast);

  table.add("Neg", convertNeg);
  table.add("Exp", convertFloatUnary<ExpOp>, 1);
  table.add("Gelu", convertGelu, 1);
  table.add("Log", convertFloatUnary<LogOp>, 1);
  table.add("Sqrt", convertFloatUnary<SqrtOp>, 1);
  table.add("Reciprocal", convertFloatUnary<ReciprocalOp>, 1);
  table.add("Abs", convertFloatUnary<AbsOp>, 1);
  table.add("Erf", convertFloatUnary<ErfOp>, 1);
  table.add("Tanh", convertFloatUnary<TanhOp>, 1);
  table.add("Sigmoid", convertFloatUnary<SigmoidOp>, 1);
  table.add("Relu", convertFloatUnary<ReluOp>, 1);
  table.add("Sin", convertFloatUnary<SinOp>, 1);
  table.add("Cos", convertFloatUnary<CosOp>, 1);

  constexpr ElementKind numeric = ElementKind::Numeric;
  table.add("Add", convertBinary<AddOp, numeric>);
  table.add("Sub", convertBinary<SubOp, numeric>);
  table.add("Mul", convertBinary<MulOp, numeric>);
  table.add("Div", convertBinary<DivOp, numeric>);
  table.add("Pow", convertBinary<PowOp, numeric>);
  table.add("Mod", convertMod);
  table.add("Equal", convertEqual);
  table.add("Less", convertBinary<LessOp, numeric>);
  table.add("LessOrEqual", convertBinary<LessEqualOp, numeric>);
  table.add("Greater", convertBinary<GreaterOp, numeric>);
  table.add("GreaterOrEqual", convertBinary<GreaterEqualOp, numeric>);
  table.add("And", convertBinary<AndOp, ElementKind::Bool>);
  table.add("Or", convertBinary<OrOp, ElementKind::Bool>);
  table.add("Xor", convertBinary<XorOp, ElementKind::Bool>);

  table.add("Max", convertVariadic<MaxOp>);
  table.add("Min", convertVariadic<MinOp>);
  table.add("Sum", convertVariadic<AddOp>);
}
