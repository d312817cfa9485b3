//===- Kernels.h - CUDA kernel factories ------------------------*- C++ -*-===//
//
// Every factory receives an instruction that passed validation; it
// precomputes the launch geometry and returns a kernel whose run() only
// enqueues work on the rank's stream. Every CUDA, cuBLASLt and driver error
// becomes a Status naming the call.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_CUDA_KERNELS_H
#define DSP_RUNTIME_CUDA_KERNELS_H

#include "../KernelSupport.h"
#include "DeviceKernels.h"

#include <cublasLt.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dsp {
namespace runtime {

class CommunicationLane;
class Communicator;

namespace cuda {

using format::Op;

struct CudnnState;

/// `bytes` rounded up to 256: the buffers the backend carves out of one
/// allocation (workspaces, pinned staging) start 256-byte aligned.
inline size_t deviceAligned(size_t bytes) { return (bytes + 255) / 256 * 256; }

/// "CALL failed: REASON", or success.
Status check(cudaError_t error, const char *call);
Status check(cublasStatus_t status, const char *call);

/// What a kernel may use of its rank's backend.
struct Resources {
  int device;
  /// The device's compute capability as major * 10 + minor.
  int computeCapability;
  cudaStream_t stream;
  cublasLtHandle_t blas;
  Communicator &communicator;
  /// Where kernels record data-dependent failures; the backend checks it
  /// after every run.
  DeviceError *error;
  /// 16 zero bytes of device memory, a source for zero fills.
  const void *zeros;
  /// Registers the message of a data-dependent failure a kernel records
  /// under the returned tag (see DeviceError).
  std::function<int32_t(std::function<std::string(const DeviceError &)>)>
      registerError;
  /// The rank's cuDNN handle and attention graphs (CudnnAttention.cpp),
  /// created by the first attention that uses them.
  std::shared_ptr<CudnnState> cudnn;
  /// The lane of a stream of its own that ring attention moves its key and
  /// value blocks on, created with the first ring.
  CommunicationLane *transferLane = nullptr;
};

struct KernelContext : InstructionContext {
  Resources &resources;
  /// The element types of input 0 and of the output, where they have one
  /// (checked before factories that compute on them are called).
  ElementType inputType, outputType;
};

/// The element type of `dtype`, or nullopt for one the kernels lack (i32).
std::optional<ElementType> elementType(dsp::program::DType dtype);

/// The geometry of walking `shape` with the given strides per operand:
/// dims of extent 1 dropped, dims contiguous in every operand merged. Fails
/// if more than kMaxDims remain.
template <int Operands>
Status makeGeometry(const Shape &shape,
                    const std::vector<Shape> &operandStrides,
                    StridedGeometry<Operands> &geometry);

/// Strides of `in` broadcast to `out` (numpy rules): 0 where `in` has
/// extent 1 or lacks the dim.
Shape broadcastStrides(const Shape &in, const Shape &out);

/// Copies `bytes` contiguous bytes on the stream (nothing if 0).
Status copyBytes(void *target, const void *source, size_t bytes,
                 cudaStream_t stream);

/// A kernel that runs `launch` on the rank's stream; a failed launch is an
/// error naming `what` ("the softmax kernel").
std::unique_ptr<Kernel>
makeLaunch(const KernelContext &context, const char *what,
           std::function<cudaError_t(const KernelArgs &, cudaStream_t)> launch);

/// The geometry of the attention instruction of `context`.
AttentionGeometry attentionGeometry(const KernelContext &context);

/// Enqueues the strided copy; `elementSize` is the size of the elements the
/// geometry counts.
Status stridedCopy(const CopyGeometry &geometry, size_t elementSize,
                   const void *source, void *target, cudaStream_t stream);

using Factory = Status (*)(const KernelContext &, std::unique_ptr<Kernel> &);

// Factories, grouped by source file. Each handles the ops listed.
// Kernels.cpp: element-wise, data movement (pad and scatter_elements
// included), normalization, attention (through CudnnAttention.cpp where
// cuDNN runs it), conv.
Status createUnaryKernel(const KernelContext &, std::unique_ptr<Kernel> &);
Status createBinaryKernel(const KernelContext &, std::unique_ptr<Kernel> &);
Status createWhereKernel(const KernelContext &, std::unique_ptr<Kernel> &);
Status createReshapeKernel(const KernelContext &, std::unique_ptr<Kernel> &);
Status createTransposeKernel(const KernelContext &, std::unique_ptr<Kernel> &);
Status createSliceKernel(const KernelContext &, std::unique_ptr<Kernel> &);
Status createExpandKernel(const KernelContext &, std::unique_ptr<Kernel> &);
Status createTileKernel(const KernelContext &, std::unique_ptr<Kernel> &);
Status createConcatKernel(const KernelContext &, std::unique_ptr<Kernel> &);
Status createGatherKernel(const KernelContext &, std::unique_ptr<Kernel> &);
Status createPadKernel(const KernelContext &, std::unique_ptr<Kernel> &);
Status createScatterElementsKernel(const KernelContext &,
                                   std::unique_ptr<Kernel> &);
Status createLayerNormKernel(const KernelContext &, std::unique_ptr<Kernel> &);
Status createSoftmaxKernel(const KernelContext &, std::unique_ptr<Kernel> &);
Status createReduceKernel(const KernelContext &, std::unique_ptr<Kernel> &);
Status createAttentionKernel(const KernelContext &, std::unique_ptr<Kernel> &);
Status createConvKernel(const KernelContext &, std::unique_ptr<Kernel> &);
// Matmul.cpp: matmul through cuBLASLt.
Status createMatmulKernel(const KernelContext &, std::unique_ptr<Kernel> &);
// Collectives.cpp: all_to_all, all_gather, reduce_scatter, all_reduce,
// local_slice, zero_pad.
Status createCollectiveKernel(const KernelContext &, std::unique_ptr<Kernel> &);
// RingAttention.cpp: ring_attention.
Status createRingAttentionKernel(const KernelContext &,
                                 std::unique_ptr<Kernel> &);

} // namespace cuda
} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_CUDA_KERNELS_H
