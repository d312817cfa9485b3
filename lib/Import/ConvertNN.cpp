//===- ConvertNN.cpp - ONNX ops of neural network layers ------------------===//
//
// Matrix products (MatMul, Gemm, Einsum), convolution, normalizations,
// softmax, reductions and Dropout at inference.
//
//===----------------------------------------------------------------------===//

#include "ImportContext.h"
#include "dsp/Format/Checked.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <map>

using namespace mlir;
using namespace mlir::dsp;
using namespace mlir::dsp::onnx_import;

static Value matmul(ImportContext &ctx, Value lhs, Value rhs) {
  // ONNX promotes 1-D operands to matrices and drops the added dim after.
  ArrayRef<int64_t> l = typeOf(lhs).getShape(), r = typeOf(rhs).getShape();
  if (l.empty() || r.empty())
    fail("MatMul operands must have rank 1 or more");
  bool vectorLhs = l.size() == 1, vectorRhs = r.size() == 1;
  if (vectorLhs)
    lhs = ctx.reshape(lhs, {1, l[0]});
  if (vectorRhs)
    rhs = ctx.reshape(rhs, {r[0], 1});
  ArrayRef<int64_t> l2 = typeOf(lhs).getShape(), r2 = typeOf(rhs).getShape();
  if (l2.back() != r2[r2.size() - 2])
    fail("MatMul contracting dims differ: " + Twine(l2.back()) + " and " +
         Twine(r2[r2.size() - 2]));
  Value product = ctx.fold<MatMulOp>(lhs, rhs);
  if (!vectorLhs && !vectorRhs)
    return product;
  SmallVector<int64_t> shape(typeOf(product).getShape());
  if (vectorRhs)
    shape.pop_back();
  if (vectorLhs)
    shape.erase(shape.end() - (vectorRhs ? 1 : 2));
  return ctx.reshape(product, shape);
}

static Value convertMatMul(ImportContext &ctx, const onnx::NodeProto &node) {
  return matmul(ctx, ctx.input(node, 0), ctx.input(node, 1));
}

static Value convertGemm(ImportContext &ctx, const onnx::NodeProto &node) {
  Value a = ctx.input(node, 0), b = ctx.input(node, 1);
  if (typeOf(a).getRank() != 2 || typeOf(b).getRank() != 2)
    fail("Gemm operands must be matrices");
  if (intAttr(node, "transA", 0))
    a = ctx.fold<TransposeOp>(a, ArrayRef<int64_t>{1, 0});
  if (intAttr(node, "transB", 0))
    b = ctx.fold<TransposeOp>(b, ArrayRef<int64_t>{1, 0});
  Type type = typeOf(a).getElementType();
  Value result = ctx.fold<MatMulOp>(a, b);
  float alpha = floatAttr(node, "alpha", 1.0f);
  if (alpha != 1.0f)
    result = ctx.fold<MulOp>(result, ctx.scalar(alpha, type));
  if (Value c = ctx.optionalInput(node, 2)) {
    float beta = floatAttr(node, "beta", 1.0f);
    if (beta != 1.0f)
      c = ctx.fold<MulOp>(c, ctx.scalar(beta, type));
    result = ctx.fold<AddOp>(result, c);
  }
  return result;
}

static Value convertSoftmax(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  RankedTensorType type = typeOf(x);
  int64_t rank = type.getRank();
  if (ctx.opset >= 13) {
    int64_t axis = normalizeAxis(intAttr(node, "axis", -1), rank);
    return ctx.fold<SoftmaxOp>(x, axis);
  }
  // Before opset 13 the input is coerced to 2-D at `axis`: the softmax runs
  // over all trailing dims together.
  int64_t axis = normalizeAxis(intAttr(node, "axis", 1), rank);
  // When the dims after `axis` are all 1 (axis -1 above all), the 2-D
  // softmax is the one over `axis`: import it as such, so that it reads
  // like opset 13's (and attention fuses).
  if (llvm::all_of(type.getShape().drop_front(axis + 1),
                   [](int64_t d) { return d == 1; }))
    return ctx.fold<SoftmaxOp>(x, axis);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < axis ? outer : inner) *= type.getDimSize(d);
  Value flat = ctx.reshape(x, {outer, inner});
  return ctx.reshape(ctx.fold<SoftmaxOp>(flat, int64_t{1}), type.getShape());
}

static Values convertLayerNorm(ImportContext &ctx,
                               const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  int64_t rank = typeOf(x).getRank();
  int64_t axis = normalizeAxis(intAttr(node, "axis", -1), rank);
  float epsilon = floatAttr(node, "epsilon", 1e-5f);
  Values results = {
      ctx.fold<LayerNormOp>(x, ctx.input(node, 1), ctx.optionalInput(node, 2),
                            ctx.builder.getI64IntegerAttr(axis),
                            ctx.builder.getF64FloatAttr(epsilon))};
  auto used = [&](int index) {
    return index < node.output_size() && !node.output(index).empty();
  };
  if (!used(1) && !used(2))
    return results;
  // Mean and InvStdDev keep the normalized dims as 1s; computed apart from
  // the fused op, which does not expose them. They have the stash type,
  // float32 unless stash_type says otherwise.
  SmallVector<int64_t> axes = llvm::to_vector(llvm::seq<int64_t>(axis, rank));
  Type type = ctx.elementType(
      intAttr(node, "stash_type", onnx::TensorProto::FLOAT), "stash_type");
  if (!isa<FloatType>(type))
    fail("stash_type must be a float type");
  if (typeOf(x).getElementType() != type)
    x = ctx.fold<CastOp>(RankedTensorType::get(typeOf(x).getShape(), type), x);
  Value mean = ctx.fold<ReduceMeanOp>(x, axes, true);
  Value centered = ctx.fold<SubOp>(x, mean);
  Value variance =
      ctx.fold<ReduceMeanOp>(ctx.fold<MulOp>(centered, centered), axes, true);
  Value invStdDev = ctx.fold<ReciprocalOp>(
      ctx.fold<SqrtOp>(ctx.fold<AddOp>(variance, ctx.scalar(epsilon, type))));
  results.push_back(mean);
  results.push_back(invStdDev);
  return results;
}

static Values convertDropout(ImportContext &ctx, const onnx::NodeProto &node) {
  // Inference: the output is the input and the mask all true. Before opset
  // 12 the ratio is an attribute and there is no training mode.
  Value x = ctx.input(node, 0);
  if (ctx.opset >= 12) {
    if (std::optional<SmallVector<int64_t>> training =
            ctx.optionalConstantInts(node, 2);
        training && llvm::any_of(*training, [](int64_t t) { return t != 0; })) {
      Value ratio = ctx.optionalInput(node, 1);
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
        RankedTensorType::get(typeOf(x).getShape(), ctx.builder.getI1Type());
    results.push_back(ctx.constant(DenseElementsAttr::get(type, true)));
  }
  return results;
}

static Value convertConv(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0), w = ctx.input(node, 1);
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
  return ctx.fold<ConvOp>(x, w, ctx.optionalInput(node, 2), strides, pads,
                          dilations, intAttr(node, "group", 1));
}

/// The sorted axes a reduction reduces, given as input from opset
/// `axesInputSince`; none where it is a no-op.
static std::optional<SmallVector<int64_t>>
reducedAxes(ImportContext &ctx, const onnx::NodeProto &node,
            int64_t axesInputSince, int64_t rank) {
  std::optional<SmallVector<int64_t>> given = ctx.axes(node, axesInputSince, 1);
  if (!given || given->empty()) {
    if (intAttr(node, "noop_with_empty_axes", 0))
      return std::nullopt;
    return llvm::to_vector(llvm::seq<int64_t>(0, rank));
  }
  SmallVector<int64_t> reduced;
  for (int64_t a : *given)
    reduced.push_back(normalizeAxis(a, rank));
  llvm::sort(reduced);
  reduced.erase(llvm::unique(reduced), reduced.end());
  return reduced;
}

/// Reduces over the axes given as input from opset `AxesInputSince`.
template <typename Op, int64_t AxesInputSince>
static Value convertReduce(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  requireElementType(x, "input 0", ElementKind::Float);
  std::optional<SmallVector<int64_t>> reduced =
      reducedAxes(ctx, node, AxesInputSince, typeOf(x).getRank());
  if (!reduced)
    return x;
  return ctx.fold<Op>(x, *reduced, intAttr(node, "keepdims", 1) != 0);
}

/// ReduceSum of floats is dsp.reduce_sum; of integers (the length of a text
/// mask), which dsp.reduce_sum does not take, it is computed while the model
/// is read, so the integers must be constant.
static Value convertReduceSum(ImportContext &ctx, const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  Type elementType = typeOf(x).getElementType();
  if (!elementType.isSignlessInteger() || elementType.isInteger(1))
    return convertReduce<ReduceSumOp, 13>(ctx, node);
  DenseElementsAttr values = computableConstant(x);
  if (!values)
    fail("input 0 must be a float tensor, got " +
         std::string(llvm::formatv("{0}", x.getType())) +
         "; integers are summed while the model is read, where they are "
         "constant (from a graph input: --freeze-input=NAME=@FILE.npy)");
  ArrayRef<int64_t> shape = typeOf(x).getShape();
  int64_t rank = shape.size();
  std::optional<SmallVector<int64_t>> reduced =
      reducedAxes(ctx, node, 13, rank);
  if (!reduced)
    return x;
  bool keepdims = intAttr(node, "keepdims", 1) != 0;
  SmallVector<bool> isReduced(rank, false);
  SmallVector<int64_t> resultShape;
  for (int64_t a : *reduced)
    isReduced[a] = true;
  for (int64_t d = 0; d < rank; ++d)
    if (!isReduced[d] || keepdims)
      resultShape.push_back(isReduced[d] ? 1 : shape[d]);
  auto resultType = RankedTensorType::get(resultShape, elementType);
  SmallVector<APInt> sums(resultType.getNumElements(),
                          APInt(elementType.getIntOrFloatBitWidth(), 0));
  SmallVector<int64_t> coordinates(rank, 0);
  for (const APInt &value : values.getValues<APInt>()) {
    int64_t target = 0;
    for (int64_t d = 0; d < rank; ++d)
      if (!isReduced[d])
        target = target * shape[d] + coordinates[d];
    sums[target] += value;
    for (int64_t d = rank - 1; d >= 0 && ++coordinates[d] == shape[d]; --d)
      coordinates[d] = 0;
  }
  return ctx.constant(DenseElementsAttr::get(resultType, sums));
}

static Value normalizeGroups(ImportContext &ctx, Value x, int64_t groups,
                             float epsilon, Value groupScale, Value groupBias) {
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
  Value ones =
      ctx.constant(DenseElementsAttr::get(RankedTensorType::get({size}, type),
                                          ctx.builder.getFloatAttr(type, 1.0)));
  Value normalized = ctx.fold<LayerNormOp>(
      ctx.reshape(x, {shape[0], groups, size}), ones, Value(),
      ctx.builder.getI64IntegerAttr(2), ctx.builder.getF64FloatAttr(epsilon));
  if (groupScale) {
    auto perGroup = [&](Value v, StringRef what) {
      if (typeOf(v).getShape() != ArrayRef<int64_t>{groups})
        fail(what + " must have one value per group (" + Twine(groups) + ")");
      return ctx.reshape(v, {groups, 1});
    };
    Value scale = perGroup(groupScale, "scale");
    Value bias = perGroup(groupBias, "bias");
    normalized = ctx.fold<AddOp>(ctx.fold<MulOp>(normalized, scale), bias);
  }
  return ctx.reshape(normalized, shape);
}

/// `x` ([N, C, D...]) scaled and shifted per channel by inputs
/// `scaleIndex` and `scaleIndex + 1` of `node`, each [C].
static Value scaleAndShiftChannels(ImportContext &ctx,
                                   const onnx::NodeProto &node, Value x,
                                   int scaleIndex) {
  int64_t rank = typeOf(x).getRank();
  int64_t channels = typeOf(x).getDimSize(1);
  // Scale and bias per channel, broadcast over [C, 1, ...].
  SmallVector<int64_t> perChannel(rank - 1, 1);
  perChannel[0] = channels;
  auto affine = [&](int index, StringRef what) {
    Value v = ctx.input(node, index);
    if (typeOf(v).getShape() != ArrayRef<int64_t>{channels})
      fail(what + " must have one value per channel (" + Twine(channels) + ")");
    return ctx.reshape(v, perChannel);
  };
  Value scale = affine(scaleIndex, "scale");
  Value bias = affine(scaleIndex + 1, "bias");
  return ctx.fold<AddOp>(ctx.fold<MulOp>(x, scale), bias);
}

static Value convertInstanceNorm(ImportContext &ctx,
                                 const onnx::NodeProto &node) {
  Value x = ctx.input(node, 0);
  int64_t rank = typeOf(x).getRank();
  int64_t channels = rank > 1 ? typeOf(x).getDimSize(1) : 0;
  Value normalized = normalizeGroups(ctx, x, channels,
                                     floatAttr(node, "epsilon", 1e-5f), {}, {});
  return scaleAndShiftChannels(ctx, node, normalized, 1);
}

static Value convertGroupNorm(ImportContext &ctx, const onnx::NodeProto &node) {
  if (ctx.opset < 18)
    fail("GroupNormalization exists from opset 18");
  if (!attribute(node, "num_groups"))
    fail("num_groups is required");
  Value x = ctx.input(node, 0);
  int64_t groups = intAttr(node, "num_groups", 0);
  float epsilon = floatAttr(node, "epsilon", 1e-5f);
  // Opset 18 scales and shifts per group, opset 21 per channel.
  if (ctx.opset < 21)
    return normalizeGroups(ctx, x, groups, epsilon, ctx.input(node, 1),
                           ctx.input(node, 2));
  // The statistics are computed in f32, as stash_type 1 (the default) asks.
  if (int64_t stash = intAttr(node, "stash_type", 1); stash != 1)
    fail("stash_type " + Twine(stash) +
         " is not supported (statistics are computed in float32, stash_type "
         "1)");
  return scaleAndShiftChannels(
      ctx, node, normalizeGroups(ctx, x, groups, epsilon, {}, {}), 1);
}

static Value convertEinsum(ImportContext &ctx, const onnx::NodeProto &node) {
  if (ctx.opset < 12)
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
    operands.push_back(ctx.input(node, i));
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
      value = ctx.fold<ReduceSumOp>(value, summed, /*keepdims=*/false);
    SmallVector<int64_t> full;
    for (char label : kept)
      full.push_back(sizeOf(label));
    if (ArrayRef<int64_t>(full) != typeOf(value).getShape())
      value = ctx.fold<ExpandOp>(
          RankedTensorType::get(full, typeOf(value).getElementType()), value);
    return std::make_pair(value, kept);
  };
  auto permute = [&](Value value, StringRef from, StringRef to) {
    SmallVector<int64_t> perm;
    for (char label : to)
      perm.push_back(from.find(label));
    return ctx.fold<TransposeOp>(value, perm);
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
    return ctx.reshape(permuted, shape);
  };
  Value result = matmul(ctx, matrix(a, aLabels, rows, contracted),
                        matrix(b, bLabels, contracted, cols));
  SmallVector<int64_t> shape(batchShape);
  for (char label : rows + cols)
    shape.push_back(sizeOf(label));
  return permute(ctx.reshape(result, shape), batch + rows + cols, output);
}

void onnx_import::registerNNConverters(ConverterTable &table) {
  table.add("MatMul", convertMatMul, 2);
  table.add("Gemm", convertGemm, 3);
  table.add("Einsum", convertEinsum, 2);
  table.add("Conv", convertConv, 3);
  // ReduceSum took axes as an input from opset 13, the others from 18.
  table.add("ReduceMean", convertReduce<ReduceMeanOp, 18>, 1);
  table.add("ReduceSum", convertReduceSum);
  table.add("ReduceMax", convertReduce<ReduceMaxOp, 18>, 1);
  table.add("Softmax", convertSoftmax, 1);
  table.add("LayerNormalization", convertLayerNorm, 3);
  table.add("InstanceNormalization", convertInstanceNorm, 3);
  table.add("GroupNormalization", convertGroupNorm, 3);
  table.add("Dropout", convertDropout);
}
