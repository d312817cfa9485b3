//===- ConvertElementwise.cpp - Elementwise ONNX ops ----------------------===//
//
// Unary and binary arithmetic, comparisons, logic, Where, the variadic
// Max, Min and Sum, and Cast.
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::dsp;
using namespace mlir::dsp::onnx_import;

/// An elementwise function of a float tensor.
template <typename Op>
static Value convertFloatUnary(ImportContext &ctx,
                               const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  if (!isa<FloatType>(typeOf(x).getElementType()))
    fail("operand must be a float tensor, got " +
         std::string(llvm::formatv("{0}", x.getType())));
  return ctx.fold<Op>(x);
}

static Value convertIsNaN(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  return ctx.fold<IsNaNOp>(
      RankedTensorType::get(typeOf(x).getShape(), ctx.builder.getI1Type()), x);
}

static Value convertNot(ImportContext &ctx, const onnx::NodeProto &node) {
  return ctx.fold<NotOp>(ctx.input(node, 0));
}

/// Arithmetic, comparison and logic on two operands of one element type.
template <typename Op>
static Value convertBinary(ImportContext &ctx, const onnx::NodeProto &node) {
  Value lhs = ctx.input(node, 0), rhs = ctx.input(node, 1);
  if (typeOf(lhs).getElementType() != typeOf(rhs).getElementType())
    fail("operand element types differ");
  return ctx.fold<Op>(lhs, rhs);
}

static Value convertWhere(ImportContext &ctx, const onnx::NodeProto &node) {
  return ctx.fold<WhereOp>(ctx.input(node, 0), ctx.input(node, 1),
                           ctx.input(node, 2));
}

/// Max, Min and Sum of any number of inputs, two at a time.
template <typename Op>
static Value convertVariadic(ImportContext &ctx, const onnx::NodeProto &node) {
  Value result = ctx.input(node, 0);
  for (int i = 1; i < node.input_size(); ++i)
    result = ctx.fold<Op>(result, ctx.input(node, i));
  return result;
}

static Value convertCast(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  Type to = ctx.elementType(intAttr(node, "to", 0), "the Cast target");
  return ctx.fold<CastOp>(RankedTensorType::get(typeOf(x).getShape(), to), x);
}

void onnx_import::registerElementwiseConverters(ConverterTable &table) {
  table.add("IsNaN", convertIsNaN);
  table.add("Not", convertNot);
  table.add("Where", convertWhere);
  table.add("Cast", convertCast);

  table.add("Neg", convertFloatUnary<NegOp>);
  table.add("Exp", convertFloatUnary<ExpOp>);
  table.add("Log", convertFloatUnary<LogOp>);
  table.add("Sqrt", convertFloatUnary<SqrtOp>);
  table.add("Reciprocal", convertFloatUnary<ReciprocalOp>);
  table.add("Abs", convertFloatUnary<AbsOp>);
  table.add("Erf", convertFloatUnary<ErfOp>);
  table.add("Tanh", convertFloatUnary<TanhOp>);
  table.add("Sigmoid", convertFloatUnary<SigmoidOp>);
  table.add("Relu", convertFloatUnary<ReluOp>);
  table.add("Sin", convertFloatUnary<SinOp>);
  table.add("Cos", convertFloatUnary<CosOp>);

  table.add("Add", convertBinary<AddOp>);
  table.add("Sub", convertBinary<SubOp>);
  table.add("Mul", convertBinary<MulOp>);
  table.add("Div", convertBinary<DivOp>);
  table.add("Pow", convertBinary<PowOp>);
  table.add("Equal", convertBinary<EqualOp>);
  table.add("Less", convertBinary<LessOp>);
  table.add("LessOrEqual", convertBinary<LessEqualOp>);
  table.add("Greater", convertBinary<GreaterOp>);
  table.add("GreaterOrEqual", convertBinary<GreaterEqualOp>);
  table.add("And", convertBinary<AndOp>);
  table.add("Or", convertBinary<OrOp>);
  table.add("Xor", convertBinary<XorOp>);

  table.add("Max", convertVariadic<MaxOp>);
  table.add("Min", convertVariadic<MinOp>);
  table.add("Sum", convertVariadic<AddOp>);
}
