//===- DataMovement.cpp - Kernels that only move bytes --------------------===//
//
// These kernels are dtype-agnostic: they copy elements of the tensor's size.
// Transpose, slice, expand and tile are all strided copies (see
// StridedLoop.h) that differ only in the strides they read with.
//
//===----------------------------------------------------------------------===//

#include "StridedLoop.h"
#include "dsp/Format/Padding.h"

#include <algorithm>
#include <cstring>

namespace dsp {
namespace runtime {
namespace cpu {

namespace {

/// Copies `count` contiguous elements. Runs of a few elements (a head's 8
/// floats in attention's head splits) are common, and a memcpy call costs
/// more than their bytes: those are copied in 32-byte pieces that compile
/// to a vector load and store each.
template <typename T>
inline void copyRun(T *destination, const T *source, int64_t count) {
  constexpr int64_t kPiece = 32 / sizeof(T);
  if (count > 4 * kPiece) {
    std::memcpy(destination, source, count * sizeof(T));
    return;
  }
  int64_t i = 0;
  for (; i + kPiece <= count; i += kPiece)
    std::memcpy(destination + i, source + i, kPiece * sizeof(T));
  for (; i < count; ++i)
    destination[i] = source[i];
}

template <typename T>
std::unique_ptr<Kernel> makeStridedCopy(StridedPlan plan, ThreadPool &pool) {
  return makeKernel([plan, &pool](const KernelArgs &args) {
    const T *in = static_cast<const T *>(args.inputs[0]);
    T *out = static_cast<T *>(args.output);
    const int64_t stride = plan.innerStride(0);
    forEachRun(pool, plan,
               [&](int64_t o, const int64_t *start, int64_t length) {
                 const T *source = in + start[0];
                 if (stride == 1) {
                   copyRun(out + o, source, length);
                   return;
                 }
                 for (int64_t i = 0; i < length; ++i)
                   out[o + i] = source[i * stride];
               });
    return Status::success();
  });
}

/// A copy of input 0 into the contiguous output, reading the element at
/// output coordinates (c_0, ..., c_n) from offset + sum(c_d * strides[d]).
std::unique_ptr<Kernel> makeStridedCopy(const KernelContext &context,
                                        const Shape &shape,
                                        const Shape &strides, int64_t offset) {
  StridedPlan plan;
  plan.shape = shape;
  plan.numInputs = 1;
  plan.strides[0] = strides;
  plan.offsets[0] = offset;
  coalesce(plan);
  if (elementCount(shape) == 0)
    return makeKernel([](const KernelArgs &) { return Status::success(); });
  switch (format::elementSize(context.output().dtype())) {
  case 1:
    return makeStridedCopy<uint8_t>(plan, context.pool);
  case 2:
    return makeStridedCopy<uint16_t>(plan, context.pool);
  case 4:
    return makeStridedCopy<uint32_t>(plan, context.pool);
  default:
    return makeStridedCopy<uint64_t>(plan, context.pool);
  }
}

} // namespace

std::unique_ptr<Kernel> createReshapeKernel(const KernelContext &context) {
  Shape flat = {elementCount(context.outputShape())};
  std::unique_ptr<Kernel> copy = makeStridedCopy(context, flat, {1}, 0);
  // The buffer plan may give input and output the same bytes: then there
  // is nothing to copy.
  return makeKernel([copy = std::shared_ptr<Kernel>(std::move(copy))](
                        const KernelArgs &args) {
    if (args.output == args.inputs[0])
      return Status::success();
    return copy->run(args);
  });
}

std::unique_ptr<Kernel> createTransposeKernel(const KernelContext &context) {
  Shape perm = format::intsAttribute(context.instruction, "perm");
  Shape inStrides = contiguousStrides(context.inputShape(0));
  Shape strides(perm.size());
  for (size_t d = 0; d < perm.size(); ++d)
    strides[d] = inStrides[perm[d]];
  return makeStridedCopy(context, context.outputShape(), strides, 0);
}

std::unique_ptr<Kernel> createSliceKernel(const KernelContext &context) {
  Shape starts = format::intsAttribute(context.instruction, "starts");
  Shape steps = format::intsAttribute(context.instruction, "strides");
  Shape inStrides = contiguousStrides(context.inputShape(0));
  Shape strides(inStrides.size());
  int64_t offset = 0;
  for (size_t d = 0; d < inStrides.size(); ++d) {
    strides[d] = inStrides[d] * steps[d];
    offset += starts[d] * inStrides[d];
  }
  return makeStridedCopy(context, context.outputShape(), strides, offset);
}

std::unique_ptr<Kernel> createExpandKernel(const KernelContext &context) {
  StridedPlan broadcast =
      makeBroadcastPlan(context.outputShape(), {context.inputShape(0)});
  return makeStridedCopy(context, broadcast.shape, broadcast.strides[0], 0);
}

std::unique_ptr<Kernel> createTileKernel(const KernelContext &context) {
  // View the output [r_0 * d_0, ...] as [r_0, d_0, r_1, d_1, ...]: the
  // repeat dims read with stride 0.
  Shape in = context.inputShape(0);
  Shape repeats = format::intsAttribute(context.instruction, "repeats");
  Shape inStrides = contiguousStrides(in);
  Shape shape, strides;
  for (size_t d = 0; d < in.size(); ++d) {
    shape.insert(shape.end(), {repeats[d], in[d]});
    strides.insert(strides.end(), {0, inStrides[d]});
  }
  return makeStridedCopy(context, shape, strides, 0);
}

std::unique_ptr<Kernel> createConcatKernel(const KernelContext &context) {
  // Output rows are [outer, sum of the inputs' axis extents * inner]; each
  // input contributes one contiguous block to every row.
  int64_t axis = format::intsAttribute(context.instruction, "axis")[0];
  Shape out = context.outputShape();
  size_t elementBytes = format::elementSize(context.output().dtype());
  int64_t outer = elementCount(Shape(out.begin(), out.begin() + axis));
  int64_t inner = elementCount(Shape(out.begin() + axis + 1, out.end()));
  std::vector<size_t> blockBytes, blockOffsets;
  size_t rowBytes = 0;
  for (int i = 0; i < context.numInputs(); ++i) {
    blockOffsets.push_back(rowBytes);
    blockBytes.push_back(context.inputShape(i)[axis] * inner * elementBytes);
    rowBytes += blockBytes.back();
  }
  ThreadPool &pool = context.pool;
  int64_t numInputs = context.numInputs();
  return makeKernel([=, &pool](const KernelArgs &args) {
    int64_t grain =
        std::max<int64_t>(1, (1 << 16) / std::max<size_t>(rowBytes, 1));
    pool.parallelFor(
        outer * numInputs, grain, [&](int64_t begin, int64_t end, unsigned) {
          for (int64_t task = begin; task < end; ++task) {
            int64_t row = task / numInputs, i = task % numInputs;
            std::memcpy(static_cast<uint8_t *>(args.output) + row * rowBytes +
                            blockOffsets[i],
                        static_cast<const uint8_t *>(args.inputs[i]) +
                            row * blockBytes[i],
                        blockBytes[i]);
          }
        });
    return Status::success();
  });
}

namespace {

template <typename Index>
std::unique_ptr<Kernel> makeGather(const KernelContext &context) {
  int64_t axis = format::intsAttribute(context.instruction, "axis")[0];
  Shape data = context.inputShape(0);
  int64_t outer = elementCount(Shape(data.begin(), data.begin() + axis));
  int64_t axisSize = data[axis];
  size_t sliceBytes = elementCount(Shape(data.begin() + axis + 1, data.end())) *
                      format::elementSize(context.output().dtype());
  int64_t numIndices = elementCount(context.inputShape(1));
  ThreadPool &pool = context.pool;
  return makeKernel([=, &pool](const KernelArgs &args) {
    const Index *indices = static_cast<const Index *>(args.inputs[1]);
    for (int64_t j = 0; j < numIndices; ++j)
      if (indices[j] < -axisSize || indices[j] >= axisSize)
        return Status::error(indexOutOfRange(indices[j], j, axis, axisSize));
    const uint8_t *source = static_cast<const uint8_t *>(args.inputs[0]);
    uint8_t *out = static_cast<uint8_t *>(args.output);
    int64_t grain =
        std::max<int64_t>(1, (1 << 16) / std::max<size_t>(sliceBytes, 1));
    pool.parallelFor(
        outer * numIndices, grain, [&](int64_t begin, int64_t end, unsigned) {
          for (int64_t task = begin; task < end; ++task) {
            int64_t row = task / numIndices, j = task % numIndices;
            int64_t index = indices[j] < 0 ? indices[j] + axisSize : indices[j];
            std::memcpy(out + task * sliceBytes,
                        source + (row * axisSize + index) * sliceBytes,
                        sliceBytes);
          }
        });
    return Status::success();
  });
}

} // namespace

std::unique_ptr<Kernel> createGatherKernel(const KernelContext &context) {
  if (context.input(1).dtype() == dsp::program::I32)
    return makeGather<int32_t>(context);
  return makeGather<int64_t>(context);
}

namespace {

/// Each output row (the last dim) is the input row its outer indices read
/// (padSourceIndex per dim), copied between the pads, or all fill value.
template <typename T>
std::unique_ptr<Kernel> makePad(const Shape &in, const Shape &out,
                                const Shape &pads, format::PadMode mode,
                                bool hasValue, ThreadPool &pool) {
  size_t rank = out.size();
  int64_t rowLength = out[rank - 1], inLength = in[rank - 1];
  int64_t before = pads[rank - 1];
  int64_t rows = elementCount(Shape(out.begin(), out.end() - 1));
  Shape inStrides = contiguousStrides(in);
  return makeKernel([=, &pool](const KernelArgs &args) {
    const T *input = static_cast<const T *>(args.inputs[0]);
    T *result = static_cast<T *>(args.output);
    T fill = hasValue ? *static_cast<const T *>(args.inputs[1]) : T{};
    int64_t grain =
        std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(rowLength, 1));
    pool.parallelFor(rows, grain, [&](int64_t begin, int64_t end, unsigned) {
      for (int64_t row = begin; row < end; ++row) {
        T *target = result + row * rowLength;
        int64_t base = 0, rest = row;
        bool inside = true;
        for (size_t d = rank - 1; d-- > 0 && inside;) {
          int64_t source =
              format::padSourceIndex(rest % out[d], pads[d], in[d], mode);
          rest /= out[d];
          inside = source >= 0;
          base += source * inStrides[d];
        }
        if (!inside) {
          std::fill(target, target + rowLength, fill);
          continue;
        }
        const T *source = input + base;
        if (inLength > 0)
          std::memcpy(target + before, source, inLength * sizeof(T));
        for (int64_t i = 0; i < rowLength; ++i) {
          if (i == before)
            i += inLength;
          if (i == rowLength)
            break;
          int64_t from = format::padSourceIndex(i, before, inLength, mode);
          target[i] = from >= 0 ? source[from] : fill;
        }
      }
    });
    return Status::success();
  });
}

} // namespace

std::unique_ptr<Kernel> createPadKernel(const KernelContext &context) {
  Shape in = context.inputShape(0), out = context.outputShape();
  Shape pads = format::intsAttribute(context.instruction, "pads");
  format::PadMode mode = *format::parsePadMode(
      format::stringAttribute(context.instruction, "mode", "constant"));
  // A scalar is a dim of one, unpadded.
  if (in.empty()) {
    in = out = {1};
    pads = {0, 0};
  }
  if (elementCount(out) == 0)
    return makeKernel([](const KernelArgs &) { return Status::success(); });
  bool hasValue = context.numInputs() == 2;
  ThreadPool &pool = context.pool;
  switch (format::elementSize(context.output().dtype())) {
  case 1:
    return makePad<uint8_t>(in, out, pads, mode, hasValue, pool);
  case 2:
    return makePad<uint16_t>(in, out, pads, mode, hasValue, pool);
  case 4:
    return makePad<uint32_t>(in, out, pads, mode, hasValue, pool);
  default:
    return makePad<uint64_t>(in, out, pads, mode, hasValue, pool);
  }
}

std::unique_ptr<Kernel>
createScatterElementsKernel(const KernelContext &context) {
  Shape data = context.inputShape(0), indices = context.inputShape(1);
  int64_t axis = format::intsAttribute(context.instruction, "axis")[0];
  bool add = format::stringAttribute(context.instruction, "reduction",
                                     "none") == "add";
  dsp::program::DType dtype = context.output().dtype();
  size_t elementBytes = format::elementSize(dtype);
  size_t dataBytes = elementCount(data) * elementBytes;
  int64_t count = elementCount(indices), axisSize = data[axis];
  Shape strides = contiguousStrides(data);
  return makeKernel([=](const KernelArgs &args) {
    const int64_t *index = static_cast<const int64_t *>(args.inputs[1]);
    const uint8_t *updates = static_cast<const uint8_t *>(args.inputs[2]);
    uint8_t *out = static_cast<uint8_t *>(args.output);
    std::memmove(out, args.inputs[0], dataBytes);
    // In order, so that the last of duplicate indices wins.
    Shape position(indices.size(), 0);
    for (int64_t n = 0; n < count; ++n) {
      int64_t i = index[n];
      if (i < -axisSize || i >= axisSize)
        return Status::error(indexOutOfRange(i, n, axis, axisSize));
      int64_t flat = 0;
      for (size_t d = 0; d < position.size(); ++d)
        flat += (static_cast<int64_t>(d) == axis ? (i < 0 ? i + axisSize : i)
                                                 : position[d]) *
                strides[d];
      uint8_t *target = out + flat * elementBytes;
      const uint8_t *update = updates + n * elementBytes;
      if (!add) {
        std::memcpy(target, update, elementBytes);
      } else if (dtype == dsp::program::F32) {
        float sum = 0, a = 0, b = 0;
        std::memcpy(&a, target, sizeof a);
        std::memcpy(&b, update, sizeof b);
        sum = a + b;
        std::memcpy(target, &sum, sizeof sum);
      } else {
        // Wraps around, as the elementwise add does.
        uint64_t a = 0, b = 0;
        std::memcpy(&a, target, sizeof a);
        std::memcpy(&b, update, sizeof b);
        a += b;
        std::memcpy(target, &a, sizeof a);
      }
      for (size_t d = position.size(); d-- > 0;) {
        if (++position[d] < indices[d])
          break;
        position[d] = 0;
      }
    }
    return Status::success();
  });
}

} // namespace cpu
} // namespace runtime
} // namespace dsp
