//===- DeviceKernels.h - Launchers of the CUDA kernels ----------*- C++ -*-===//
//
// The boundary between the host code that builds kernels from instructions
// (compiled by the C++ compiler, with protobuf) and the .cu files (compiled
// by nvcc, without it): plain geometry structs and launch functions that
// enqueue on a stream and return the launch's error code.
//
// Floating-point storage is f32, f16 or bf16; arithmetic, statistics and
// accumulation are in f32 whatever the storage.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_CUDA_DEVICEKERNELS_H
#define DSP_RUNTIME_CUDA_DEVICEKERNELS_H

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace dsp {
namespace runtime {
namespace cuda {

enum class ElementType : uint8_t { F32, F16, BF16, I64, Bool };

/// The most dims a strided kernel walks, after merging the dims that are
/// contiguous in every operand.
constexpr int kMaxDims = 10;

/// Iteration over `shape` (row-major, `rank` dims, innermost last) with one
/// element stride per operand and dim; stride 0 broadcasts.
template <int Operands> struct StridedGeometry {
  int rank = 0;
  int64_t count = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[Operands][kMaxDims] = {};
};

/// Operand 0 is the destination, 1 the source.
using CopyGeometry = StridedGeometry<2>;

/// Copies elements of `elementSize` bytes (1, 2, 4 or 8) from `source` to
/// `target` along `geometry`.
cudaError_t launchStridedCopy(const CopyGeometry &geometry, size_t elementSize,
                              const void *source, void *target,
                              cudaStream_t stream);

enum class UnaryOp : uint8_t {
  Neg,
  Exp,
  Log,
  Sqrt,
  Reciprocal,
  Abs,
  Erf,
  Tanh,
  Sigmoid,
  Relu,
  Sin,
  Cos,
  Silu,
  GeluErf,
  GeluTanh,
  IsNan,
  Not,
  Cast
};

enum class BinaryOp : uint8_t {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Max,
  Min,
  /// The remainder with the divisor's sign (floored).
  Mod,
  /// The remainder with the dividend's sign (truncated, C's fmod).
  FMod,
  Equal,
  Less,
  LessEqual,
  Greater,
  GreaterEqual,
  And,
  Or,
  Xor
};

/// out[i] = op(in[i]) over `count` contiguous elements.
cudaError_t launchUnary(UnaryOp op, ElementType in, ElementType out,
                        const void *x, void *y, int64_t count,
                        cudaStream_t stream);

/// Operand 0 is the (contiguous) output, 1 and 2 the inputs.
cudaError_t launchBinary(BinaryOp op, ElementType in, ElementType out,
                         const StridedGeometry<3> &geometry, const void *a,
                         const void *b, void *y, cudaStream_t stream);

/// out[i] = the sum (or maximum) of block[(first + k) % n][i] over k =
/// 0..n-1 in that order, blocks `stride` bytes apart, accumulated in f32
/// and rounded once to the float type `type`.
cudaError_t launchReduceBlocks(ElementType type, const void *blocks,
                               size_t stride, int n, int first, int64_t count,
                               bool max, void *out, cudaStream_t stream);

/// The part of a matmul's epilogue cuBLASLt leaves to a kernel, applied in
/// place to the product: y = activation(y + bias) + residual, each part
/// optional.
struct MatmulEpilogue {
  /// [columns], broadcast over the rows of y; null: none.
  const void *bias = nullptr;
  int64_t columns = 1;
  bool activate = false;
  /// Silu, GeluErf or GeluTanh.
  UnaryOp activation = UnaryOp::Silu;
  /// y's shape; null: none.
  const void *residual = nullptr;
};

/// Applies `epilogue` to the `count` contiguous elements of `y`.
cudaError_t launchMatmulEpilogue(ElementType type,
                                 const MatmulEpilogue &epilogue, void *y,
                                 int64_t count, cudaStream_t stream);

/// Operand 0 is the output, 1 the bool condition, 2 and 3 the values.
cudaError_t launchWhere(const StridedGeometry<4> &geometry, size_t elementSize,
                        const void *condition, const void *x, const void *y,
                        void *out, cudaStream_t stream);

/// Where a kernel reports a data-dependent failure: the first one wins.
struct DeviceError {
  /// 0 while no kernel failed; else what registered the message.
  int32_t tag;
  int32_t unused;
  int64_t position;
  int64_t value;
};

/// out[row, j, :] = data[row, indices[j], :] with negative indices counting
/// from the end; an index outside [-axisSize, axisSize) is recorded in
/// `error` under `tag` and its slice left unwritten.
cudaError_t launchGather(const void *data, const int64_t *indices, void *out,
                         int64_t rows, int64_t axisSize, int64_t numIndices,
                         int64_t sliceBytes, DeviceError *error, int32_t tag,
                         cudaStream_t stream);

/// Pad: each output element reads the input element that
/// format::padSourceIndex gives in every dim, or the fill value (`fill`, a
/// device pointer to one element, or zero when null).
struct PadGeometry {
  int rank = 0;
  int64_t count = 0;
  /// format::PadMode.
  uint8_t mode = 0;
  int64_t out[kMaxDims] = {}, in[kMaxDims] = {}, before[kMaxDims] = {};
};

cudaError_t launchPad(const PadGeometry &geometry, size_t elementSize,
                      const void *x, const void *fill, void *y,
                      cudaStream_t stream);

/// ScatterElements into `out` (already a copy of the data): the update at
/// each position of `indices` (shape `indices`, `rank` dims) goes to the
/// same position with the index along `axis` (negative from the end),
/// replacing or added to (F32 or I64) what is there. One thread walks the
/// positions in order, so that the last of duplicate indices wins, as ONNX
/// says; scatters of masks and tables are small. An index out of range is
/// recorded in `error` under `tag` and nothing after it is written.
struct ScatterGeometry {
  int rank = 0;
  int axis = 0;
  int64_t axisSize = 0;
  int64_t indices[kMaxDims] = {};
  int64_t dataStrides[kMaxDims] = {};
};

enum class ScatterReduction : uint8_t { None, AddF32, AddI64 };

cudaError_t launchScatterElements(const ScatterGeometry &geometry,
                                  size_t elementSize,
                                  ScatterReduction reduction,
                                  const int64_t *indices, const void *updates,
                                  void *out, DeviceError *error, int32_t tag,
                                  cudaStream_t stream);

/// Row-wise layer norm of `rows` x `columns` values; `bias` may be null.
cudaError_t launchLayerNorm(ElementType type, const void *x, const void *scale,
                            const void *bias, void *y, int64_t rows,
                            int64_t columns, float epsilon,
                            cudaStream_t stream);

/// Softmax over the middle dim of [outer, length, inner].
cudaError_t launchSoftmax(ElementType type, const void *x, void *y,
                          int64_t outer, int64_t length, int64_t inner,
                          cudaStream_t stream);

enum class ReduceKind : uint8_t { Sum, Mean, Max };

/// One output per element of the kept dims (operand 0 of `kept`: output
/// strides, 1: input strides); each reduces the input over `reduced`
/// (operand 0: input strides) from there.
cudaError_t launchReduce(ReduceKind kind, ElementType type,
                         const StridedGeometry<2> &kept,
                         const StridedGeometry<1> &reduced, const void *x,
                         void *y, cudaStream_t stream);

/// Attention over [batch, heads, queries, depth] queries, keys of
/// [.., keys, depth] and values of [.., keys, valueDepth], the first `keys`
/// of the `keyRows` rows each batch and head holds; `mask` (may be
/// null) is added to the scaled scores with the given element strides per
/// [batch, head, query, key] (0 broadcasts).
struct AttentionGeometry {
  int64_t batch, heads, queries, keys, keyRows, depth, valueDepth;
  float scale;
  int64_t maskStrides[4];
};

/// The state of an attention whose keys come in blocks (ring attention), per
/// query row: the output over the blocks taken in so far, normalized, in
/// f32, and the log-sum-exp of their scores. A launch takes one block in:
/// it merges the `prior` state (null before the first block) with the
/// block's own result and writes the merged state to `next` (null for the
/// last block, whose launch writes the output instead). Prior and next may
/// be the same memory.
struct AttentionCarry {
  const float *priorOutput = nullptr, *priorLse = nullptr;
  float *nextOutput = nullptr, *nextLse = nullptr;
};

/// Whether launchAttention handles these head sizes.
bool attentionSupports(int64_t depth, int64_t valueDepth);

cudaError_t launchAttention(ElementType type, const AttentionGeometry &geometry,
                            const void *q, const void *k, const void *v,
                            const void *mask, void *out, cudaStream_t stream,
                            const AttentionCarry &carry = {});

/// Direct convolution of NC(D)(H)W input with 3 spatial dims (missing ones
/// of extent 1, stride 1, no pad).
struct ConvGeometry {
  int64_t images, channels, filters, group;
  int64_t in[3], kernel[3], out[3], stride[3], dilation[3], pad[3];
};

cudaError_t launchConv(ElementType type, const ConvGeometry &geometry,
                       const void *x, const void *w, const void *bias,
                       void *out, cudaStream_t stream);

} // namespace cuda
} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_CUDA_DEVICEKERNELS_H
