//===- DSPOps.cpp - dsp operations: type inference and verifiers ----------===//

#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Dialect/DSP/IR/AttentionRing.h"
#include "dsp/Format/AttentionLayout.h"
#include "dsp/Format/Checked.h"
#include "dsp/Format/OpRegistry.h"
#include "dsp/Format/Padding.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::dsp;

namespace mlir::dsp::detail {
LogicalResult inferBroadcastResult(std::optional<Location> location,
                                   ValueRange operands, Type elementType,
                                   SmallVectorImpl<Type> &inferred);
LogicalResult inferReduction(std::optional<Location> location, Value input,
                             ArrayRef<int64_t> axes, bool keepdims,
                             SmallVectorImpl<Type> &inferred);
} // namespace mlir::dsp::detail

/// A collective's types: `T` when the result type equals the operand's (global
/// IR), `T -> U` otherwise (blocks of per-rank IR).
static ParseResult parseCollectiveTypes(OpAsmParser &parser, Type &input,
                                        Type &output) {
  if (parser.parseType(input))
    return failure();
  output = input;
  if (succeeded(parser.parseOptionalArrow()))
    return parser.parseType(output);
  return success();
}

static void printCollectiveTypes(OpAsmPrinter &printer, Operation *, Type input,
                                 Type output) {
  printer << input;
  if (output != input)
    printer << " -> " << output;
}

#define GET_OP_CLASSES
#include "dsp/Dialect/DSP/IR/DSPOps.cpp.inc"

#include "dsp/Dialect/DSP/IR/DSPInterfaces.cpp.inc"

namespace {
RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "[";
  llvm::interleaveComma(shape, os);
  os << "]";
  return text;
}

/// Checks that `values` is a permutation of 0 ..< rank.
bool isPermutation(ArrayRef<int64_t> values, int64_t rank) {
  if (static_cast<int64_t>(values.size()) != rank)
    return false;
  SmallVector<bool> seen(rank, false);
  for (int64_t v : values) {
    if (v < 0 || v >= rank || seen[v])
      return false;
    seen[v] = true;
  }
  return true;
}
} // namespace

static RankedTensorType transposedType(RankedTensorType type,
                                       ArrayRef<int64_t> perm) {
  SmallVector<int64_t> shape;
  for (int64_t dim : perm)
    shape.push_back(type.getDimSize(dim));
  return RankedTensorType::get(shape, type.getElementType());
}

ShardingAttr
mlir::dsp::transposedSharding(ShardingAttr sharding, int64_t rank,
                              function_ref<int64_t(int64_t)> dimOf) {
  if (sharding && sharding.isCompound()) {
    SmallVector<ShardingAttr> axes;
    for (ShardingAttr axis : sharding.getAxes())
      axes.push_back(transposedSharding(axis, rank, dimOf));
    return ShardingAttr::getCompound(sharding.getContext(), axes);
  }
  if (!sharding || !sharding.isSplit())
    return sharding;
  for (int64_t d = 0; d < rank; ++d)
    if (dimOf(d) == sharding.getDim())
      return ShardingAttr::get(sharding.getContext(), sharding.getKind(), d,
                               sharding.getFactors(), sharding.getFactor(),
                               sharding.getPad(), {});
  return sharding;
}

static SmallVector<int64_t> invertPermutation(ArrayRef<int64_t> perm) {
  SmallVector<int64_t> inverse(perm.size());
  for (auto [d, dim] : llvm::enumerate(perm))
    inverse[dim] = d;
  return inverse;
}

std::optional<double> mlir::dsp::getSplatFloat(Value value) {
  DenseElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) || !attr.isSplat() ||
      !isa<FloatType>(attr.getElementType()))
    return std::nullopt;
  return attr.getSplatValue<APFloat>().convertToDouble();
}

FailureOr<SmallVector<int64_t>>
mlir::dsp::broadcastShapes(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs) {
  size_t rank = std::max(lhs.size(), rhs.size());
  SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t l = i < rank - lhs.size() ? 1 : lhs[i - (rank - lhs.size())];
    int64_t r = i < rank - rhs.size() ? 1 : rhs[i - (rank - rhs.size())];
    if (l != r && l != 1 && r != 1)
      return failure();
    result[i] = l == 1 ? r : l;
  }
  return result;
}

LogicalResult
mlir::dsp::detail::inferBroadcastResult(std::optional<Location> location,
                                        ValueRange operands, Type elementType,
                                        SmallVectorImpl<Type> &inferred) {
  SmallVector<int64_t> shape;
  for (Value operand : operands) {
    auto type = tensorType(operand);
    auto broadcast = broadcastShapes(shape, type.getShape());
    if (failed(broadcast))
      return emitOptionalError(location, "operand shapes ", shapeString(shape),
                               " and ", shapeString(type.getShape()),
                               " do not broadcast");
    shape = *broadcast;
  }
  inferred.push_back(RankedTensorType::get(shape, elementType));
  return success();
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::verify() {
  ExternalDataAttr external = getExternalAttr();
  if (!external)
    return success();
  auto type = cast<RankedTensorType>(getType());
  Type stored = external.getElementType();
  Type element = type.getElementType();
  if (stored != element &&
      !(stored.isF32() && (element.isF16() || element.isBF16())))
    return emitOpError("external data of ")
           << stored << " cannot hold a constant of " << element
           << " (the same type, or f32 for f16 and bf16)";
  uint64_t elementBytes =
      stored.isInteger(1) ? 1 : stored.getIntOrFloatBitWidth() / 8;
  std::optional<uint64_t> bytes = ::dsp::format::checkedMul<uint64_t>(
      static_cast<uint64_t>(type.getNumElements()), elementBytes);
  if (!bytes || *bytes != external.getBytes())
    return emitOpError("external data of ")
           << external.getBytes() << " bytes does not hold " << type;
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult GeluOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError("approximate must be \"none\" or \"tanh\", got \"")
           << getApproximate() << "\"";
  return success();
}

LogicalResult WhereOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> location,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  return detail::inferBroadcastResult(
      location, adaptor.getOperands(),
      getElementTypeOrSelf(adaptor.getTrueValue().getType()), inferred);
}

//===----------------------------------------------------------------------===//
// Contractions and normalizations
//===----------------------------------------------------------------------===//

/// The type of the product of `lhsValue` and `rhsValue`, as dsp.matmul and
/// dsp.linear compute it.
static LogicalResult inferMatmulResult(std::optional<Location> location,
                                       Value lhsValue, Value rhsValue,
                                       SmallVectorImpl<Type> &inferred) {
  auto lhs = tensorType(lhsValue);
  auto rhs = tensorType(rhsValue);
  if (lhs.getRank() < 2 || rhs.getRank() < 2)
    return emitOptionalError(location, "operands must have rank 2 or more");
  ArrayRef<int64_t> l = lhs.getShape(), r = rhs.getShape();
  if (l.back() != r[r.size() - 2])
    return emitOptionalError(location, "contracting dims differ: lhs ",
                             shapeString(l), " and rhs ", shapeString(r));
  auto batch = broadcastShapes(l.drop_back(2), r.drop_back(2));
  if (failed(batch))
    return emitOptionalError(location, "batch dims of ", shapeString(l),
                             " and ", shapeString(r), " do not broadcast");
  SmallVector<int64_t> shape = *batch;
  shape.push_back(l[l.size() - 2]);
  shape.push_back(r.back());
  inferred.push_back(RankedTensorType::get(shape, lhs.getElementType()));
  return success();
}

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  return inferMatmulResult(location, adaptor.getLhs(), adaptor.getRhs(),
                           inferred);
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location>,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  inferred.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult LayerNormOp::verify() {
  auto type = tensorType(getInput());
  if (static_cast<int64_t>(getAxis()) >= type.getRank())
    return emitOpError("axis ") << getAxis() << " is out of range for " << type;
  ArrayRef<int64_t> normalized = type.getShape().drop_front(getAxis());
  auto checkParameter = [&](Value parameter, StringRef name) -> LogicalResult {
    if (!parameter)
      return success();
    auto parameterType = tensorType(parameter);
    if (parameterType.getShape() != normalized ||
        parameterType.getElementType() != type.getElementType())
      return emitOpError() << name << " must have type "
                           << RankedTensorType::get(normalized,
                                                    type.getElementType())
                           << ", got " << parameterType;
    return success();
  };
  return failure(failed(checkParameter(getScale(), "scale")) ||
                 failed(checkParameter(getBias(), "bias")));
}

LogicalResult SoftmaxOp::verify() {
  if (static_cast<int64_t>(getAxis()) >= getInput().getType().getRank())
    return emitOpError("axis ")
           << getAxis() << " is out of range for " << getInput().getType();
  return success();
}

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  RankedTensorType operands[3] = {tensorType(adaptor.getQuery()),
                                  tensorType(adaptor.getKey()),
                                  tensorType(adaptor.getValue())};
  std::optional<ArrayRef<int64_t>> selects[3] = {adaptor.getQuerySelect(),
                                                 adaptor.getKeySelect(),
                                                 adaptor.getValueSelect()};
  for (int i = 0; i < 3; ++i) {
    if (!selects[i])
      continue;
    ArrayRef<int64_t> select = *selects[i], shape = operands[i].getShape();
    if (select.size() != 2 || shape.size() != 5 || select[0] < 0 ||
        select[0] >= 5 || select[1] < 0 || select[1] >= shape[select[0]])
      return emitOptionalError(
          location, ::dsp::format::kAttentionSelectNames[i], " ",
          shapeString(select), " is not [dim, index] of a dim of a rank-5 ",
          "operand ", shapeString(shape));
    SmallVector<int64_t> kept(shape);
    kept.erase(kept.begin() + select[0]);
    operands[i] = operands[i].clone(kept);
  }
  if (operands[0].getRank() != 4 || operands[1].getRank() != 4 ||
      operands[2].getRank() != 4)
    return emitOptionalError(
        location, "query, key and value must be [batch, heads, sequence, "
                  "head_dim] tensors");
  std::optional<ArrayRef<int64_t>> perms[4] = {
      adaptor.getQueryPerm(), adaptor.getKeyPerm(), adaptor.getValuePerm(),
      adaptor.getOutputPerm()};
  for (int i = 0; i < 4; ++i) {
    if (!perms[i])
      continue;
    if (!isPermutation(*perms[i], 4) || (*perms[i])[3] != 3)
      return emitOptionalError(location, ::dsp::format::kAttentionPermNames[i],
                               " ", shapeString(*perms[i]),
                               " is not a permutation of 4 dims that keeps "
                               "the head dim last");
    if (i < 3)
      operands[i] = transposedType(operands[i], *perms[i]);
  }
  ArrayRef<int64_t> q = operands[0].getShape(), k = operands[1].getShape(),
                    v = operands[2].getShape();
  if (q[0] != k[0] || q[0] != v[0] || q[1] != k[1] || q[1] != v[1])
    return emitOptionalError(location, "batch and heads differ: query ",
                             shapeString(q), ", key ", shapeString(k),
                             ", value ", shapeString(v));
  if (q[3] != k[3])
    return emitOptionalError(location, "query head_dim ", q[3],
                             " differs from key head_dim ", k[3]);
  if (k[2] != v[2])
    return emitOptionalError(location, "key sequence ", k[2],
                             " differs from value sequence ", v[2]);
  if (adaptor.getMask()) {
    SmallVector<int64_t> scores = {q[0], q[1], q[2], k[2]};
    auto mask = tensorType(adaptor.getMask());
    auto broadcast = broadcastShapes(mask.getShape(), scores);
    if (failed(broadcast) ||
        ArrayRef<int64_t>(*broadcast) != ArrayRef<int64_t>(scores))
      return emitOptionalError(location, "mask ", shapeString(mask.getShape()),
                               " does not broadcast to the scores ",
                               shapeString(scores));
  }
  auto result = RankedTensorType::get({q[0], q[1], q[2], v[3]},
                                      operands[0].getElementType());
  inferred.push_back(perms[3] ? transposedType(result, *perms[3]) : result);
  return success();
}

/// The ints attribute `name` of `op` (a perm or a select, by the program
/// format's name of it), if present.
static std::optional<ArrayRef<int64_t>> attentionInts(AttentionOp op,
                                                      const char *name) {
  if (auto ints = op->getAttrOfType<DenseI64ArrayAttr>(name))
    return ints.asArrayRef();
  return std::nullopt;
}

/// The perm of operand `operand` (0 query, 1 key, 2 value, 3 the output).
static std::optional<ArrayRef<int64_t>> attentionPerm(AttentionOp op,
                                                      unsigned operand) {
  return attentionInts(op, ::dsp::format::kAttentionPermNames[operand]);
}

/// The select of operand `operand` (0 query, 1 key, 2 value).
static std::optional<ArrayRef<int64_t>> attentionSelect(AttentionOp op,
                                                        unsigned operand) {
  if (operand >= 3)
    return std::nullopt;
  return attentionInts(op, ::dsp::format::kAttentionSelectNames[operand]);
}

ShardingAttr AttentionOp::getAttendedSharding(unsigned operand) {
  ShardingAttr sharding = getShardingOrReplicated(getOperand(operand));
  std::optional<ArrayRef<int64_t>> perm = attentionPerm(*this, operand);
  std::optional<ArrayRef<int64_t>> select = attentionSelect(*this, operand);
  if (!perm && !select)
    return sharding;
  return transposedSharding(sharding, 4, [&](int64_t d) {
    int64_t dim = perm ? (*perm)[d] : d;
    return select && dim >= (*select)[0] ? dim + 1 : dim;
  });
}

LogicalResult AttentionOp::verify() {
  for (unsigned operand = 0; operand < 4; ++operand) {
    for (bool select : {false, true}) {
      if (!(select ? attentionSelect(*this, operand)
                   : attentionPerm(*this, operand)))
        continue;
      const char *name = select ? ::dsp::format::kAttentionSelectNames[operand]
                                : ::dsp::format::kAttentionPermNames[operand];
      if (!isPerRank(*this))
        return emitOpError(name)
               << " is per-rank IR only (run --dsp-fold-attention-transposes "
                  "after --dsp-localize)";
      // The ring's kernels pass whole contiguous blocks around.
      if (getAttentionRing(*this))
        return emitOpError(name) << " on an attention that runs as a ring";
    }
  }
  return success();
}

LogicalResult ConvOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> location,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  auto input = tensorType(adaptor.getInput());
  auto weight = tensorType(adaptor.getWeight());
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1 || weight.getRank() != input.getRank())
    return emitOptionalError(location, "input ", input, " and weight ", weight,
                             " must both be [N, C, spatial...] tensors");
  ArrayRef<int64_t> strides = adaptor.getStrides(), pads = adaptor.getPads(),
                    dilations = adaptor.getDilations();
  if (static_cast<int64_t>(strides.size()) != spatial ||
      static_cast<int64_t>(dilations.size()) != spatial ||
      static_cast<int64_t>(pads.size()) != 2 * spatial)
    return emitOptionalError(location, "expected ", spatial,
                             " strides and dilations and ", 2 * spatial,
                             " pads");
  int64_t group = adaptor.getGroup();
  int64_t channels = input.getDimSize(1), outChannels = weight.getDimSize(0);
  if (group < 1 || outChannels % group != 0 ||
      weight.getDimSize(1) * group != channels)
    return emitOptionalError(location, "weight ", weight, " does not fit ",
                             channels, " input channels in ", group, " groups");
  if (adaptor.getBias() && tensorType(adaptor.getBias()).getShape() !=
                               ArrayRef<int64_t>{outChannels})
    return emitOptionalError(location, "bias must have shape [", outChannels,
                             "]");
  SmallVector<int64_t> shape = {input.getDimSize(0), outChannels};
  for (int64_t i = 0; i < spatial; ++i) {
    if (strides[i] < 1 || dilations[i] < 1 || pads[i] < 0 ||
        pads[i + spatial] < 0)
      return emitOptionalError(location, "strides and dilations must be "
                                         "positive and pads non-negative");
    using ::dsp::format::checkedAdd;
    using ::dsp::format::checkedMul;
    std::optional<int64_t> padded =
        checkedAdd(input.getDimSize(i + 2), pads[i]);
    if (padded)
      padded = checkedAdd(*padded, pads[i + spatial]);
    std::optional<int64_t> window =
        checkedMul(dilations[i], weight.getDimSize(i + 2) - 1);
    if (!padded || !window)
      return emitOptionalError(location,
                               "pads or dilations overflow spatial "
                               "dim ",
                               i);
    int64_t extent = *padded - *window - 1;
    if (extent < 0)
      return emitOptionalError(location, "kernel does not fit spatial dim ", i);
    shape.push_back(extent / strides[i] + 1);
  }
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult
mlir::dsp::detail::inferReduction(std::optional<Location> location, Value input,
                                  ArrayRef<int64_t> axes, bool keepdims,
                                  SmallVectorImpl<Type> &inferred) {
  auto type = tensorType(input);
  for (auto [i, axis] : llvm::enumerate(axes))
    if (axis < 0 || axis >= type.getRank() || (i > 0 && axes[i - 1] >= axis))
      return emitOptionalError(location,
                               "axes must be sorted, unique and in "
                               "range for ",
                               type);
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (!llvm::is_contained(axes, d))
      shape.push_back(type.getDimSize(d));
    else if (keepdims)
      shape.push_back(1);
  }
  inferred.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  if (getInput().getType().getNumElements() !=
      getOutput().getType().getNumElements())
    return emitOpError("cannot reshape ")
           << getInput().getType() << " into " << getOutput().getType()
           << ": element counts differ";
  return success();
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  auto type = tensorType(adaptor.getInput());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if (!isPermutation(perm, type.getRank()))
    return emitOptionalError(location, "perm ", shapeString(perm),
                             " is not a permutation of the dims of ", type);
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(type.getDimSize(p));
  inferred.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  if (adaptor.getInputs().empty())
    return emitOptionalError(location, "needs at least one input");
  auto first = tensorType(adaptor.getInputs().front());
  int64_t axis = adaptor.getAxis();
  if (axis >= first.getRank())
    return emitOptionalError(location, "axis ", axis, " is out of range for ",
                             first);
  SmallVector<int64_t> shape(first.getShape());
  shape[axis] = 0;
  for (Value input : adaptor.getInputs()) {
    auto type = tensorType(input);
    if (type.getRank() != first.getRank() ||
        type.getElementType() != first.getElementType())
      return emitOptionalError(location, "inputs ", first, " and ", type,
                               " differ in rank or element type");
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (d != axis && type.getDimSize(d) != first.getDimSize(d))
        return emitOptionalError(location, "inputs ", first, " and ", type,
                                 " differ in dim ", d);
    std::optional<int64_t> total =
        ::dsp::format::checkedAdd(shape[axis], type.getDimSize(axis));
    if (!total)
      return emitOptionalError(location, "the concatenated dim overflows");
    shape[axis] = *total;
  }
  inferred.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> location,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  auto type = tensorType(adaptor.getInput());
  ArrayRef<int64_t> starts = adaptor.getStarts(), limits = adaptor.getLimits(),
                    strides = adaptor.getStrides();
  int64_t rank = type.getRank();
  if (static_cast<int64_t>(starts.size()) != rank ||
      static_cast<int64_t>(limits.size()) != rank ||
      static_cast<int64_t>(strides.size()) != rank)
    return emitOptionalError(location, "expected ", rank,
                             " starts, limits and strides");
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t size = type.getDimSize(d), start = starts[d], limit = limits[d],
            stride = strides[d];
    bool valid = stride > 0   ? 0 <= start && start <= limit && limit <= size
                 : stride < 0 ? -1 <= limit && limit <= start && start < size
                              : false;
    // An empty walk down may start anywhere in range, e.g. [0, -1) in a
    // dim of size 0.
    if (stride < 0 && start == limit && limit >= -1 && start <= size)
      valid = true;
    if (!valid)
      return emitOptionalError(location, "dim ", d, ": start ", start,
                               ", limit ", limit, ", stride ", stride,
                               " do not fit size ", size);
    // Unsigned: a stride of -2^63 has no positive int64 magnitude, and
    // distance + step - 1 would overflow for large steps.
    uint64_t distance = stride > 0 ? limit - start : start - limit;
    uint64_t step = stride > 0 ? static_cast<uint64_t>(stride)
                               : 0 - static_cast<uint64_t>(stride);
    shape.push_back(
        static_cast<int64_t>(distance / step + (distance % step != 0)));
  }
  inferred.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  auto data = tensorType(adaptor.getData());
  auto indices = tensorType(adaptor.getIndices());
  int64_t axis = adaptor.getAxis();
  if (axis >= data.getRank())
    return emitOptionalError(location, "axis ", axis, " is out of range for ",
                             data);
  SmallVector<int64_t> shape(data.getShape().take_front(axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, data.getShape().drop_front(axis + 1));
  inferred.push_back(RankedTensorType::get(shape, data.getElementType()));
  return success();
}

LogicalResult ExpandOp::verify() {
  auto input = getInput().getType();
  auto output = getOutput().getType();
  auto broadcast = broadcastShapes(input.getShape(), output.getShape());
  if (failed(broadcast) || ArrayRef<int64_t>(*broadcast) != output.getShape())
    return emitOpError("cannot broadcast ") << input << " to " << output;
  return success();
}

LogicalResult TileOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> location,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  auto type = tensorType(adaptor.getInput());
  ArrayRef<int64_t> repeats = adaptor.getRepeats();
  if (static_cast<int64_t>(repeats.size()) != type.getRank() ||
      llvm::any_of(repeats, [](int64_t r) { return r < 0; }))
    return emitOptionalError(location, "expected ", type.getRank(),
                             " non-negative repeats");
  SmallVector<int64_t> shape;
  for (auto [size, repeat] : llvm::zip(type.getShape(), repeats)) {
    std::optional<int64_t> tiled = ::dsp::format::checkedMul(size, repeat);
    if (!tiled)
      return emitOptionalError(location, "repeats overflow the shape of ",
                               type);
    shape.push_back(*tiled);
  }
  inferred.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> location,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &inferred) {
  auto type = tensorType(adaptor.getInput());
  std::optional<::dsp::format::PadMode> mode =
      ::dsp::format::parsePadMode(adaptor.getMode());
  if (!mode)
    return emitOptionalError(location, "mode '", adaptor.getMode(),
                             "' is not constant, reflect or edge");
  std::vector<int64_t> padded;
  std::string problem = ::dsp::format::padProblem(
      type.getShape().vec(), adaptor.getPads().vec(), *mode, padded);
  if (!problem.empty())
    return emitOptionalError(location, problem);
  inferred.push_back(RankedTensorType::get(padded, type.getElementType()));
  return success();
}

LogicalResult PadOp::verify() {
  Value value = getValue();
  if (!value)
    return success();
  auto type = tensorType(value);
  if (type.getRank() != 0 ||
      type.getElementType() != getInput().getType().getElementType())
    return emitOpError("value must be a scalar of the input's element type, "
                       "got ")
           << type;
  if (getMode() != "constant")
    return emitOpError("takes a value in constant mode only");
  return success();
}

LogicalResult ScatterElementsOp::verify() {
  auto data = getData().getType();
  auto indices = getIndices().getType();
  if (indices.getShape() != getUpdates().getType().getShape())
    return emitOpError("indices ")
           << indices << " and updates " << getUpdates().getType()
           << " must have one shape";
  int64_t axis = getAxis();
  if (indices.getRank() != data.getRank() || axis >= data.getRank())
    return emitOpError("indices must have the data's rank ")
           << data.getRank() << " and the axis " << axis << " must be a dim";
  for (int64_t d = 0; d < data.getRank(); ++d)
    if (d != axis && indices.getDimSize(d) > data.getDimSize(d))
      return emitOpError("dim ")
             << d << " of the indices is larger than the data's";
  if (getReduction() != "none" && getReduction() != "add")
    return emitOpError("reduction '")
           << getReduction() << "' is not none or add";
  if (getReduction() == "add" && data.getElementType().isInteger(1))
    return emitOpError("cannot add bools");
  return success();
}

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

/// The operand and result a collective moves between, with their
/// shardings (null `to`: the op carries none).
struct CollectiveSides {
  RankedTensorType inputType, type;
  ShardingAttr from, to;
};

static CollectiveSides sidesOf(Operation *op) {
  if (auto allToAll = dyn_cast<AllToAllOp>(op))
    return {allToAll.getSwitchedInputType(), allToAll.getSwitchedResultType(),
            allToAll.getSwitchedInputSharding(),
            allToAll.getSwitchedResultSharding()};
  return {cast<RankedTensorType>(op->getOperand(0).getType()),
          cast<RankedTensorType>(op->getResult(0).getType()),
          getShardingOrReplicated(op->getOperand(0)), getResultSharding(op, 0)};
}

/// The mesh axis a collective or zero_pad runs on, if it names one.
static std::optional<uint64_t> meshAxisOf(Operation *op) {
  if (auto axis = op->getAttrOfType<IntegerAttr>("axis"))
    return axis.getValue().getZExtValue();
  return std::nullopt;
}

/// Checks `axis` against the group's mesh and that `from` and `to` hold
/// the value alike on every other axis; without an axis, that neither is
/// compound.
static LogicalResult verifyMeshAxis(Operation *op, std::optional<uint64_t> axis,
                                    ShardingAttr from, ShardingAttr to) {
  if (!axis) {
    if ((from && from.isCompound()) || (to && to.isCompound()))
      return op->emitOpError("on a compound sharding names the mesh axis it "
                             "runs on");
    return success();
  }
  GroupAttr group = getGroup(op);
  if (!group || *axis >= group.getMesh().size())
    return op->emitOpError("axis ")
           << *axis << " is not an axis of the group's mesh";
  for (size_t k = 0; k < group.getMesh().size(); ++k) {
    ShardingAttr before = from ? from.getAxis(k) : ShardingAttr();
    ShardingAttr after = to ? to.getAxis(k) : ShardingAttr();
    if (!before || !after)
      return op->emitOpError("on mesh axis ")
             << *axis << " needs shardings that each mesh axis describes";
    if (k != *axis && !before.holdsSameBlocks(after))
      return op->emitOpError("on mesh axis ")
             << *axis << " must hold mesh axis " << k << " alike, but turns "
             << before << " into " << after;
  }
  return success();
}

/// Checks the types (equal in global IR, blocks of one global type in
/// per-rank IR), that `dims` are dims of the operand and, when the op carries
/// a sharding, that it is the one the collective produces (on its mesh
/// axis, if it has one).
static LogicalResult verifyCollective(Operation *op, ArrayRef<int64_t> dims,
                                      function_ref<bool(ShardingAttr)> produces,
                                      StringRef expected) {
  auto [inputType, type, from, to] = sidesOf(op);
  GroupAttr group = getGroup(op);
  std::optional<uint64_t> axis = meshAxisOf(op);
  if (failed(verifyMeshAxis(op, axis, from, to)))
    return failure();
  if (group && group.getPerRank()) {
    if (!to)
      return op->emitOpError("in per-rank IR needs the sharding of its "
                             "result");
    auto emitError = [&] { return op->emitOpError(); };
    FailureOr<RankedTensorType> inputGlobal =
        from.getGlobalType(inputType, group.getMeshShape(), emitError);
    if (failed(inputGlobal))
      return failure();
    FailureOr<RankedTensorType> global =
        to.getGlobalType(type, group.getMeshShape(), emitError);
    if (failed(global))
      return failure();
    if (*inputGlobal != *global)
      return op->emitOpError("operand and result are blocks of different "
                             "global types, ")
             << *inputGlobal << " and " << *global;
  } else if (inputType != type) {
    return op->emitOpError("requires the same type for the operand and the "
                           "result outside per-rank IR");
  }
  for (int64_t dim : dims)
    if (dim >= type.getRank())
      return op->emitOpError("dim ") << dim << " is out of range for " << type;
  if (to && !produces(axis ? to.getAxis(*axis) : to))
    return op->emitOpError("result must be ")
           << expected << (axis ? " on its mesh axis" : "")
           << ", but its sharding is " << to;
  return success();
}

/// `type` transposed by `perm` (dim d of the result is dim perm[d]).
RankedTensorType AllToAllOp::getSwitchedInputType() {
  auto type = cast<RankedTensorType>(getInput().getType());
  std::optional<ArrayRef<int64_t>> perm = getInputPerm();
  if (!perm || !isPermutation(*perm, type.getRank()))
    return type;
  return transposedType(type, *perm);
}

ShardingAttr AllToAllOp::getSwitchedInputSharding() {
  ShardingAttr sharding = getShardingOrReplicated(getInput());
  std::optional<ArrayRef<int64_t>> perm = getInputPerm();
  int64_t rank = cast<RankedTensorType>(getInput().getType()).getRank();
  if (!perm || !isPermutation(*perm, rank))
    return sharding;
  return transposedSharding(sharding, rank,
                            [&](int64_t d) { return (*perm)[d]; });
}

RankedTensorType AllToAllOp::getSwitchedResultType() {
  auto type = cast<RankedTensorType>(getOutput().getType());
  std::optional<ArrayRef<int64_t>> perm = getOutputPerm();
  if (!perm || !isPermutation(*perm, type.getRank()))
    return type;
  return transposedType(type, invertPermutation(*perm));
}

ShardingAttr AllToAllOp::getSwitchedResultSharding() {
  ShardingAttr sharding = getResultSharding(*this, 0);
  std::optional<ArrayRef<int64_t>> perm = getOutputPerm();
  int64_t rank = cast<RankedTensorType>(getOutput().getType()).getRank();
  if (!perm || !isPermutation(*perm, rank))
    return sharding;
  SmallVector<int64_t> inverse = invertPermutation(*perm);
  return transposedSharding(sharding, rank,
                            [&](int64_t d) { return inverse[d]; });
}

LogicalResult AllToAllOp::verify() {
  for (auto [name, perm] : {std::pair{"input_perm", getInputPerm()},
                            std::pair{"output_perm", getOutputPerm()}}) {
    if (!perm)
      continue;
    if (!isPerRank(*this))
      return emitOpError(name) << " is per-rank IR only (run "
                               << "--dsp-fold-collective-transposes after "
                               << "--dsp-localize)";
    int64_t rank = cast<RankedTensorType>(getInput().getType()).getRank();
    if (!isPermutation(*perm, rank))
      return emitOpError(name)
             << " " << shapeString(*perm) << " is not a permutation of " << rank
             << " dims";
  }
  if (getAsync() && !isPerRank(*this))
    return emitOpError("may be async in per-rank IR only");
  if (getAsync() && (!getOutput().hasOneUse() ||
                     !isa<WaitOp>(*getOutput().getUsers().begin())))
    return emitOpError("is async: its result must be read by one dsp.wait "
                       "alone");
  // Within one dim, only a switch between two factors of it moves data.
  if (getSplitDim() == getConcatDim()) {
    std::optional<uint64_t> axis = getAxis();
    auto onAxis = [&](ShardingAttr s) {
      return s && axis && s.isCompound() ? s.getAxis(*axis) : s;
    };
    ShardingAttr result = onAxis(getResultSharding(*this, 0));
    ShardingAttr input = onAxis(getSharding(getInput()));
    bool factored = (result && !result.getFactors().empty()) ||
                    (input && !input.getFactors().empty());
    if (!factored)
      return emitOpError("split_dim and concat_dim may be equal only when "
                         "the operand or the result is split on a factor of "
                         "that dim");
    if (isPerRank(*this))
      return emitOpError("a switch within one dim has no per-rank form; "
                         "--dsp-localize makes it a switch between two dims "
                         "of a view");
  }
  return verifyCollective(
      *this,
      {static_cast<int64_t>(getSplitDim()),
       static_cast<int64_t>(getConcatDim())},
      [&](ShardingAttr s) {
        return s.isSplit() && s.getDim() == static_cast<int64_t>(getSplitDim());
      },
      "split on split_dim");
}

LogicalResult AllGatherOp::verify() {
  return verifyCollective(
      *this, {static_cast<int64_t>(getDim())},
      [](ShardingAttr s) { return s.isReplicated(); }, "replicated");
}

LogicalResult AllReduceOp::verify() {
  return verifyCollective(
      *this, {}, [](ShardingAttr s) { return s.isReplicated(); }, "replicated");
}

LogicalResult ReduceScatterOp::verify() {
  return verifyCollective(
      *this, {static_cast<int64_t>(getDim())},
      [&](ShardingAttr s) {
        return s.isSplit() && s.getDim() == static_cast<int64_t>(getDim());
      },
      "split on dim");
}

LogicalResult LocalSliceOp::verify() {
  return verifyCollective(
      *this, {static_cast<int64_t>(getDim())},
      [&](ShardingAttr s) {
        return s.isSplit() && s.getDim() == static_cast<int64_t>(getDim());
      },
      "split on dim");
}

//===----------------------------------------------------------------------===//
// Per-rank ops
//===----------------------------------------------------------------------===//

LogicalResult WaitOp::verify() {
  if (!isPerRank(*this))
    return emitOpError("exists in per-rank IR only");
  auto collective = getInput().getDefiningOp<AllToAllOp>();
  if (!collective || !collective.getAsync())
    return emitOpError("input must be the result of an async dsp.all_to_all");
  return success();
}

LogicalResult ZeroPadOp::verify() {
  if (!isPerRank(*this))
    return emitOpError("exists in per-rank IR only");
  ShardingAttr sharding = getResultSharding(*this, 0);
  if (failed(verifyMeshAxis(*this, getAxis(), sharding, sharding)))
    return failure();
  if (sharding && getAxis())
    sharding = sharding.getAxis(*getAxis());
  if (!sharding || !sharding.isSplit() || sharding.getPad() == 0)
    return emitOpError("result must be split with a pad")
           << (getAxis() ? " on its mesh axis" : "");
  return success();
}

LogicalResult LinearOp::verify() {
  if (getGroup(*this) && !isPerRank(*this))
    return emitOpError("exists in per-rank IR only");
  if (!::dsp::format::findActivation(getActivation().str()))
    return emitOpError("activation must be one of ")
           << ::dsp::format::activationNames() << ", got \"" << getActivation()
           << "\"";
  auto output = cast<RankedTensorType>(getOutput().getType());
  SmallVector<Type> product;
  if (failed(inferMatmulResult(getLoc(), getLhs(), getRhs(), product)))
    return failure();
  if (product.front() != output)
    return emitOpError("result must have the product's type ")
           << product.front() << ", got " << output;
  ArrayRef<int64_t> bias = getBias().getType().getShape();
  if (bias.size() != 1 || bias[0] != output.getShape().back())
    return emitOpError("bias must have shape [")
           << output.getShape().back() << "], got " << getBias().getType();
  Value residual = getResidual();
  if (residual && residual.getType() != output)
    return emitOpError("residual must have the result's type ")
           << output << ", got " << residual.getType();
  return success();
}

LogicalResult FusedOp::verify() {
  Block &body = getBody().front();
  if (body.getArgumentTypes() != getInputs().getTypes())
    return emitOpError("block arguments must have the types of the inputs");
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError("body must end in dsp.yield");
  if (yield.getValues().getTypes() != getOutputs().getTypes())
    return emitOpError("yielded values must have the types of the results");
  ArrayRef<int64_t> space;
  for (Type type : getOutputs().getTypes()) {
    auto shape = cast<RankedTensorType>(type).getShape();
    if (!space.empty() && shape != space)
      return emitOpError("results must share one shape, the iteration space");
    space = shape;
  }
  Operation *rowOp = nullptr;
  for (Operation &op : body.without_terminator()) {
    if (isRowOp(&op)) {
      if (rowOp)
        return op.emitOpError("cannot be fused: the body holds a row op "
                              "already");
      if (cast<RankedTensorType>(op.getResult(0).getType()).getShape() != space)
        return op.emitOpError("row op result must have the shape of the "
                              "fused iteration space");
      rowOp = &op;
      continue;
    }
    auto constant = dyn_cast<ConstantOp>(op);
    auto dense = constant ? dyn_cast<DenseElementsAttr>(constant.getValue())
                          : DenseElementsAttr();
    if (!op.hasTrait<OpTrait::dsp::Elementwise>() &&
        !(dense && dense.isSplat()))
      return op.emitOpError("cannot be fused: neither element-wise, a "
                            "splat constant nor a row op");
    for (Type type : op.getResultTypes()) {
      FailureOr<SmallVector<int64_t>> shape =
          broadcastShapes(cast<RankedTensorType>(type).getShape(), space);
      if (failed(shape) || ArrayRef<int64_t>(*shape) != space)
        return op.emitOpError("result does not broadcast to the fused "
                              "iteration space");
    }
  }
  return success();
}

bool mlir::dsp::isRowOp(Operation *op) {
  int64_t axis;
  if (auto norm = dyn_cast<LayerNormOp>(op))
    axis = norm.getAxis();
  else if (auto softmax = dyn_cast<SoftmaxOp>(op))
    axis = softmax.getAxis();
  else
    return false;
  return axis + 1 ==
         cast<RankedTensorType>(op->getResult(0).getType()).getRank();
}

LogicalResult LaunchOp::verify() {
  ArrayRef<int64_t> grid = getGrid(), block = getBlock();
  if (grid.size() != 3 || block.size() != 3)
    return emitOpError("grid and block need 3 extents (x, y, z)");
  int64_t threads = 1;
  for (int axis = 0; axis < 3; ++axis) {
    if (grid[axis] < 1 || grid[axis] > ::dsp::format::kMaxGridDims[axis] ||
        block[axis] < 1 || block[axis] > ::dsp::format::kMaxBlockDims[axis])
      return emitOpError("grid or block extent ")
             << axis << " is out of CUDA's launch limits";
    threads *= block[axis];
  }
  if (threads > ::dsp::format::kMaxBlockThreads)
    return emitOpError("block of ") << threads << " threads, more than "
                                    << ::dsp::format::kMaxBlockThreads;
  if (getOutputs().empty())
    return emitOpError("writes no result");
  return success();
}

LogicalResult LaunchOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  if (!symbolTable.lookupNearestSymbolFrom(*this,
                                           getKernel().getRootReference()))
    return emitOpError("kernel module ")
           << getKernel().getRootReference() << " is not defined";
  return success();
}
