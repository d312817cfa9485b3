//===- Kernels.cpp - CUDA kernels of the compute and data-movement ops ----===//
//
// Data movement is one strided copy: transpose permutes the source strides,
// slice offsets and scales them, expand zeroes the broadcast ones, tile
// walks [repeat, extent] pairs with a zero stride for the repeat, concat
// copies each input into its window of the output.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "CudnnAttention.h"

#include "dsp/Format/AttentionLayout.h"
#include "dsp/Format/Padding.h"

#include "dsp/Format/ProgramFile.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

using dsp::program::DType;

namespace dsp {
namespace runtime {
namespace cuda {

Status check(cudaError_t error, const char *call) {
  if (error == cudaSuccess)
    return Status::success();
  return Status::error(std::string(call) +
                       " failed: " + cudaGetErrorName(error) + " (" +
                       cudaGetErrorString(error) + ")");
}

Status check(cublasStatus_t status, const char *call) {
  if (status == CUBLAS_STATUS_SUCCESS)
    return Status::success();
  return Status::error(std::string(call) + " failed: cuBLAS status " +
                       std::to_string(static_cast<int>(status)));
}

std::optional<ElementType> elementType(DType dtype) {
  switch (dtype) {
  case dsp::program::F32:
    return ElementType::F32;
  case dsp::program::F16:
    return ElementType::F16;
  case dsp::program::BF16:
    return ElementType::BF16;
  case dsp::program::I64:
    return ElementType::I64;
  case dsp::program::BOOL:
    return ElementType::Bool;
  default:
    return std::nullopt;
  }
}

template <int Operands>
Status makeGeometry(const Shape &shape,
                    const std::vector<Shape> &operandStrides,
                    StridedGeometry<Operands> &geometry) {
  geometry = StridedGeometry<Operands>();
  geometry.count = elementCount(shape);
  // Innermost first, then reversed into place.
  Shape dims;
  std::vector<Shape> strides(Operands);
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] == 1)
      continue;
    bool merge = !dims.empty();
    for (int o = 0; merge && o < Operands; ++o)
      merge = operandStrides[o][d] == strides[o].back() * dims.back();
    if (merge) {
      dims.back() *= shape[d];
      continue;
    }
    dims.push_back(shape[d]);
    for (int o = 0; o < Operands; ++o)
      strides[o].push_back(operandStrides[o][d]);
  }
  if (dims.size() > static_cast<size_t>(kMaxDims))
    return Status::error("the cuda backend walks at most " +
                         std::to_string(kMaxDims) +
                         " dims after merging contiguous ones, this needs " +
                         std::to_string(dims.size()));
  geometry.rank = static_cast<int>(dims.size());
  for (int d = 0; d < geometry.rank; ++d) {
    geometry.shape[d] = dims[dims.size() - 1 - d];
    for (int o = 0; o < Operands; ++o)
      geometry.strides[o][d] = strides[o][dims.size() - 1 - d];
  }
  return Status::success();
}

template Status makeGeometry<1>(const Shape &, const std::vector<Shape> &,
                                StridedGeometry<1> &);
template Status makeGeometry<2>(const Shape &, const std::vector<Shape> &,
                                StridedGeometry<2> &);
template Status makeGeometry<3>(const Shape &, const std::vector<Shape> &,
                                StridedGeometry<3> &);
template Status makeGeometry<4>(const Shape &, const std::vector<Shape> &,
                                StridedGeometry<4> &);

Shape broadcastStrides(const Shape &in, const Shape &out) {
  Shape strides(out.size(), 0);
  Shape contiguous = contiguousStrides(in);
  size_t offset = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d)
    if (in[d] != 1)
      strides[offset + d] = contiguous[d];
  return strides;
}

Status copyBytes(void *target, const void *source, size_t bytes,
                 cudaStream_t stream) {
  if (bytes == 0 || target == source)
    return Status::success();
  return check(
      cudaMemcpyAsync(target, source, bytes, cudaMemcpyDeviceToDevice, stream),
      "cudaMemcpyAsync");
}

std::unique_ptr<Kernel> makeLaunch(
    const KernelContext &context, const char *what,
    std::function<cudaError_t(const KernelArgs &, cudaStream_t)> launch) {
  std::string call = std::string("the ") + what + " launch";
  cudaStream_t stream = context.resources.stream;
  return makeKernel([=](const KernelArgs &args) {
    return check(launch(args, stream), call.c_str());
  });
}

Status stridedCopy(const CopyGeometry &geometry, size_t elementSize,
                   const void *source, void *target, cudaStream_t stream) {
  return check(launchStridedCopy(geometry, elementSize, source, target, stream),
               "the strided copy kernel launch");
}

namespace {

UnaryOp unaryOp(Op op, const dsp::program::Instruction &instruction) {
  switch (op) {
  case Op::Neg:
    return UnaryOp::Neg;
  case Op::Exp:
    return UnaryOp::Exp;
  case Op::Log:
    return UnaryOp::Log;
  case Op::Sqrt:
    return UnaryOp::Sqrt;
  case Op::Reciprocal:
    return UnaryOp::Reciprocal;
  case Op::Abs:
    return UnaryOp::Abs;
  case Op::Erf:
    return UnaryOp::Erf;
  case Op::Tanh:
    return UnaryOp::Tanh;
  case Op::Sigmoid:
    return UnaryOp::Sigmoid;
  case Op::Relu:
    return UnaryOp::Relu;
  case Op::Sin:
    return UnaryOp::Sin;
  case Op::Cos:
    return UnaryOp::Cos;
  case Op::Silu:
    return UnaryOp::Silu;
  case Op::Gelu:
    return format::stringAttribute(instruction, "approximate", "none") == "tanh"
               ? UnaryOp::GeluTanh
               : UnaryOp::GeluErf;
  case Op::IsNan:
    return UnaryOp::IsNan;
  case Op::Not:
    return UnaryOp::Not;
  default:
    return UnaryOp::Cast;
  }
}

BinaryOp binaryOp(Op op, const dsp::program::Instruction &instruction) {
  switch (op) {
  case Op::Add:
    return BinaryOp::Add;
  case Op::Sub:
    return BinaryOp::Sub;
  case Op::Mul:
    return BinaryOp::Mul;
  case Op::Div:
    return BinaryOp::Div;
  case Op::Pow:
    return BinaryOp::Pow;
  case Op::Max:
    return BinaryOp::Max;
  case Op::Min:
    return BinaryOp::Min;
  case Op::Mod:
    return format::intsAttribute(instruction, "fmod")[0] != 0 ? BinaryOp::FMod
                                                              : BinaryOp::Mod;
  case Op::Equal:
    return BinaryOp::Equal;
  case Op::Less:
    return BinaryOp::Less;
  case Op::LessEqual:
    return BinaryOp::LessEqual;
  case Op::Greater:
    return BinaryOp::Greater;
  case Op::GreaterEqual:
    return BinaryOp::GreaterEqual;
  case Op::And:
    return BinaryOp::And;
  case Op::Or:
    return BinaryOp::Or;
  default:
    return BinaryOp::Xor;
  }
}

/// A kernel that copies input 0, walked from `sourceOffset` with
/// `sourceStrides` over `shape`, into the contiguous output.
Status makeCopy(const KernelContext &context, const Shape &shape,
                const Shape &sourceStrides, std::unique_ptr<Kernel> &kernel,
                int64_t sourceOffset = 0) {
  CopyGeometry geometry;
  Status status = makeGeometry<2>(
      shape, {contiguousStrides(shape), sourceStrides}, geometry);
  if (!status)
    return status;
  size_t elementSize = format::elementSize(context.output().dtype());
  cudaStream_t stream = context.resources.stream;
  kernel = makeKernel([=](const KernelArgs &args) {
    return stridedCopy(geometry, elementSize,
                       static_cast<const uint8_t *>(args.inputs[0]) +
                           sourceOffset * static_cast<int64_t>(elementSize),
                       args.output, stream);
  });
  return Status::success();
}

} // namespace

Status createUnaryKernel(const KernelContext &context,
                         std::unique_ptr<Kernel> &kernel) {
  ElementType in = context.inputType, out = context.outputType;
  UnaryOp op = unaryOp(context.op, context.instruction);
  int64_t count = elementCount(context.outputShape());
  kernel = makeLaunch(context, "unary kernel",
                      [=](const KernelArgs &args, cudaStream_t stream) {
                        return launchUnary(op, in, out, args.inputs[0],
                                           args.output, count, stream);
                      });
  return Status::success();
}

Status createBinaryKernel(const KernelContext &context,
                          std::unique_ptr<Kernel> &kernel) {
  ElementType in = context.inputType, out = context.outputType;
  Shape shape = context.outputShape();
  StridedGeometry<3> geometry;
  Status status = makeGeometry<3>(
      shape,
      {contiguousStrides(shape), broadcastStrides(context.inputShape(0), shape),
       broadcastStrides(context.inputShape(1), shape)},
      geometry);
  if (!status)
    return status;
  BinaryOp op = binaryOp(context.op, context.instruction);
  kernel =
      makeLaunch(context, "binary kernel",
                 [=](const KernelArgs &args, cudaStream_t stream) {
                   return launchBinary(op, in, out, geometry, args.inputs[0],
                                       args.inputs[1], args.output, stream);
                 });
  return Status::success();
}

Status createWhereKernel(const KernelContext &context,
                         std::unique_ptr<Kernel> &kernel) {
  Shape shape = context.outputShape();
  StridedGeometry<4> geometry;
  Status status = makeGeometry<4>(
      shape,
      {contiguousStrides(shape), broadcastStrides(context.inputShape(0), shape),
       broadcastStrides(context.inputShape(1), shape),
       broadcastStrides(context.inputShape(2), shape)},
      geometry);
  if (!status)
    return status;
  size_t elementSize = format::elementSize(context.output().dtype());
  kernel = makeLaunch(context, "where kernel",
                      [=](const KernelArgs &args, cudaStream_t stream) {
                        return launchWhere(geometry, elementSize,
                                           args.inputs[0], args.inputs[1],
                                           args.inputs[2], args.output, stream);
                      });
  return Status::success();
}

Status createReshapeKernel(const KernelContext &context,
                           std::unique_ptr<Kernel> &kernel) {
  size_t bytes = context.output().bytes();
  cudaStream_t stream = context.resources.stream;
  // The buffer plan may give input and output the same bytes: then the
  // copy is skipped.
  kernel = makeKernel([=](const KernelArgs &args) {
    return copyBytes(args.output, args.inputs[0], bytes, stream);
  });
  return Status::success();
}

Status createTransposeKernel(const KernelContext &context,
                             std::unique_ptr<Kernel> &kernel) {
  Shape in = context.inputShape(0), out = context.outputShape();
  Shape perm = format::intsAttribute(context.instruction, "perm");
  Shape inStrides = contiguousStrides(in), source(out.size());
  for (size_t d = 0; d < out.size(); ++d)
    source[d] = inStrides[perm[d]];
  return makeCopy(context, out, source, kernel);
}

Status createSliceKernel(const KernelContext &context,
                         std::unique_ptr<Kernel> &kernel) {
  Shape in = context.inputShape(0), out = context.outputShape();
  Shape starts = format::intsAttribute(context.instruction, "starts");
  Shape steps = format::intsAttribute(context.instruction, "strides");
  Shape inStrides = contiguousStrides(in), source(out.size());
  int64_t offset = 0;
  for (size_t d = 0; d < out.size(); ++d) {
    source[d] = inStrides[d] * steps[d];
    // An empty dim reads nothing: its start need not be in range.
    if (out[d] > 0)
      offset += starts[d] * inStrides[d];
  }
  return makeCopy(context, out, source, kernel, offset);
}

Status createExpandKernel(const KernelContext &context,
                          std::unique_ptr<Kernel> &kernel) {
  Shape out = context.outputShape();
  return makeCopy(context, out, broadcastStrides(context.inputShape(0), out),
                  kernel);
}

Status createTileKernel(const KernelContext &context,
                        std::unique_ptr<Kernel> &kernel) {
  Shape in = context.inputShape(0);
  Shape repeats = format::intsAttribute(context.instruction, "repeats");
  Shape inStrides = contiguousStrides(in);
  // Output dim d is [repeats[d], in[d]] row-major.
  Shape pairs, source;
  for (size_t d = 0; d < in.size(); ++d) {
    pairs.insert(pairs.end(), {repeats[d], in[d]});
    source.insert(source.end(), {0, inStrides[d]});
  }
  return makeCopy(context, pairs, source, kernel);
}

Status createConcatKernel(const KernelContext &context,
                          std::unique_ptr<Kernel> &kernel) {
  int64_t axis = format::intsAttribute(context.instruction, "axis")[0];
  Shape out = context.outputShape();
  Shape outStrides = contiguousStrides(out);
  std::vector<CopyGeometry> pieces(context.numInputs());
  std::vector<int64_t> offsets;
  int64_t position = 0;
  for (int i = 0; i < context.numInputs(); ++i) {
    Shape in = context.inputShape(i);
    Status status =
        makeGeometry<2>(in, {outStrides, contiguousStrides(in)}, pieces[i]);
    if (!status)
      return status;
    offsets.push_back(position * outStrides[axis]);
    position += in[axis];
  }
  size_t elementSize = format::elementSize(context.output().dtype());
  cudaStream_t stream = context.resources.stream;
  kernel = makeKernel([=](const KernelArgs &args) {
    for (size_t i = 0; i < pieces.size(); ++i) {
      Status status = stridedCopy(pieces[i], elementSize, args.inputs[i],
                                  static_cast<uint8_t *>(args.output) +
                                      offsets[i] * elementSize,
                                  stream);
      if (!status)
        return status;
    }
    return Status::success();
  });
  return Status::success();
}

Status createGatherKernel(const KernelContext &context,
                          std::unique_ptr<Kernel> &kernel) {
  int64_t axis = format::intsAttribute(context.instruction, "axis")[0];
  Shape data = context.inputShape(0);
  int64_t rows = elementCount(Shape(data.begin(), data.begin() + axis));
  int64_t axisSize = data[axis];
  int64_t sliceBytes =
      elementCount(Shape(data.begin() + axis + 1, data.end())) *
      format::elementSize(context.output().dtype());
  int64_t numIndices = elementCount(context.inputShape(1));
  Resources &resources = context.resources;
  int32_t tag = resources.registerError([=](const DeviceError &error) {
    return indexOutOfRange(error.value, error.position, axis, axisSize);
  });
  DeviceError *error = resources.error;
  cudaStream_t stream = resources.stream;
  kernel = makeKernel([=](const KernelArgs &args) {
    return check(launchGather(args.inputs[0],
                              static_cast<const int64_t *>(args.inputs[1]),
                              args.output, rows, axisSize, numIndices,
                              sliceBytes, error, tag, stream),
                 "the gather kernel launch");
  });
  return Status::success();
}

Status createPadKernel(const KernelContext &context,
                       std::unique_ptr<Kernel> &kernel) {
  Shape in = context.inputShape(0), out = context.outputShape();
  Shape pads = format::intsAttribute(context.instruction, "pads");
  if (out.size() > static_cast<size_t>(kMaxDims))
    return Status::error("pad of rank " + std::to_string(out.size()) +
                         " is more than the cuda kernel's " +
                         std::to_string(kMaxDims) + " dims");
  PadGeometry geometry;
  geometry.rank = static_cast<int>(out.size());
  geometry.count = elementCount(out);
  geometry.mode = static_cast<uint8_t>(*format::parsePadMode(
      format::stringAttribute(context.instruction, "mode", "constant")));
  for (size_t d = 0; d < out.size(); ++d) {
    geometry.out[d] = out[d];
    geometry.in[d] = in[d];
    geometry.before[d] = pads[d];
  }
  size_t elementSize = format::elementSize(context.output().dtype());
  bool hasValue = context.numInputs() == 2;
  kernel = makeLaunch(context, "pad kernel",
                      [=](const KernelArgs &args, cudaStream_t stream) {
                        return launchPad(geometry, elementSize, args.inputs[0],
                                         hasValue ? args.inputs[1] : nullptr,
                                         args.output, stream);
                      });
  return Status::success();
}

Status createScatterElementsKernel(const KernelContext &context,
                                   std::unique_ptr<Kernel> &kernel) {
  Shape data = context.inputShape(0), indices = context.inputShape(1);
  if (data.size() > static_cast<size_t>(kMaxDims))
    return Status::error("scatter_elements of rank " +
                         std::to_string(data.size()) +
                         " is more than the cuda kernel's " +
                         std::to_string(kMaxDims) + " dims");
  ScatterGeometry geometry;
  geometry.rank = static_cast<int>(data.size());
  geometry.axis =
      static_cast<int>(format::intsAttribute(context.instruction, "axis")[0]);
  geometry.axisSize = data[geometry.axis];
  Shape strides = contiguousStrides(data);
  for (size_t d = 0; d < data.size(); ++d) {
    geometry.indices[d] = indices[d];
    geometry.dataStrides[d] = strides[d];
  }
  dsp::program::DType dtype = context.output().dtype();
  ScatterReduction reduction = ScatterReduction::None;
  if (format::stringAttribute(context.instruction, "reduction", "none") ==
      "add")
    reduction = dtype == dsp::program::F32 ? ScatterReduction::AddF32
                                           : ScatterReduction::AddI64;
  size_t elementSize = format::elementSize(dtype);
  size_t dataBytes = elementCount(data) * elementSize;
  int64_t axis = geometry.axis, axisSize = geometry.axisSize;
  Resources &resources = context.resources;
  int32_t tag = resources.registerError([=](const DeviceError &error) {
    return indexOutOfRange(error.value, error.position, axis, axisSize);
  });
  DeviceError *error = resources.error;
  cudaStream_t stream = resources.stream;
  bool empty = elementCount(indices) == 0;
  kernel = makeKernel([=](const KernelArgs &args) {
    if (args.output != args.inputs[0]) {
      Status status = copyBytes(args.output, args.inputs[0], dataBytes, stream);
      if (!status)
        return status;
    }
    if (empty)
      return Status::success();
    return check(
        launchScatterElements(geometry, elementSize, reduction,
                              static_cast<const int64_t *>(args.inputs[1]),
                              args.inputs[2], args.output, error, tag, stream),
        "the scatter_elements kernel launch");
  });
  return Status::success();
}

Status createLayerNormKernel(const KernelContext &context,
                             std::unique_ptr<Kernel> &kernel) {
  ElementType type = context.inputType;
  Shape x = context.inputShape(0);
  int64_t axis = format::intsAttribute(context.instruction, "axis")[0];
  int64_t rows = elementCount(Shape(x.begin(), x.begin() + axis));
  int64_t columns = elementCount(Shape(x.begin() + axis, x.end()));
  float epsilon = static_cast<float>(
      format::floatAttribute(context.instruction, "epsilon", 0));
  bool hasBias = context.numInputs() == 3;
  kernel = makeLaunch(context, "layer_norm kernel",
                      [=](const KernelArgs &args, cudaStream_t stream) {
                        return launchLayerNorm(
                            type, args.inputs[0], args.inputs[1],
                            hasBias ? args.inputs[2] : nullptr, args.output,
                            rows, columns, epsilon, stream);
                      });
  return Status::success();
}

Status createSoftmaxKernel(const KernelContext &context,
                           std::unique_ptr<Kernel> &kernel) {
  ElementType type = context.inputType;
  Shape x = context.inputShape(0);
  int64_t axis = format::intsAttribute(context.instruction, "axis")[0];
  int64_t outer = elementCount(Shape(x.begin(), x.begin() + axis));
  int64_t length = x[axis];
  int64_t inner = elementCount(Shape(x.begin() + axis + 1, x.end()));
  kernel = makeLaunch(context, "softmax kernel",
                      [=](const KernelArgs &args, cudaStream_t stream) {
                        return launchSoftmax(type, args.inputs[0], args.output,
                                             outer, length, inner, stream);
                      });
  return Status::success();
}

Status createReduceKernel(const KernelContext &context,
                          std::unique_ptr<Kernel> &kernel) {
  ElementType type = context.inputType;
  Shape in = context.inputShape(0);
  Shape axes = format::intsAttribute(context.instruction, "axes");
  auto [keptShape, keptStrides, reducedShape, reducedStrides] =
      reductionDims(in, axes);
  StridedGeometry<2> kept;
  StridedGeometry<1> reduction;
  Status status;
  if (!(status = makeGeometry<2>(
            keptShape, {contiguousStrides(keptShape), keptStrides}, kept)) ||
      !(status = makeGeometry<1>(reducedShape, {reducedStrides}, reduction)))
    return status;
  ReduceKind kind = context.op == Op::ReduceSum    ? ReduceKind::Sum
                    : context.op == Op::ReduceMean ? ReduceKind::Mean
                                                   : ReduceKind::Max;
  kernel =
      makeLaunch(context, "reduce kernel",
                 [=](const KernelArgs &args, cudaStream_t stream) {
                   return launchReduce(kind, type, kept, reduction,
                                       args.inputs[0], args.output, stream);
                 });
  return Status::success();
}

AttentionGeometry attentionGeometry(const KernelContext &context) {
  const format::AttentionLayout layout =
      format::attentionLayout(context.program, context.instruction);
  const Shape &q = layout.views[0].shape, &k = layout.views[1].shape,
              &v = layout.views[2].shape;
  AttentionGeometry geometry{q[0],
                             q[1],
                             q[2],
                             k[2],
                             k[2],
                             q[3],
                             v[3],
                             static_cast<float>(format::floatAttribute(
                                 context.instruction, "scale", 1.0)),
                             {0, 0, 0, 0}};
  if (context.numInputs() == 4) {
    Shape strides =
        broadcastStrides(context.inputShape(3), {q[0], q[1], q[2], k[2]});
    std::copy(strides.begin(), strides.end(), geometry.maskStrides);
  }
  return geometry;
}

namespace {

/// The own flash-style kernel (Attention.cu).
Status createOwnAttentionKernel(const KernelContext &context,
                                std::unique_ptr<Kernel> &kernel) {
  ElementType type = context.inputType;
  AttentionGeometry geometry = attentionGeometry(context);
  if (!attentionSupports(geometry.depth, geometry.valueDepth))
    return Status::error("the cuda attention kernel takes head dims up to "
                         "256, got " +
                         std::to_string(geometry.depth) + " and " +
                         std::to_string(geometry.valueDepth));
  bool masked = context.numInputs() == 4;
  kernel = makeLaunch(context, "attention kernel",
                      [=](const KernelArgs &args, cudaStream_t stream) {
                        return launchAttention(
                            type, geometry, args.inputs[0], args.inputs[1],
                            args.inputs[2], masked ? args.inputs[3] : nullptr,
                            args.output, stream);
                      });
  return Status::success();
}

} // namespace

/// The attention of contiguous operands and result.
static Status createContiguousAttentionKernel(const KernelContext &context,
                                              std::unique_ptr<Kernel> &kernel) {
  // DSP_CUDA_ATTENTION: cuDNN where it applies, else the own kernel (auto,
  // the default); always the own kernel (own); cuDNN or an error (cudnn).
  const char *variable = std::getenv("DSP_CUDA_ATTENTION");
  std::string choice = variable && *variable ? variable : "auto";
  if (choice != "auto" && choice != "own" && choice != "cudnn")
    return Status::error(
        "DSP_CUDA_ATTENTION must be auto, own or cudnn, got '" + choice + "'");
  std::string reason = "DSP_CUDA_ATTENTION=own";
  if (choice != "own") {
    Status cudnn = createCudnnAttentionKernel(context, kernel);
    if (cudnn)
      return cudnn;
    if (choice == "cudnn")
      return Status::error("DSP_CUDA_ATTENTION=cudnn, but cuDNN does not run "
                           "this attention: " +
                           cudnn.message());
    reason = cudnn.message();
  }
  Status status = createOwnAttentionKernel(context, kernel);
  if (status)
    kernel = withImplementation(std::move(kernel), "own kernel: " + reason);
  return status;
}

namespace {

/// An attention whose operands or result lie transposed (a program compiled
/// for the cpu, whose kernel reads them in place): the transposed ones are
/// copied contiguous into the workspace first, or out of it after, around
/// the kernel of the contiguous attention.
class TransposedAttention : public Kernel {
public:
  TransposedAttention(std::unique_ptr<Kernel> attention,
                      const format::AttentionLayout &layout, int inputCount,
                      size_t elementSize, cudaStream_t stream)
      : attention_(std::move(attention)), inputCount_(inputCount),
        elementSize_(elementSize), stream_(stream) {
    for (int i = 0; i < 4; ++i) {
      const format::AttentionView &view = layout.views[i];
      if (view.contiguous())
        continue;
      Operand &operand = operands_[i];
      operand.copied = true;
      operand.shape = view.shape;
      operand.strides = {view.batchStride, view.headStride, view.rowStride, 1};
      operand.viewBytes = static_cast<size_t>(view.offset) * elementSize;
      operand.offset = workspaceBytes_;
      workspaceBytes_ += deviceAligned(
          static_cast<size_t>(elementCount(view.shape)) * elementSize);
    }
  }

  size_t workspaceBytes() const override {
    return workspaceBytes_ + attention_->workspaceBytes();
  }

  std::string implementation() const override {
    return attention_->implementation();
  }

  Status run(const KernelArgs &args) override {
    uint8_t *workspace = static_cast<uint8_t *>(args.workspace);
    const void *inputs[4] = {};
    std::copy_n(args.inputs, inputCount_, inputs);
    for (int i = 0; i < 3; ++i)
      if (operands_[i].copied) {
        void *copy = workspace + operands_[i].offset;
        const void *view =
            static_cast<const uint8_t *>(inputs[i]) + operands_[i].viewBytes;
        if (Status status = copyView(operands_[i], view, copy, true); !status)
          return status;
        inputs[i] = copy;
      }
    const Operand &out = operands_[3];
    void *output = out.copied ? workspace + out.offset : args.output;
    KernelArgs inner{inputs, output, &output, workspace + workspaceBytes_};
    Status status = attention_->run(inner);
    if (status && out.copied)
      status = copyView(out, output, args.output, false);
    return status;
  }

private:
  struct Operand {
    bool copied = false;
    Shape shape, strides;
    /// Bytes from the stored tensor to the view (a selected index); where
    /// the copy lies in the workspace.
    size_t viewBytes = 0, offset = 0;
  };

  /// Copies between the view of `operand` and its contiguous copy: from the
  /// view at `source` into `target` (`intoCopy`), or back.
  Status copyView(const Operand &operand, const void *source, void *target,
                  bool intoCopy) const {
    const Shape contiguous = format::contiguousStrides(operand.shape);
    CopyGeometry geometry;
    Status status = makeGeometry<2>(operand.shape,
                                    {intoCopy ? contiguous : operand.strides,
                                     intoCopy ? operand.strides : contiguous},
                                    geometry);
    if (!status)
      return status;
    return stridedCopy(geometry, elementSize_, source, target, stream_);
  }

  std::unique_ptr<Kernel> attention_;
  int inputCount_;
  size_t elementSize_;
  cudaStream_t stream_;
  Operand operands_[4];
  size_t workspaceBytes_ = 0;
};

} // namespace

Status createAttentionKernel(const KernelContext &context,
                             std::unique_ptr<Kernel> &kernel) {
  Status status = createContiguousAttentionKernel(context, kernel);
  const format::AttentionLayout layout =
      format::attentionLayout(context.program, context.instruction);
  bool transposed = false;
  for (const format::AttentionView &view : layout.views)
    transposed = transposed || !view.contiguous();
  if (status && transposed)
    kernel = std::make_unique<TransposedAttention>(
        std::move(kernel), layout, context.numInputs(),
        format::elementSize(context.output().dtype()),
        context.resources.stream);
  return status;
}

Status createConvKernel(const KernelContext &context,
                        std::unique_ptr<Kernel> &kernel) {
  ElementType type = context.inputType;
  Shape x = context.inputShape(0), w = context.inputShape(1),
        y = context.outputShape();
  const dsp::program::Instruction &instruction = context.instruction;
  Shape strides = format::intsAttribute(instruction, "strides");
  Shape dilations = format::intsAttribute(instruction, "dilations");
  Shape pads = format::intsAttribute(instruction, "pads");
  size_t spatial = x.size() - 2;
  ConvGeometry geometry{x[0], x[1], w[0],
                        format::intsAttribute(instruction, "group")[0]};
  // Spatial dims right-aligned into three; the missing ones are trivial.
  for (size_t d = 0; d < 3; ++d) {
    bool present = d >= 3 - spatial;
    size_t source = d - (3 - spatial);
    geometry.in[d] = present ? x[2 + source] : 1;
    geometry.kernel[d] = present ? w[2 + source] : 1;
    geometry.out[d] = present ? y[2 + source] : 1;
    geometry.stride[d] = present ? strides[source] : 1;
    geometry.dilation[d] = present ? dilations[source] : 1;
    geometry.pad[d] = present ? pads[source] : 0;
  }
  bool hasBias = context.numInputs() == 3;
  kernel = makeLaunch(
      context, "conv kernel", [=](const KernelArgs &args, cudaStream_t stream) {
        return launchConv(type, geometry, args.inputs[0], args.inputs[1],
                          hasBias ? args.inputs[2] : nullptr, args.output,
                          stream);
      });
  return Status::success();
}

} // namespace cuda
} // namespace runtime
} // namespace dsp
