//===- Collectives.cpp - The collectives on device memory -----------------===//
//
// The shared collective algorithms (lib/Runtime/Collectives.cpp) over the
// rank's stream: block extraction and insertion are strided copies (rows of
// valid runs, or a transposed view's dims), pad is filled from a zero buffer
// with stride 0, and reductions are the element-wise add or max. Bytes between
// ranks move through the hook the communicator took from the backend
// (CudaBackend.cpp).
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "../Collectives.h"
#include "dsp/Format/ProgramFile.h"

using dsp::format::BlockGeometry;
using dsp::format::Layout;

namespace dsp {
namespace runtime {
namespace cuda {

namespace {

class DeviceMemory : public CollectiveMemory {
public:
  /// `stream` is read at each call: while the collective runs on the
  /// backend's communication lane, the rank's stream is the lane's.
  DeviceMemory(const cudaStream_t &stream, const void *zeros)
      : stream_(stream), zeros_(zeros) {}

  Status extractBlock(const void *full, const Shape &fullShape,
                      const Shape &fullStrides, size_t elementSize,
                      const Layout &layout, int64_t ranks, int64_t rank,
                      void *block) override {
    Status status = copyBlock(
        format::blockCopy(fullShape, fullStrides, layout, ranks, rank),
        elementSize, true, full, block);
    if (!status)
      return status;
    return zeroPad(BlockGeometry(fullShape, elementSize, layout, ranks, rank),
                   elementSize, block);
  }

  Status insertBlock(const void *block, const Shape &fullShape,
                     const Shape &fullStrides, size_t elementSize,
                     const Layout &layout, int64_t ranks, int64_t rank,
                     void *full) override {
    return copyBlock(
        format::blockCopy(fullShape, fullStrides, layout, ranks, rank),
        elementSize, false, block, full);
  }

  Status zeroBlockPad(void *block, const Shape &fullShape, size_t elementSize,
                      const Layout &layout, int64_t ranks,
                      int64_t rank) override {
    return zeroPad(BlockGeometry(fullShape, elementSize, layout, ranks, rank),
                   elementSize, block);
  }

  Status copy(void *target, const void *source, size_t bytes) override {
    return copyBytes(target, source, bytes, stream_);
  }

  Status zero(void *target, size_t bytes) override {
    if (bytes == 0)
      return Status::success();
    return check(cudaMemsetAsync(target, 0, bytes, stream_), "cudaMemsetAsync");
  }

  // Floats fold in f32 and round once; integers add in their type.
  bool reduces(dsp::program::DType dtype) const override {
    return dtype == dsp::program::F32 || dtype == dsp::program::F16 ||
           dtype == dsp::program::BF16 || dtype == dsp::program::I64;
  }

  Status reduceBlocks(dsp::program::DType dtype, void *out, const void *blocks,
                      size_t stride, int n, int first, size_t count,
                      bool max) override {
    ElementType type = *elementType(dtype);
    if (type != ElementType::I64)
      return check(launchReduceBlocks(type, blocks, stride, n, first,
                                      static_cast<int64_t>(count), max, out,
                                      stream_),
                   "the reduction kernel launch");
    StridedGeometry<3> geometry;
    geometry.count = static_cast<int64_t>(count);
    geometry.rank = 1;
    geometry.shape[0] = geometry.count;
    for (int o = 0; o < 3; ++o)
      geometry.strides[o][0] = 1;
    auto block = [&](int index) {
      return static_cast<const uint8_t *>(blocks) + (index % n) * stride;
    };
    Status status = copy(out, block(first), count * format::elementSize(dtype));
    for (int k = 1; k < n && status; ++k)
      status =
          check(launchBinary(max ? BinaryOp::Max : BinaryOp::Add, type, type,
                             geometry, out, block(first + k), out, stream_),
                "the reduction kernel launch");
    return status;
  }

private:
  /// Copies `runs` runs of each of the block's rows from `source` (rows
  /// `sourcePitch` bytes apart) to `target` (`targetPitch` apart).
  /// The copy between a block and its full tensor, in the direction
  /// `intoBlock` says.
  Status copyBlock(const format::BlockCopy &copy, size_t elementSize,
                   bool intoBlock, const void *source, void *target) {
    if (copy.shape.empty())
      return Status::success();
    const uint8_t *from = static_cast<const uint8_t *>(source);
    uint8_t *to = static_cast<uint8_t *>(target);
    int64_t offset = copy.fullOffset * static_cast<int64_t>(elementSize);
    if (intoBlock)
      from += offset;
    else
      to += offset;
    CopyGeometry geometry;
    Status status =
        makeGeometry<2>(copy.shape,
                        {intoBlock ? copy.blockStrides : copy.fullStrides,
                         intoBlock ? copy.fullStrides : copy.blockStrides},
                        geometry);
    if (!status)
      return status;
    return stridedCopy(geometry, elementSize, from, to, stream_);
  }

  /// Zeroes the pad positions of every row of a block.
  Status zeroPad(const BlockGeometry &g, size_t elementSize, void *block) {
    if (g.valid == g.block)
      return Status::success();
    int64_t unit = static_cast<int64_t>(elementSize);
    CopyGeometry geometry;
    Status status =
        makeGeometry<2>({g.rows, (g.block - g.valid) * g.runBytes / unit},
                        {{g.block * g.runBytes / unit, 1}, {0, 0}}, geometry);
    if (!status)
      return status;
    return stridedCopy(geometry, elementSize, zeros_,
                       static_cast<uint8_t *>(block) + g.valid * g.runBytes,
                       stream_);
  }

  const cudaStream_t &stream_;
  const void *zeros_;
};

} // namespace

Status createCollectiveKernel(const KernelContext &context,
                              std::unique_ptr<Kernel> &kernel) {
  kernel = runtime::createCollectiveKernel(
      context.program, context.instruction, context.op,
      context.resources.communicator,
      std::make_shared<DeviceMemory>(context.resources.stream,
                                     context.resources.zeros));
  if (!kernel)
    return Status::error("the cuda backend has no kernel for op '" +
                         context.instruction.op() + "' on dtype " +
                         format::dtypeName(context.input(0).dtype()));
  return Status::success();
}

} // namespace cuda
} // namespace runtime
} // namespace dsp
