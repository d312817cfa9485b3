//===- ConvertShape.cpp - ONNX ops that move and shape data ---------------===//
//
// Reshapes, transposes, slices, concatenations, gathers and scatters, and
// the ops that compute shapes and constants, which fold while the graph is
// read.
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"
#include "dsp/Format/Checked.h"
#include "dsp/Format/Padding.h"

#include <functional>
#include <limits>
#include <numeric>

using namespace mlir;
using namespace mlir::dsp;
using namespace mlir::dsp::onnx_import;

static Value convertIdentity(ImportContext &ctx, const onnx::NodeProto &node) {
  return ctx.input(node, 0);
}

static Value convertReshape(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  RankedTensorType type = typeOf(x);
  SmallVector<int64_t> shape = constantInts(ctx.input(node, 1), "shape");
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
  return ctx.reshape(x, shape);
}

static Value convertTranspose(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  int64_t rank = typeOf(x).getRank();
  SmallVector<int64_t> perm =
      intsAttr(node, "perm")
          .value_or(
              llvm::to_vector(llvm::reverse(llvm::seq<int64_t>(0, rank))));
  return ctx.fold<TransposeOp>(x, perm);
}

static Value convertConcat(ImportContext &ctx, const onnx::NodeProto &node) {
  if (node.input_size() == 0)
    fail("needs at least one input");
  Values inputs;
  for (int i = 0; i < node.input_size(); ++i)
    inputs.push_back(ctx.input(node, i));
  int64_t axis =
      normalizeAxis(intAttr(node, "axis", 0), typeOf(inputs[0]).getRank());
  return ctx.fold<ConcatOp>(inputs, axis);
}

static Value convertSlice(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  int64_t rank = shape.size();
  SmallVector<int64_t> starts = constantInts(ctx.input(node, 1), "starts");
  SmallVector<int64_t> ends = constantInts(ctx.input(node, 2), "ends");
  SmallVector<int64_t> axes = ctx.optionalConstantInts(node, 3).value_or(
      llvm::to_vector(llvm::seq<int64_t>(0, starts.size())));
  SmallVector<int64_t> steps = ctx.optionalConstantInts(node, 4).value_or(
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
  return ctx.fold<SliceOp>(x, sliceStarts, limits, strides);
}

static Values convertSplit(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  int64_t rank = shape.size();
  int64_t axis = normalizeAxis(intAttr(node, "axis", 0), rank);
  std::optional<SmallVector<int64_t>> sizes =
      ctx.opset >= 13 ? ctx.optionalConstantInts(node, 1)
                      : intsAttr(node, "split");
  if (!sizes) {
    int64_t parts = node.output_size();
    if (ctx.opset >= 18 && attribute(node, "num_outputs"))
      parts = intAttr(node, "num_outputs", parts);
    if (parts < 1)
      fail("splits into " + Twine(parts) + " parts; at least 1 is needed");
    // One slice per part is built below: a count beyond the node's outputs
    // would build (and drop) them all.
    if (parts != node.output_size())
      fail("num_outputs is " + Twine(parts) + ", but the node has " +
           Twine(node.output_size()) + " outputs");
    int64_t chunk = shape[axis] / parts + (shape[axis] % parts != 0);
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
    results.push_back(ctx.fold<SliceOp>(x, starts, limits, strides));
    offset += size;
  }
  return results;
}

static Value convertGather(ImportContext &ctx, const onnx::NodeProto &node) {
  Value data = ctx.input(node, 0);
  int64_t axis =
      normalizeAxis(intAttr(node, "axis", 0), typeOf(data).getRank());
  Value indices = ctx.input(node, 1);
  requireElementType(indices, "input 1", ElementKind::Integer);
  return ctx.fold<GatherOp>(data, indices, axis);
}

/// GatherND with constant indices: the leading dims of the data that each
/// index tuple addresses become one dim of rows, and a Gather picks the
/// rows the tuples name.
static Value convertGatherND(ImportContext &ctx, const onnx::NodeProto &node) {
  if (int64_t batchDims = intAttr(node, "batch_dims", 0))
    fail("batch_dims = " + Twine(batchDims) + " is not supported (only 0 is)");
  Value data = ctx.input(node, 0);
  Value indices = ctx.input(node, 1);
  requireElementType(indices, "input 1", ElementKind::Integer);
  SmallVector<int64_t> tuples = constantInts(indices, "the indices (input 1)");
  ArrayRef<int64_t> shape = typeOf(data).getShape();
  ArrayRef<int64_t> indexShape = typeOf(indices).getShape();
  int64_t rank = shape.size();
  int64_t width = indexShape.empty() ? 0 : indexShape.back();
  if (width < 1 || width > rank)
    fail("the indices' last dim must be 1 to the data's rank " + Twine(rank) +
         ", got the indices " + shapeString(indexShape));
  SmallVector<int64_t> rows;
  for (size_t start = 0; start < tuples.size(); start += width) {
    int64_t row = 0;
    for (int64_t dim = 0; dim < width; ++dim) {
      int64_t index = tuples[start + dim];
      if (index < -shape[dim] || index >= shape[dim])
        fail("index " + Twine(index) + " is out of range for dim " +
             Twine(dim) + " of size " + Twine(shape[dim]));
      row = row * shape[dim] + (index < 0 ? index + shape[dim] : index);
    }
    rows.push_back(row);
  }
  SmallVector<int64_t> rowsShape{
      std::accumulate(shape.begin(), shape.begin() + width, int64_t{1},
                      std::multiplies<int64_t>())};
  rowsShape.append(shape.begin() + width, shape.end());
  Value rowIndices = ctx.constant(DenseElementsAttr::get(
      RankedTensorType::get(indexShape.drop_back(), ctx.builder.getI64Type()),
      ArrayRef(rows)));
  return ctx.fold<GatherOp>(ctx.reshape(data, rowsShape), rowIndices, 0);
}

/// NonZero's result shape depends on its input's values, so it is imported
/// only where they are known: as the constant of the nonzero positions.
static Value convertNonZero(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  DenseElementsAttr values = computableConstant(x);
  if (!values)
    fail("its result shape depends on the values of input 0, which are known "
         "only at run time; where they come from a graph input (a text "
         "attention mask, say), import that input as a constant with "
         "--freeze-input=NAME=@FILE.npy");
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  SmallVector<int64_t> positions;
  for (auto [position, value] :
       llvm::enumerate(values.getValues<Attribute>())) {
    bool nonzero = isa<FloatAttr>(value)
                       ? !cast<FloatAttr>(value).getValue().isZero()
                       : !cast<IntegerAttr>(value).getValue().isZero();
    if (nonzero)
      positions.push_back(position);
  }
  // One row of coordinates per dim, in row-major order of the positions.
  int64_t rank = shape.size(), count = positions.size();
  SmallVector<int64_t> coordinates(rank * count);
  for (int64_t n = 0; n < count; ++n) {
    int64_t rest = positions[n];
    for (int64_t dim = rank - 1; dim >= 0; --dim) {
      coordinates[dim * count + n] = rest % shape[dim];
      rest /= shape[dim];
    }
  }
  return ctx.constant(DenseElementsAttr::get(
      RankedTensorType::get({rank, count}, ctx.builder.getI64Type()),
      ArrayRef(coordinates)));
}

static Value convertSqueeze(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  int64_t rank = shape.size();
  std::optional<SmallVector<int64_t>> squeezed = ctx.axes(node, 13, 1);
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
  return ctx.reshape(x, result);
}

static Value convertUnsqueeze(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  std::optional<SmallVector<int64_t>> inserted = ctx.axes(node, 13, 1);
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
  return ctx.reshape(x, result);
}

static Value convertFlatten(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
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
  return ctx.reshape(x, {outer, inner});
}

static Value convertExpand(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  SmallVector<int64_t> shape = constantInts(ctx.input(node, 1), "shape");
  auto broadcast = broadcastShapes(typeOf(x).getShape(), shape);
  if (failed(broadcast))
    fail("cannot expand the input to the given shape");
  auto type = RankedTensorType::get(*broadcast, typeOf(x).getElementType());
  return ctx.fold<ExpandOp>(type, x);
}

static Value convertTile(ImportContext &ctx, const onnx::NodeProto &node) {
  SmallVector<int64_t> repeats = constantInts(ctx.input(node, 1), "repeats");
  return ctx.fold<TileOp>(ctx.input(node, 0), repeats);
}

static Value scatterRows(ImportContext &ctx, Value data, Value updates,
                         ArrayRef<int64_t> targets, bool accumulate) {
  // Rows are the data's elements at one prefix position (the dims the
  // indices address); each update is one row.
  ArrayRef<int64_t> shape = typeOf(data).getShape();
  int64_t count = targets.size();
  int64_t rowSize =
      typeOf(updates).getNumElements() / std::max<int64_t>(count, 1);
  int64_t rows = typeOf(data).getNumElements() / std::max<int64_t>(rowSize, 1);
  Type elementType = typeOf(data).getElementType();
  // The scatter becomes constants with an entry per row (and per update).
  if (rows > (1 << 22) / std::max<int64_t>(accumulate ? count : 1, 1))
    fail("a scatter of " + Twine(count) + " updates into " + Twine(rows) +
         " rows is too large to import");
  Value data2d = ctx.reshape(data, {rows, rowSize});
  Value updates2d = ctx.reshape(updates, {count, rowSize});
  Value result;
  if (accumulate) {
    requireElementType(data, "the data of reduction 'add'", ElementKind::Float);
    // Duplicates add up: data + onehot[rows, count] . updates.
    SmallVector<float> onehot(rows * count, 0.0f);
    for (auto [n, row] : llvm::enumerate(targets))
      onehot[row * count + n] += 1.0f;
    auto type = RankedTensorType::get({rows, count}, ctx.builder.getF32Type());
    Value weights =
        ctx.constant(DenseElementsAttr::get(type, ArrayRef(onehot)));
    if (elementType != ctx.builder.getF32Type())
      weights = ctx.fold<CastOp>(
          RankedTensorType::get({rows, count}, elementType), weights);
    result = ctx.fold<AddOp>(data2d, ctx.fold<MatMulOp>(weights, updates2d));
  } else {
    // The last update of a row wins, as in the ONNX reference.
    SmallVector<int64_t> source(rows, 0);
    SmallVector<bool> written(rows, false);
    for (auto [n, row] : llvm::enumerate(targets)) {
      source[row] = n;
      written[row] = true;
    }
    Value index = ctx.constant(DenseElementsAttr::get(
        RankedTensorType::get({rows}, ctx.builder.getI64Type()),
        ArrayRef(source)));
    Value mask = ctx.constant(DenseElementsAttr::get(
        RankedTensorType::get({rows, 1}, ctx.builder.getI1Type()),
        ArrayRef(written)));
    result = ctx.fold<WhereOp>(mask, ctx.fold<GatherOp>(updates2d, index, 0),
                               data2d);
  }
  return ctx.reshape(result, shape);
}

static Value convertScatterND(ImportContext &ctx, const onnx::NodeProto &node) {
  std::string reduction = stringAttr(node, "reduction", "none");
  if (reduction != "none" && reduction != "add")
    fail("reduction '" + reduction + "' is not supported (only none and add)");
  Value data = ctx.input(node, 0), updates = ctx.input(node, 2);
  ArrayRef<int64_t> shape = typeOf(data).getShape();
  ArrayRef<int64_t> indexShape = typeOf(ctx.input(node, 1)).getShape();
  SmallVector<int64_t> indices = constantInts(ctx.input(node, 1), "indices");
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
    return scatterRows(ctx, data, updates, targets, reduction == "add");

  SmallVector<int64_t> blockShape(box);
  blockShape.append(shape.begin() + depth, shape.end());
  Value block = ctx.reshape(updates, blockShape);
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
      return ctx.fold<SliceOp>(into, starts, limits, strides);
    };
    Values pieces;
    if (lows[d] > 0)
      pieces.push_back(part(0, lows[d]));
    pieces.push_back(insert(part(lows[d], highs[d]), d + 1));
    if (highs[d] < dims[d])
      pieces.push_back(part(highs[d], dims[d]));
    return pieces.size() == 1 ? pieces[0] : ctx.fold<ConcatOp>(pieces, d);
  };
  return insert(data, 0);
}

static Value convertPad(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  int64_t rank = shape.size();
  std::string mode = stringAttr(node, "mode", "constant");
  if (!::dsp::format::parsePadMode(mode))
    fail("mode '" + mode +
         "' is not supported (constant, reflect and edge are)");
  SmallVector<int64_t> given = constantInts(ctx.input(node, 1), "pads");
  // From opset 18 the optional axes input names the padded dims.
  SmallVector<int64_t> axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  if (ctx.opset >= 18)
    if (std::optional<SmallVector<int64_t>> named =
            ctx.optionalConstantInts(node, 3))
      axes = *named;
  int64_t count = axes.size();
  if (static_cast<int64_t>(given.size()) != 2 * count)
    fail("pads has " + Twine(given.size()) + " values, expected " +
         Twine(2 * count) + " (a begin and an end per padded dim)");
  SmallVector<int64_t> pads(2 * rank, 0);
  for (auto [i, a] : llvm::enumerate(axes)) {
    int64_t axis = normalizeAxis(a, rank);
    pads[axis] = given[i];
    pads[rank + axis] = given[count + i];
  }
  // Negative pads crop: slice them off first.
  SmallVector<int64_t> starts(rank, 0), limits(shape), strides(rank, 1);
  for (int64_t d = 0; d < rank; ++d) {
    int64_t &begin = pads[d], &end = pads[rank + d];
    if (begin < -shape[d] || end < -shape[d] ||
        std::max<int64_t>(-begin, 0) + std::max<int64_t>(-end, 0) > shape[d])
      fail("pads " + Twine(begin) + " and " + Twine(end) +
           " crop more than dim " + Twine(d) + " of size " + Twine(shape[d]) +
           " holds");
    starts[d] = std::max<int64_t>(-begin, 0);
    limits[d] = shape[d] - std::max<int64_t>(-end, 0);
    begin = std::max<int64_t>(begin, 0);
    end = std::max<int64_t>(end, 0);
  }
  x = ctx.fold<SliceOp>(x, starts, limits, strides);
  // Only constant mode reads constant_value.
  Value value;
  if (Value fill = ctx.optionalInput(node, 2); fill && mode == "constant") {
    if (typeOf(fill).getNumElements() != 1 ||
        typeOf(fill).getElementType() != typeOf(x).getElementType())
      fail("constant_value must be one value of the input's element type");
    value = ctx.reshape(fill, {});
  }
  return ctx.fold<PadOp>(x, value, pads, mode);
}

static Value convertScatterElements(ImportContext &ctx,
                                    const onnx::NodeProto &node) {
  std::string reduction = stringAttr(node, "reduction", "none");
  if (reduction != "none" && reduction != "add")
    fail("reduction '" + reduction + "' is not supported (only none and add)");
  Value data = ctx.input(node, 0), given = ctx.input(node, 1);
  Value updates = ctx.input(node, 2);
  if (reduction == "add")
    requireElementType(data, "the data of reduction 'add'",
                       ElementKind::Numeric);
  requireElementType(given, "input 1", ElementKind::Integer);
  if (typeOf(updates).getElementType() != typeOf(data).getElementType())
    fail("updates must have the data's element type");
  ArrayRef<int64_t> shape = typeOf(data).getShape();
  int64_t axis = normalizeAxis(intAttr(node, "axis", 0), shape.size());
  // Checked and made non-negative here, so that the op reads plain offsets.
  SmallVector<int64_t> indices = constantInts(given, "indices");
  for (int64_t &index : indices) {
    if (index < -shape[axis] || index >= shape[axis])
      fail("index " + Twine(index) + " is out of range for axis " +
           Twine(axis) + " of size " + Twine(shape[axis]));
    if (index < 0)
      index += shape[axis];
  }
  Value normalized = ctx.constant(DenseElementsAttr::get(
      RankedTensorType::get(typeOf(given).getShape(), ctx.builder.getI64Type()),
      ArrayRef(indices)));
  return ctx.fold<ScatterElementsOp>(data, normalized, updates, axis,
                                     reduction);
}

/// A 1-D constant holding `data`.
template <typename T>
static Value vectorConstant(ImportContext &ctx, ArrayRef<T> data, Type type) {
  return ctx.constant(DenseElementsAttr::get(
      RankedTensorType::get({static_cast<int64_t>(data.size())}, type), data));
}

static Value convertConstant(ImportContext &ctx, const onnx::NodeProto &node) {
  if (node.attribute_size() != 1)
    fail("must have exactly one value attribute");
  const onnx::AttributeProto &attr = node.attribute(0);
  StringRef name = attr.name();
  if (name == "value") {
    onnx::TensorProto tensor = attr.t();
    return ctx.constant(ctx.tensorAttr(tensor, /*allowBlob=*/false));
  }
  if (name == "value_float")
    return ctx.scalar(attr.f(), ctx.builder.getF32Type());
  if (name == "value_int")
    return ctx.constant(DenseElementsAttr::get(
        RankedTensorType::get({}, ctx.builder.getI64Type()),
        ctx.builder.getI64IntegerAttr(attr.i())));
  if (name == "value_floats")
    return vectorConstant(
        ctx, ArrayRef<float>(attr.floats().data(), attr.floats().size()),
        ctx.builder.getF32Type());
  if (name == "value_ints")
    return vectorConstant(
        ctx, ArrayRef<int64_t>(attr.ints().data(), attr.ints().size()),
        ctx.builder.getI64Type());
  fail("value attribute '" + name + "' is not supported");
}

static Value convertConstantOfShape(ImportContext &ctx,
                                    const onnx::NodeProto &node) {
  SmallVector<int64_t> shape = constantInts(ctx.input(node, 0), "shape");
  ElementsAttr value;
  if (const auto *attr = attribute(node, "value")) {
    onnx::TensorProto tensor = attr->t();
    value = ctx.tensorAttr(tensor, /*allowBlob=*/false);
  } else {
    value = DenseElementsAttr::get(
        RankedTensorType::get({1}, ctx.builder.getF32Type()), 0.0f);
  }
  auto dense = cast<DenseElementsAttr>(value);
  // ONNX fills the shape with the value's one element.
  if (dense.getNumElements() != 1)
    fail("attribute 'value' must hold one element, got " +
         Twine(dense.getNumElements()));
  auto type = RankedTensorType::get(shape, dense.getElementType());
  return ctx.constant(
      DenseElementsAttr::get(type, dense.getSplatValue<Attribute>()));
}

static Value convertShape(ImportContext &ctx, const onnx::NodeProto &node) {
  ArrayRef<int64_t> shape = typeOf(ctx.input(node, 0)).getShape();
  int64_t rank = shape.size();
  // Shape's start and end (opset 15) clamp like Slice.
  auto clampIndex = [&](int64_t v) {
    return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank);
  };
  int64_t start = clampIndex(intAttr(node, "start", 0));
  int64_t end = clampIndex(intAttr(node, "end", rank));
  SmallVector<int64_t> dims(shape.begin() + start,
                            shape.begin() + std::max(start, end));
  return vectorConstant(ctx, ArrayRef<int64_t>(dims), ctx.builder.getI64Type());
}

void onnx_import::registerShapeConverters(ConverterTable &table) {
  table.add("Identity", convertIdentity);
  table.add("Reshape", convertReshape);
  table.add("Transpose", convertTranspose);
  table.add("Concat", convertConcat);
  table.add("Slice", convertSlice);
  table.add("Split", convertSplit);
  table.add("Gather", convertGather);
  table.add("GatherND", convertGatherND);
  table.add("NonZero", convertNonZero);
  table.add("Squeeze", convertSqueeze);
  table.add("Unsqueeze", convertUnsqueeze);
  table.add("Flatten", convertFlatten);
  table.add("Expand", convertExpand);
  table.add("Tile", convertTile);
  table.add("ScatterND", convertScatterND);
  table.add("ScatterElements", convertScatterElements);
  table.add("Pad", convertPad);
  table.add("Constant", convertConstant);
  table.add("ConstantOfShape", convertConstantOfShape);
  table.add("Shape", convertShape);
}
