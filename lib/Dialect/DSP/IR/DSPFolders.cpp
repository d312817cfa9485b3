//===- DSPFolders.cpp - dsp folders and canonicalization patterns ---------===//
//
// The folders evaluate ops on small constants, which is how the shape
// computations of exported models (Shape -> Gather -> Concat -> Reshape)
// disappear once every shape is static.
//
//===----------------------------------------------------------------------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Format/Checked.h"
#include "dsp/Format/Padding.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

using namespace mlir;
using namespace mlir::dsp;

namespace {
/// Constants larger than this stay ops: folding them would copy weights.
constexpr int64_t kMaxFoldElements = 1 << 16;

DenseElementsAttr foldable(Attribute attr) {
  auto dense = dyn_cast_if_present<DenseElementsAttr>(attr);
  if (!dense || dense.getNumElements() > kMaxFoldElements)
    return nullptr;
  return dense;
}

SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// Calls `visit` with each index of `type`, in row-major order.
void forEachIndex(RankedTensorType type,
                  function_ref<void(ArrayRef<int64_t>)> visit) {
  SmallVector<int64_t> index(type.getRank(), 0);
  for (int64_t n = 0; n < type.getNumElements(); ++n) {
    visit(index);
    for (int64_t d = type.getRank() - 1; d >= 0; --d) {
      if (++index[d] < type.getDimSize(d))
        break;
      index[d] = 0;
    }
  }
}

/// Builds a constant of `type` whose element at each result index is the
/// input element at `sourceIndex(resultIndex)` (a flat index), or `fill`
/// where that is negative.
DenseElementsAttr
mapElements(DenseElementsAttr input, RankedTensorType type,
            function_ref<int64_t(ArrayRef<int64_t>)> sourceIndex,
            Attribute fill = {}) {
  if (type.getNumElements() > kMaxFoldElements)
    return nullptr;
  if (input.isSplat() && (!fill || fill == input.getSplatValue<Attribute>()))
    return DenseElementsAttr::get(type, input.getSplatValue<Attribute>());
  SmallVector<Attribute> source(input.getValues<Attribute>());
  SmallVector<Attribute> result;
  result.reserve(type.getNumElements());
  forEachIndex(type, [&](ArrayRef<int64_t> index) {
    int64_t flat = sourceIndex(index);
    result.push_back(flat < 0 ? fill : source[flat]);
  });
  return DenseElementsAttr::get(type, result);
}

/// A weight (a resource constant, `value`) rearranged into `type` the way
/// mapElements does, when that moves the weight rather than copying it:
/// every op that reads it is a transpose or slice, which fold alike, and
/// the weight goes once none reads it. A transposed weight is then stored
/// transposed instead of being transposed by every run.
Attribute mapWeight(Attribute attr, Value value, RankedTensorType type,
                    function_ref<int64_t(ArrayRef<int64_t>)> sourceIndex) {
  auto resource = dyn_cast_if_present<DenseResourceElementsAttr>(attr);
  AsmResourceBlob *blob =
      resource ? resource.getRawHandle().getBlob() : nullptr;
  Type elementType = type.getElementType();
  if (!blob || !elementType.isIntOrFloat() ||
      elementType.getIntOrFloatBitWidth() % 8 != 0 ||
      !llvm::all_of(value.getUsers(), [](Operation *user) {
        return isa<TransposeOp, SliceOp>(user);
      }))
    return nullptr;
  const size_t elementBytes = elementType.getIntOrFloatBitWidth() / 8;
  // A blob that does not fill its type stays, for the program writer to
  // report.
  ArrayRef<char> source = blob->getData();
  if (source.size() !=
      static_cast<size_t>(
          cast<RankedTensorType>(value.getType()).getNumElements()) *
          elementBytes)
    return nullptr;
  AsmResourceBlob result = HeapAsmResourceBlob::allocate(
      type.getNumElements() * elementBytes, blob->getDataAlignment());
  char *out = result.getMutableData().data();
  forEachIndex(type, [&](ArrayRef<int64_t> index) {
    std::memcpy(out, source.data() + sourceIndex(index) * elementBytes,
                elementBytes);
    out += elementBytes;
  });
  return DenseResourceElementsAttr::get(type, resource.getRawHandle().getKey(),
                                        std::move(result));
}

/// Flat index into `shape` of the element that broadcasts to `index` of a
/// larger shape.
int64_t broadcastSource(ArrayRef<int64_t> index, ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides = rowMajorStrides(shape);
  size_t offset = index.size() - shape.size();
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] != 1)
      flat += index[d + offset] * strides[d];
  return flat;
}

bool isSplatOf(Attribute attr, double value) {
  auto dense = dyn_cast_if_present<DenseElementsAttr>(attr);
  if (!dense || !dense.isSplat())
    return false;
  Type elementType = dense.getElementType();
  if (isa<FloatType>(elementType))
    return dense.getSplatValue<APFloat>().convertToDouble() == value;
  if (elementType.isInteger(1))
    return false;
  return dense.getSplatValue<APInt>().getSExtValue() ==
         static_cast<int64_t>(value);
}

/// The elements of a constant as doubles, int64s or bools.
template <typename T> SmallVector<T> elementsAs(DenseElementsAttr attr) {
  SmallVector<T> result;
  result.reserve(attr.getNumElements());
  Type elementType = attr.getElementType();
  if (isa<FloatType>(elementType)) {
    for (const APFloat &v : attr.getValues<APFloat>())
      result.push_back(static_cast<T>(v.convertToDouble()));
  } else if (elementType.isInteger(1)) {
    for (bool v : attr.getValues<bool>())
      result.push_back(static_cast<T>(v));
  } else {
    for (const APInt &v : attr.getValues<APInt>())
      result.push_back(static_cast<T>(v.getSExtValue()));
  }
  return result;
}

/// A constant of `type` from doubles or int64s (converted to the element
/// type; integers wrap to the element width).
template <typename T>
DenseElementsAttr fromValues(RankedTensorType type, ArrayRef<T> values) {
  Type elementType = type.getElementType();
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    SmallVector<APFloat> result;
    for (T v : values) {
      bool lost;
      if constexpr (std::is_floating_point_v<T>) {
        APFloat f(v);
        f.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                  &lost);
        result.push_back(f);
      } else {
        APFloat f(floatType.getFloatSemantics());
        f.convertFromAPInt(APInt(64, v, /*isSigned=*/true), /*IsSigned=*/true,
                           APFloat::rmNearestTiesToEven);
        result.push_back(f);
      }
    }
    return DenseElementsAttr::get(type, result);
  }
  if (elementType.isInteger(1)) {
    SmallVector<bool> result;
    for (T v : values)
      result.push_back(v != 0);
    return DenseElementsAttr::get(type, result);
  }
  SmallVector<APInt> result;
  for (T v : values) {
    // As the runtime casts: NaN to 0, beyond the range saturated.
    int64_t integer;
    if constexpr (std::is_floating_point_v<T>)
      integer = ::dsp::format::saturatingToInt64(v);
    else
      integer = v;
    result.push_back(APInt(elementType.getIntOrFloatBitWidth(), integer,
                           /*isSigned=*/true, /*implicitTrunc=*/true));
  }
  return DenseElementsAttr::get(type, result);
}

/// Two's complement arithmetic on int64 (wrapping, as the runtime does);
/// plain arithmetic on doubles.
template <typename T> T add(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  else
    return a + b;
}
template <typename T> T sub(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
  else
    return a - b;
}
template <typename T> T mul(T a, T b) {
  if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
  else
    return a * b;
}

template <typename T, typename Fn>
OpFoldResult evaluateElementwise(RankedTensorType type,
                                 ArrayRef<DenseElementsAttr> operands, Fn fn) {
  SmallVector<SmallVector<T>> values;
  SmallVector<ArrayRef<int64_t>> shapes;
  for (DenseElementsAttr dense : operands) {
    values.push_back(elementsAs<T>(dense));
    shapes.push_back(dense.getType().getShape());
  }
  SmallVector<T> result;
  SmallVector<T> arguments(operands.size());
  SmallVector<int64_t> index(type.getRank(), 0);
  for (int64_t n = 0; n < type.getNumElements(); ++n) {
    for (size_t i = 0; i < operands.size(); ++i)
      arguments[i] = values[i][broadcastSource(index, shapes[i])];
    result.push_back(static_cast<T>(fn(ArrayRef<T>(arguments))));
    for (int64_t d = type.getRank() - 1; d >= 0; --d) {
      if (++index[d] < type.getDimSize(d))
        break;
      index[d] = 0;
    }
  }
  return fromValues<T>(type, result);
}

/// Evaluates an elementwise op over broadcast constant operands. `fn` is
/// called with the operands of one element as an ArrayRef<double> when an
/// operand is a float, and as an ArrayRef<int64_t> otherwise, so that
/// integers are computed exactly as int64.
template <typename Fn>
OpFoldResult foldElementwise(Operation *op, ArrayRef<Attribute> operands,
                             Fn fn) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  if (type.getNumElements() > kMaxFoldElements)
    return {};
  SmallVector<DenseElementsAttr> dense;
  bool floating = false;
  for (Attribute attr : operands) {
    DenseElementsAttr operand = foldable(attr);
    if (!operand)
      return {};
    Type elementType = operand.getElementType();
    if (!elementType.isF32() && !elementType.isInteger())
      return {};
    floating |= elementType.isF32();
    dense.push_back(operand);
  }
  if (floating)
    return evaluateElementwise<double>(type, dense, fn);
  return evaluateElementwise<int64_t>(type, dense, fn);
}

bool isIntegerOp(Operation *op) {
  return getElementTypeOrSelf(op->getOperand(0).getType()).isInteger();
}
} // namespace

//===----------------------------------------------------------------------===//
// Folders
//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getOutput().getType())
    return getInput();
  return foldElementwise(*this, adaptor.getOperands(), [&](auto v) {
    using T = typename decltype(v)::value_type;
    // Float to integer truncates toward zero.
    return getOutput().getType().getElementType().isInteger(1)
               ? static_cast<T>(v[0] != 0)
               : v[0];
  });
}

/// Float unary ops evaluate in double and round to the element type once.
template <typename Fn>
static OpFoldResult foldUnary(Operation *op, Attribute input, Fn fn) {
  return foldElementwise(op, {input}, [&](auto v) {
    using T = typename decltype(v)::value_type;
    return static_cast<T>(fn(static_cast<double>(v[0])));
  });
}

static double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  return foldUnary(*this, adaptor.getInput(), [](double x) { return -x; });
}
OpFoldResult ExpOp::fold(FoldAdaptor adaptor) {
  return foldUnary(*this, adaptor.getInput(),
                   [](double x) { return std::exp(x); });
}
OpFoldResult LogOp::fold(FoldAdaptor adaptor) {
  return foldUnary(*this, adaptor.getInput(),
                   [](double x) { return std::log(x); });
}
OpFoldResult SqrtOp::fold(FoldAdaptor adaptor) {
  return foldUnary(*this, adaptor.getInput(),
                   [](double x) { return std::sqrt(x); });
}
OpFoldResult ReciprocalOp::fold(FoldAdaptor adaptor) {
  return foldUnary(*this, adaptor.getInput(), [](double x) { return 1.0 / x; });
}
OpFoldResult AbsOp::fold(FoldAdaptor adaptor) {
  return foldUnary(*this, adaptor.getInput(),
                   [](double x) { return std::fabs(x); });
}
OpFoldResult ErfOp::fold(FoldAdaptor adaptor) {
  return foldUnary(*this, adaptor.getInput(),
                   [](double x) { return std::erf(x); });
}
OpFoldResult TanhOp::fold(FoldAdaptor adaptor) {
  return foldUnary(*this, adaptor.getInput(),
                   [](double x) { return std::tanh(x); });
}
OpFoldResult SigmoidOp::fold(FoldAdaptor adaptor) {
  return foldUnary(*this, adaptor.getInput(), sigmoid);
}
OpFoldResult ReluOp::fold(FoldAdaptor adaptor) {
  return foldUnary(*this, adaptor.getInput(),
                   [](double x) { return x > 0 ? x : 0.0; });
}
OpFoldResult SinOp::fold(FoldAdaptor adaptor) {
  return foldUnary(*this, adaptor.getInput(),
                   [](double x) { return std::sin(x); });
}
OpFoldResult CosOp::fold(FoldAdaptor adaptor) {
  return foldUnary(*this, adaptor.getInput(),
                   [](double x) { return std::cos(x); });
}
OpFoldResult SiluOp::fold(FoldAdaptor adaptor) {
  return foldUnary(*this, adaptor.getInput(),
                   [](double x) { return x * sigmoid(x); });
}
OpFoldResult GeluOp::fold(FoldAdaptor adaptor) {
  bool tanhForm = getApproximate() == "tanh";
  return foldUnary(*this, adaptor.getInput(), [tanhForm](double x) {
    if (tanhForm)
      return 0.5 * x *
             (1.0 +
              std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  });
}

/// `x op c` is `x` when `c` is a splat identity that does not broadcast `x`.
static OpFoldResult foldIdentity(Operation *op, Attribute rhs,
                                 double identity) {
  if (op->getOperand(0).getType() == op->getResult(0).getType() &&
      isSplatOf(rhs, identity))
    return op->getOperand(0);
  return {};
}

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult x = foldIdentity(*this, adaptor.getRhs(), 0))
    return x;
  return foldElementwise(*this, adaptor.getOperands(),
                         [](auto v) { return add(v[0], v[1]); });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult x = foldIdentity(*this, adaptor.getRhs(), 0))
    return x;
  return foldElementwise(*this, adaptor.getOperands(),
                         [](auto v) { return sub(v[0], v[1]); });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult x = foldIdentity(*this, adaptor.getRhs(), 1))
    return x;
  return foldElementwise(*this, adaptor.getOperands(),
                         [](auto v) { return mul(v[0], v[1]); });
}

/// Whether an integer division or remainder by `rhs` is left to run time:
/// `rhs` is not a constant that folds, or it holds a zero.
static bool keepsIntegerDivision(Operation *op, Attribute rhs) {
  if (!isIntegerOp(op))
    return false;
  DenseElementsAttr divisor = foldable(rhs);
  return !divisor || llvm::is_contained(elementsAs<int64_t>(divisor), 0);
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult x = foldIdentity(*this, adaptor.getRhs(), 1))
    return x;
  if (keepsIntegerDivision(*this, adaptor.getRhs()))
    return {};
  return foldElementwise(*this, adaptor.getOperands(), [](auto v) {
    using T = typename decltype(v)::value_type;
    // Integer division truncates toward zero;
    // INT64_MIN / -1 wraps.
    if constexpr (std::is_integral_v<T>)
      return v[1] == -1 ? sub<T>(0, v[0]) : v[0] / v[1];
    else
      return v[0] / v[1];
  });
}

OpFoldResult ModOp::fold(FoldAdaptor adaptor) {
  if (keepsIntegerDivision(*this, adaptor.getRhs()))
    return {};
  bool fmod = getFmod();
  return foldElementwise(*this, adaptor.getOperands(), [fmod](auto v) {
    using T = typename decltype(v)::value_type;
    T remainder;
    // INT64_MIN % -1 overflows; every remainder by -1 is 0.
    if constexpr (std::is_integral_v<T>)
      remainder = v[1] == -1 ? 0 : v[0] % v[1];
    else
      remainder = std::fmod(v[0], v[1]);
    // The floored remainder takes the sign of the divisor.
    if (!fmod && remainder != 0 && (remainder < 0) != (v[1] < 0))
      remainder += v[1];
    return remainder;
  });
}

OpFoldResult PowOp::fold(FoldAdaptor adaptor) {
  // A negative integer exponent has no integer result; leave it to run time.
  if (isIntegerOp(*this)) {
    auto rhs = foldable(adaptor.getRhs());
    if (!rhs ||
        llvm::any_of(elementsAs<int64_t>(rhs), [](int64_t e) { return e < 0; }))
      return {};
  }
  return foldElementwise(*this, adaptor.getOperands(), [](auto v) {
    using T = typename decltype(v)::value_type;
    if constexpr (std::is_integral_v<T>) {
      T result = 1, base = v[0];
      for (T e = v[1]; e > 0; e >>= 1) {
        if (e & 1)
          result = mul(result, base);
        base = mul(base, base);
      }
      return result;
    } else {
      return std::pow(v[0], v[1]);
    }
  });
}

OpFoldResult MaxOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(*this, adaptor.getOperands(),
                         [](auto v) { return std::max(v[0], v[1]); });
}

OpFoldResult MinOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(*this, adaptor.getOperands(),
                         [](auto v) { return std::min(v[0], v[1]); });
}

OpFoldResult EqualOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(*this, adaptor.getOperands(),
                         [](auto v) { return v[0] == v[1]; });
}

OpFoldResult LessOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(*this, adaptor.getOperands(),
                         [](auto v) { return v[0] < v[1]; });
}

OpFoldResult LessEqualOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(*this, adaptor.getOperands(),
                         [](auto v) { return v[0] <= v[1]; });
}

OpFoldResult GreaterOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(*this, adaptor.getOperands(),
                         [](auto v) { return v[0] > v[1]; });
}

OpFoldResult GreaterEqualOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(*this, adaptor.getOperands(),
                         [](auto v) { return v[0] >= v[1]; });
}

OpFoldResult AndOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(*this, adaptor.getOperands(),
                         [](auto v) { return v[0] != 0 && v[1] != 0; });
}

OpFoldResult OrOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(*this, adaptor.getOperands(),
                         [](auto v) { return v[0] != 0 || v[1] != 0; });
}

OpFoldResult XorOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(*this, adaptor.getOperands(),
                         [](auto v) { return ((v[0] != 0) != (v[1] != 0)); });
}

OpFoldResult WhereOp::fold(FoldAdaptor adaptor) {
  auto condition =
      dyn_cast_if_present<DenseElementsAttr>(adaptor.getCondition());
  if (condition && condition.isSplat()) {
    Value chosen =
        condition.getSplatValue<bool>() ? getTrueValue() : getFalseValue();
    if (chosen.getType() == getOutput().getType())
      return chosen;
  }
  return foldElementwise(*this, adaptor.getOperands(),
                         [](auto v) { return v[0] != 0 ? v[1] : v[2]; });
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getOutput().getType())
    return getInput();
  if (DenseElementsAttr input = foldable(adaptor.getInput()))
    return input.reshape(getOutput().getType());
  return {};
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPerm();
  if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
    return getInput();
  SmallVector<int64_t> strides =
      rowMajorStrides(getInput().getType().getShape());
  auto sourceIndex = [&](ArrayRef<int64_t> index) {
    int64_t flat = 0;
    for (size_t d = 0; d < perm.size(); ++d)
      flat += index[d] * strides[perm[d]];
    return flat;
  };
  if (DenseElementsAttr input = foldable(adaptor.getInput()))
    return mapElements(input, getOutput().getType(), sourceIndex);
  return mapWeight(adaptor.getInput(), getInput(), getOutput().getType(),
                   sourceIndex);
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1)
    return getInputs().front();
  SmallVector<DenseElementsAttr> inputs;
  for (Attribute attr : adaptor.getInputs()) {
    DenseElementsAttr dense = foldable(attr);
    if (!dense)
      return {};
    inputs.push_back(dense);
  }
  auto type = getOutput().getType();
  int64_t axis = getAxis();
  if (type.getNumElements() > kMaxFoldElements)
    return {};
  SmallVector<Attribute> result;
  SmallVector<SmallVector<Attribute>> sources;
  for (DenseElementsAttr input : inputs)
    sources.emplace_back(input.getValues<Attribute>());
  // Walk the result as [outer, axis, inner] blocks.
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= type.getDimSize(d);
  for (int64_t d = axis + 1; d < type.getRank(); ++d)
    inner *= type.getDimSize(d);
  for (int64_t o = 0; o < outer; ++o)
    for (auto [input, source] : llvm::zip(inputs, sources)) {
      int64_t block = input.getType().getDimSize(axis) * inner;
      for (int64_t i = 0; i < block; ++i)
        result.push_back(source[o * block + i]);
    }
  return DenseElementsAttr::get(type, result);
}

/// The input of `concat` that holds the range [start, limit) of the concat
/// axis, and that input's offset along it; a null value if the range spans
/// several inputs.
static std::pair<Value, int64_t>
concatInputHolding(ConcatOp concat, int64_t start, int64_t limit) {
  int64_t axis = concat.getAxis(), offset = 0;
  for (Value input : concat.getInputs()) {
    int64_t size = cast<RankedTensorType>(input.getType()).getDimSize(axis);
    if (offset <= start && limit <= offset + size)
      return {input, offset};
    offset += size;
  }
  return {Value(), 0};
}

/// Rewrites slice(slice(x)) in place into one slice of x: element i of a
/// dim is x's element start1 + (start2 + i * stride2) * stride1.
static void composeWithProducer(SliceOp op, SliceOp producer) {
  SmallVector<int64_t> starts, limits, strides;
  for (auto [d, count] : llvm::enumerate(op.getType().getShape())) {
    // No product overflows: each names an element of x, or the stride
    // between two of them.
    int64_t start = 0, stride = 1;
    if (count > 0)
      start = producer.getStarts()[d] +
              op.getStarts()[d] * producer.getStrides()[d];
    if (count > 1)
      stride = producer.getStrides()[d] * op.getStrides()[d];
    starts.push_back(start);
    strides.push_back(stride);
    limits.push_back(count == 0 ? start
                                : start + (count - 1) * stride +
                                      (stride > 0 ? 1 : -1));
  }
  op.getInputMutable().assign(producer.getInput());
  op.setStarts(starts);
  op.setLimits(limits);
  op.setStrides(strides);
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  bool updated = false;
  if (auto producer = getInput().getDefiningOp<SliceOp>()) {
    composeWithProducer(*this, producer);
    updated = true;
  }
  // A slice that stays within one input of a concat reads that input; the
  // slice is rewritten in place and folds away below if it is then whole.
  if (auto concat = getInput().getDefiningOp<ConcatOp>()) {
    int64_t axis = concat.getAxis();
    SmallVector<int64_t> starts(getStarts()), limits(getLimits());
    auto [input, offset] =
        getStrides()[axis] == 1
            ? concatInputHolding(concat, starts[axis], limits[axis])
            : std::pair<Value, int64_t>();
    if (input) {
      starts[axis] -= offset;
      limits[axis] -= offset;
      getInputMutable().assign(input);
      setStarts(starts);
      setLimits(limits);
      updated = true;
    }
  }
  if (getInput().getType() == getOutput().getType() &&
      llvm::all_of(getStrides(), [](int64_t s) { return s == 1; }))
    return getInput();
  // The adaptor still holds the attribute of the former input.
  if (updated)
    return getOutput();
  SmallVector<int64_t> strides =
      rowMajorStrides(getInput().getType().getShape());
  auto sourceIndex = [&](ArrayRef<int64_t> index) {
    int64_t flat = 0;
    for (size_t d = 0; d < index.size(); ++d)
      flat += (getStarts()[d] + index[d] * getStrides()[d]) * strides[d];
    return flat;
  };
  if (DenseElementsAttr input = foldable(adaptor.getInput()))
    return mapElements(input, getOutput().getType(), sourceIndex);
  return mapWeight(adaptor.getInput(), getInput(), getOutput().getType(),
                   sourceIndex);
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  DenseElementsAttr data = foldable(adaptor.getData());
  DenseElementsAttr indices = foldable(adaptor.getIndices());
  if (!data || !indices)
    return {};
  auto dataType = getData().getType();
  int64_t axis = getAxis(), axisSize = dataType.getDimSize(axis);
  SmallVector<int64_t> positions = elementsAs<int64_t>(indices);
  for (int64_t &p : positions) {
    if (p < -axisSize || p >= axisSize)
      return {};
    if (p < 0)
      p += axisSize;
  }
  SmallVector<int64_t> dataStrides = rowMajorStrides(dataType.getShape());
  SmallVector<int64_t> indexStrides =
      rowMajorStrides(getIndices().getType().getShape());
  int64_t indexRank = getIndices().getType().getRank();
  return mapElements(data, getOutput().getType(), [&](ArrayRef<int64_t> index) {
    int64_t flat = 0, position = 0;
    for (int64_t d = 0; d < axis; ++d)
      flat += index[d] * dataStrides[d];
    for (int64_t d = 0; d < indexRank; ++d)
      position += index[axis + d] * indexStrides[d];
    flat += positions[position] * dataStrides[axis];
    for (int64_t d = axis + 1; d < dataType.getRank(); ++d)
      flat += index[d + indexRank - 1] * dataStrides[d];
    return flat;
  });
}

OpFoldResult ExpandOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getOutput().getType())
    return getInput();
  DenseElementsAttr input = foldable(adaptor.getInput());
  if (!input)
    return {};
  ArrayRef<int64_t> shape = getInput().getType().getShape();
  return mapElements(
      input, getOutput().getType(),
      [&](ArrayRef<int64_t> index) { return broadcastSource(index, shape); });
}

OpFoldResult TileOp::fold(FoldAdaptor adaptor) {
  if (llvm::all_of(getRepeats(), [](int64_t r) { return r == 1; }))
    return getInput();
  DenseElementsAttr input = foldable(adaptor.getInput());
  if (!input)
    return {};
  ArrayRef<int64_t> shape = getInput().getType().getShape();
  SmallVector<int64_t> strides = rowMajorStrides(shape);
  return mapElements(input, getOutput().getType(),
                     [&](ArrayRef<int64_t> index) {
                       int64_t flat = 0;
                       for (size_t d = 0; d < shape.size(); ++d)
                         flat += (index[d] % shape[d]) * strides[d];
                       return flat;
                     });
}

OpFoldResult PadOp::fold(FoldAdaptor adaptor) {
  if (llvm::all_of(getPads(), [](int64_t p) { return p == 0; }))
    return getInput();
  DenseElementsAttr input = foldable(adaptor.getInput());
  if (!input)
    return {};
  Type elementType = getInput().getType().getElementType();
  Attribute fill = Builder(getContext()).getZeroAttr(elementType);
  if (getValue()) {
    DenseElementsAttr value = foldable(adaptor.getValue());
    if (!value)
      return {};
    fill = value.getSplatValue<Attribute>();
  }
  ::dsp::format::PadMode mode = *::dsp::format::parsePadMode(getMode());
  ArrayRef<int64_t> shape = getInput().getType().getShape();
  ArrayRef<int64_t> pads = getPads();
  SmallVector<int64_t> strides = rowMajorStrides(shape);
  return mapElements(
      input, getOutput().getType(),
      [&](ArrayRef<int64_t> index) -> int64_t {
        int64_t flat = 0;
        for (size_t d = 0; d < shape.size(); ++d) {
          int64_t source =
              ::dsp::format::padSourceIndex(index[d], pads[d], shape[d], mode);
          if (source < 0)
            return -1;
          flat += source * strides[d];
        }
        return flat;
      },
      fill);
}

OpFoldResult ScatterElementsOp::fold(FoldAdaptor adaptor) {
  DenseElementsAttr data = foldable(adaptor.getData());
  DenseElementsAttr indices = foldable(adaptor.getIndices());
  DenseElementsAttr updates = foldable(adaptor.getUpdates());
  if (!data || !indices || !updates)
    return {};
  auto type = getData().getType();
  int64_t axis = getAxis(), axisSize = type.getDimSize(axis);
  SmallVector<int64_t> strides = rowMajorStrides(type.getShape());
  ArrayRef<int64_t> indexShape = getIndices().getType().getShape();
  SmallVector<int64_t> positions = elementsAs<int64_t>(indices);
  // Each update's flat position in the data; an index out of range is
  // left to run time, where it is reported.
  SmallVector<int64_t> targets;
  SmallVector<int64_t> index(indexShape.size(), 0);
  for (int64_t position : positions) {
    if (position < -axisSize || position >= axisSize)
      return {};
    int64_t flat = 0;
    for (size_t d = 0; d < index.size(); ++d)
      flat += (static_cast<int64_t>(d) == axis
                   ? (position < 0 ? position + axisSize : position)
                   : index[d]) *
              strides[d];
    targets.push_back(flat);
    for (int64_t d = static_cast<int64_t>(index.size()) - 1; d >= 0; --d) {
      if (++index[d] < indexShape[d])
        break;
      index[d] = 0;
    }
  }
  bool accumulate = getReduction() == "add";
  auto scatter = [&](auto values, auto updateValues) {
    for (auto [target, update] : llvm::zip(targets, updateValues))
      values[target] = accumulate ? add(values[target], update) : update;
    return fromValues(type, ArrayRef(values));
  };
  if (isa<FloatType>(type.getElementType()))
    return scatter(elementsAs<double>(data), elementsAs<double>(updates));
  return scatter(elementsAs<int64_t>(data), elementsAs<int64_t>(updates));
}

//===----------------------------------------------------------------------===//
// Canonicalization patterns
//===----------------------------------------------------------------------===//

namespace {
/// reshape(reshape(x)) -> reshape(x).
struct ComposeReshapes : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto producer = op.getInput().getDefiningOp<ReshapeOp>();
    if (!producer)
      return failure();
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(),
                                           producer.getInput());
    return success();
  }
};

/// transpose(transpose(x)) -> transpose(x) with the composed permutation.
struct ComposeTransposes : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto producer = op.getInput().getDefiningOp<TransposeOp>();
    if (!producer)
      return failure();
    SmallVector<int64_t> perm;
    for (int64_t p : op.getPerm())
      perm.push_back(producer.getPerm()[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, producer.getInput(), perm);
    return success();
  }
};

/// The longest chain of reshapes and transposes searched for a round trip.
constexpr int kMaxViewChain = 8;

/// Whether the reshapes and transposes `ops`, applied in order to a tensor
/// of `shape`, leave every element where it was. The dims are tracked as
/// runs of atoms, factors of the input's dims in row-major order; a reshape
/// that cuts an atom splits it into a major and a minor atom everywhere.
/// The elements stay in place when the atoms end in their first order.
bool keepsElementsInPlace(ArrayRef<int64_t> shape, ArrayRef<Operation *> ops) {
  SmallVector<int64_t> sizes, order;
  SmallVector<SmallVector<int64_t>> dims;
  for (int64_t size : shape) {
    if (size == 0)
      return false;
    dims.emplace_back();
    if (size == 1)
      continue;
    dims.back().push_back(sizes.size());
    order.push_back(sizes.size());
    sizes.push_back(size);
  }
  auto flatten = [&] {
    SmallVector<int64_t> atoms;
    for (ArrayRef<int64_t> dim : dims)
      llvm::append_range(atoms, dim);
    return atoms;
  };
  for (Operation *op : ops) {
    if (auto transpose = dyn_cast<TransposeOp>(op)) {
      SmallVector<SmallVector<int64_t>> permuted;
      for (int64_t p : transpose.getPerm())
        permuted.push_back(dims[p]);
      dims = std::move(permuted);
      continue;
    }
    SmallVector<int64_t> atoms = flatten();
    SmallVector<SmallVector<int64_t>> reshaped;
    size_t next = 0;
    for (int64_t size : cast<ReshapeOp>(op).getType().getShape()) {
      SmallVector<int64_t> dim;
      int64_t product = 1;
      while (product < size) {
        if (next == atoms.size() || size % product != 0)
          return false;
        int64_t atom = atoms[next], need = size / product;
        if (sizes[atom] > need) {
          if (sizes[atom] % need != 0)
            return false;
          int64_t major = sizes.size(), minor = major + 1;
          sizes.push_back(need);
          sizes.push_back(sizes[atom] / need);
          auto *it = llvm::find(order, atom);
          *it = minor;
          order.insert(it, major);
          atoms[next] = minor;
          atoms.insert(atoms.begin() + next, major);
          atom = major;
        }
        dim.push_back(atom);
        product *= sizes[atom];
        ++next;
      }
      if (product != size)
        return false;
      reshaped.push_back(std::move(dim));
    }
    if (next != atoms.size())
      return false;
    dims = std::move(reshaped);
  }
  return flatten() == order;
}

/// A chain of reshapes and transposes that leaves every element in place
/// (e.g. reshape, transpose, reshape, transpose back) is its start; one
/// that ends in another shape is a reshape of its start where at least two
/// transposes in it cancel (a lone transpose of unit dims stays, for the
/// attention folds that read through it).
template <typename OpTy> struct RemoveViewRoundTrip : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    SmallVector<Operation *> chain;
    Operation *current = op;
    while (chain.size() < kMaxViewChain &&
           isa_and_present<ReshapeOp, TransposeOp>(current)) {
      chain.insert(chain.begin(), current);
      Value start = current->getOperand(0);
      auto type = cast<RankedTensorType>(start.getType());
      if (chain.size() > 1 &&
          (type == op.getType() ||
           llvm::count_if(
               chain, [](Operation *view) { return isa<TransposeOp>(view); }) >=
               2) &&
          keepsElementsInPlace(type.getShape(), chain)) {
        if (type == op.getType())
          rewriter.replaceOp(op, start);
        else
          rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), start);
        return success();
      }
      current = start.getDefiningOp();
    }
    return failure();
  }
};

/// gather(concat(a, b, ...), indices) along the concat axis, where the
/// constant indices all fall within one input, gathers from that input.
struct GatherFromConcatInput : OpRewritePattern<GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherOp op,
                                PatternRewriter &rewriter) const override {
    auto concat = op.getData().getDefiningOp<ConcatOp>();
    Attribute attr;
    if (!concat || concat.getAxis() != op.getAxis() ||
        !matchPattern(op.getIndices(), m_Constant(&attr)))
      return failure();
    DenseElementsAttr indices = foldable(attr);
    if (!indices || indices.getNumElements() == 0)
      return failure();
    int64_t axis = op.getAxis();
    int64_t axisSize = concat.getType().getDimSize(axis);
    SmallVector<int64_t> positions = elementsAs<int64_t>(indices);
    for (int64_t &p : positions) {
      if (p < -axisSize || p >= axisSize)
        return failure();
      if (p < 0)
        p += axisSize;
    }
    auto [low, high] = std::minmax_element(positions.begin(), positions.end());
    auto [input, offset] = concatInputHolding(concat, *low, *high + 1);
    if (!input)
      return failure();
    for (int64_t &p : positions)
      p -= offset;
    Value shifted = ConstantOp::create(
        rewriter, op.getLoc(),
        fromValues<int64_t>(cast<RankedTensorType>(indices.getType()),
                            ArrayRef<int64_t>(positions)));
    rewriter.replaceOpWithNewOp<GatherOp>(op, op.getType(), input, shifted,
                                          axis);
    return success();
  }
};

/// Whether `next` continues `slice` along `axis`: a slice of the same value
/// that starts where `slice` ends and slices the other dims alike.
bool continuesSlice(SliceOp slice, Value next, int64_t axis) {
  auto nextSlice = next.getDefiningOp<SliceOp>();
  if (!nextSlice || nextSlice.getInput() != slice.getInput() ||
      nextSlice.getStrides() != slice.getStrides() ||
      nextSlice.getStarts()[axis] != slice.getLimits()[axis])
    return false;
  for (int64_t d = 0, e = slice.getStarts().size(); d < e; ++d)
    if (d != axis && (nextSlice.getStarts()[d] != slice.getStarts()[d] ||
                      nextSlice.getLimits()[d] != slice.getLimits()[d]))
      return false;
  return true;
}

/// concat(slice(x, [a, b)), slice(x, [b, c))) along the sliced axis is
/// slice(x, [a, c)), or x itself when that is all of x. Runs of such
/// slices among other inputs merge alike.
struct MergeConsecutiveSlices : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op,
                                PatternRewriter &rewriter) const override {
    int64_t axis = op.getAxis();
    OperandRange all = op.getInputs();
    SmallVector<Value> inputs;
    bool merged = false;
    for (size_t i = 0, e = all.size(); i < e;) {
      auto first = all[i].getDefiningOp<SliceOp>();
      size_t end = i + 1;
      if (first && first.getStrides()[axis] == 1)
        while (end < e && continuesSlice(all[end - 1].getDefiningOp<SliceOp>(),
                                         all[end], axis))
          ++end;
      if (end == i + 1) {
        inputs.push_back(all[i++]);
        continue;
      }
      SmallVector<int64_t> limits(first.getLimits());
      limits[axis] = all[end - 1].getDefiningOp<SliceOp>().getLimits()[axis];
      inputs.push_back(rewriter.createOrFold<SliceOp>(
          op.getLoc(), first.getInput(), first.getStarts(), limits,
          first.getStrides()));
      merged = true;
      i = end;
    }
    if (!merged)
      return failure();
    if (inputs.size() == 1)
      rewriter.replaceOp(op, inputs.front());
    else
      rewriter.replaceOpWithNewOp<ConcatOp>(op, op.getType(), inputs, axis);
    return success();
  }
};
} // namespace

void ConcatOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *context) {
  patterns.add<MergeConsecutiveSlices>(context);
}

void GatherOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *context) {
  patterns.add<GatherFromConcatInput>(context);
}

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                            MLIRContext *context) {
  patterns.add<ComposeReshapes, RemoveViewRoundTrip<ReshapeOp>>(context);
}

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                              MLIRContext *context) {
  patterns.add<ComposeTransposes, RemoveViewRoundTrip<TransposeOp>>(context);
}
