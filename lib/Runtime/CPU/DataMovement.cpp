//===- DataMovement.cpp - Kernels that only move bytes --------------------===//
//
// These kernels are dtype-agnostic: they copy elements of the tensor's size.
// Transpose, slice, expand and tile are all strided copies (see
// StridedLoop.h) that differ only in the strides they read with.
//
//===----------------------------------------------------------------------===//

#include "StridedLoop.h"

#include <cstring>

namespace dsp {
namespace runtime {
namespace cpu {

namespace {

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
                   std::memcpy(out + o, source, length * sizeof(T));
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
  return makeStridedCopy(context, flat, {1}, 0);
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

std::unique_ptr<Kernel> createGatherKernel(const KernelContext &context) {
  int64_t axis = format::intsAttribute(context.instruction, "axis")[0];
  Shape data = context.inputShape(0);
  int64_t outer = elementCount(Shape(data.begin(), data.begin() + axis));
  int64_t axisSize = data[axis];
  size_t sliceBytes = elementCount(Shape(data.begin() + axis + 1, data.end())) *
                      format::elementSize(context.output().dtype());
  int64_t numIndices = elementCount(context.inputShape(1));
  ThreadPool &pool = context.pool;
  return makeKernel([=, &pool](const KernelArgs &args) {
    const int64_t *indices = static_cast<const int64_t *>(args.inputs[1]);
    for (int64_t j = 0; j < numIndices; ++j)
      if (indices[j] < -axisSize || indices[j] >= axisSize)
        return Status::error(
            "index " + std::to_string(indices[j]) + " at position " +
            std::to_string(j) + " is out of range for axis " +
            std::to_string(axis) + " of size " + std::to_string(axisSize));
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

} // namespace cpu
} // namespace runtime
} // namespace dsp
