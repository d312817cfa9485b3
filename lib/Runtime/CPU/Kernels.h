//===- Kernels.h - CPU kernel factories -------------------------*- C++ -*-===//
//
// Every factory receives an instruction that passed validation, so shapes,
// dtypes and attributes are known to be consistent; it precomputes what the
// kernel needs and returns a kernel that only reads addresses at run time.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_CPU_KERNELS_H
#define DSP_RUNTIME_CPU_KERNELS_H

#include "../KernelSupport.h"
#include "ThreadPool.h"
#include "dsp/Format/Checked.h"
#include "dsp/Format/OpRegistry.h"
#include "dsp/Runtime/Backend.h"

#include <cstdint>

namespace dsp {
namespace runtime {

class Communicator;

namespace cpu {

using format::Op;

struct KernelContext : InstructionContext {
  ThreadPool &pool;
  /// The rank's communicator (a group of one for single-rank programs).
  Communicator &communicator;
  /// A thread of the session's own on which ring_attention computes a block
  /// while the calling thread moves the next; null for every other op.
  CommunicationLane *computeLane = nullptr;
};

/// The fewest elements a thread converts between f32 and f16 or bf16.
constexpr int64_t kConversionGrain = 1 << 14;

using KernelFactory = std::unique_ptr<Kernel> (*)(const KernelContext &);

// Factories, grouped by source file. Each handles the ops listed and
// returns null for dtypes it does not handle.
// Elementwise.cpp: fused, and alone the unary ops, cast, isnan, not, the
// binary ops and where.
std::unique_ptr<Kernel> createElementwiseKernel(const KernelContext &context);
// DataMovement.cpp: reshape, transpose, slice, expand, tile, concat, gather,
// pad, scatter_elements.
std::unique_ptr<Kernel> createReshapeKernel(const KernelContext &context);
std::unique_ptr<Kernel> createTransposeKernel(const KernelContext &context);
std::unique_ptr<Kernel> createSliceKernel(const KernelContext &context);
std::unique_ptr<Kernel> createExpandKernel(const KernelContext &context);
std::unique_ptr<Kernel> createTileKernel(const KernelContext &context);
std::unique_ptr<Kernel> createConcatKernel(const KernelContext &context);
std::unique_ptr<Kernel> createGatherKernel(const KernelContext &context);
std::unique_ptr<Kernel> createPadKernel(const KernelContext &context);
std::unique_ptr<Kernel>
createScatterElementsKernel(const KernelContext &context);
// Normalization.cpp: layer_norm, softmax, reduce_sum/mean/max.
std::unique_ptr<Kernel> createLayerNormKernel(const KernelContext &context);
std::unique_ptr<Kernel> createSoftmaxKernel(const KernelContext &context);
std::unique_ptr<Kernel> createReduceKernel(const KernelContext &context);
/// Layer norm of `rows` rows of `columns` contiguous elements, the rows of
/// x, scale and bias `xStride`, `scaleStride` and `biasStride` floats apart
/// (0: the same row for all) and those of y contiguous; `bias` may be null.
void normalizeRows(const float *x, int64_t xStride, const float *scale,
                   int64_t scaleStride, const float *bias, int64_t biasStride,
                   float epsilon, int64_t rows, int64_t columns, float *y);
/// One softmax over `length` elements `stride` apart.
void softmaxRow(const float *x, int64_t length, int64_t stride, float *y);
// Linear.cpp: matmul, attention, ring_attention, conv.
std::unique_ptr<Kernel> createMatmulKernel(const KernelContext &context);
std::unique_ptr<Kernel> createAttentionKernel(const KernelContext &context);
std::unique_ptr<Kernel> createRingAttentionKernel(const KernelContext &context);
std::unique_ptr<Kernel> createConvKernel(const KernelContext &context);

/// Widened.cpp: the kernel of an instruction with f16 or bf16 operands, for
/// an op whose kernels compute in f32. Every such input is widened to f32 in
/// the workspace, `factory`'s f32 kernel runs, and an f16 or bf16 result is
/// rounded back to nearest even; statistics and accumulations stay f32.
std::unique_ptr<Kernel> createWidenedKernel(const KernelContext &context,
                                            KernelFactory factory);

} // namespace cpu
} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_CPU_KERNELS_H
