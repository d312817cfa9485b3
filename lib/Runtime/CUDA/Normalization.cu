//===- Normalization.cu - Layer norm, softmax and reductions --------------===//
//
// One block per row; statistics in f32 whatever the storage. Layer norm
// takes the mean first and then the mean of squared deviations (two passes
// over the row, as on the CPU), which stays accurate for rows with a large
// mean.
//
//===----------------------------------------------------------------------===//

#include "DeviceCommon.cuh"

namespace dsp {
namespace runtime {
namespace cuda {

namespace {

constexpr int kRowThreads = 256;

/// The grid of a kernel with one block per row, grid-striding past 2^31-1.
unsigned rowGrid(int64_t rows) {
  return static_cast<unsigned>(rows < 1           ? 1
                               : rows > INT32_MAX ? INT32_MAX
                                                  : rows);
}

template <typename T>
__global__ void layerNormKernel(const T *x, const T *scale, const T *bias, T *y,
                                int64_t rows, int64_t columns, float epsilon) {
  __shared__ float shared[32];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T *in = x + row * columns;
    T *out = y + row * columns;
    float sum = 0;
    for (int64_t c = threadIdx.x; c < columns; c += blockDim.x)
      sum += toFloat(in[c]);
    float mean = blockReduce<false>(sum, shared) / columns;
    float squares = 0;
    for (int64_t c = threadIdx.x; c < columns; c += blockDim.x) {
      float d = toFloat(in[c]) - mean;
      squares += d * d;
    }
    float inverse =
        rsqrtf(blockReduce<false>(squares, shared) / columns + epsilon);
    for (int64_t c = threadIdx.x; c < columns; c += blockDim.x) {
      float value = (toFloat(in[c]) - mean) * inverse * toFloat(scale[c]);
      if (bias)
        value += toFloat(bias[c]);
      out[c] = fromFloat<T>(value);
    }
  }
}

/// Rows of `length` elements `inner` apart: row r starts at
/// (r / inner) * length * inner + r % inner.
template <typename T>
__global__ void softmaxKernel(const T *x, T *y, int64_t rows, int64_t length,
                              int64_t inner) {
  __shared__ float shared[32];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    int64_t base = (row / inner) * length * inner + row % inner;
    const T *in = x + base;
    T *out = y + base;
    float maximum = -INFINITY;
    for (int64_t i = threadIdx.x; i < length; i += blockDim.x)
      maximum = fmaxf(maximum, toFloat(in[i * inner]));
    maximum = blockReduce<true>(maximum, shared);
    // Every element masked out: no probability mass anywhere.
    if (maximum == -INFINITY) {
      for (int64_t i = threadIdx.x; i < length; i += blockDim.x)
        out[i * inner] = fromFloat<T>(0.0f);
      continue;
    }
    float sum = 0;
    for (int64_t i = threadIdx.x; i < length; i += blockDim.x)
      sum += expf(toFloat(in[i * inner]) - maximum);
    float inverse = 1.0f / blockReduce<false>(sum, shared);
    for (int64_t i = threadIdx.x; i < length; i += blockDim.x)
      out[i * inner] =
          fromFloat<T>(expf(toFloat(in[i * inner]) - maximum) * inverse);
  }
}

template <typename T>
__global__ void reduceKernel(ReduceKind kind, StridedGeometry<2> kept,
                             StridedGeometry<1> reduced, const T *x, T *y) {
  __shared__ float shared[32];
  for (int64_t o = blockIdx.x; o < kept.count; o += gridDim.x) {
    int64_t offsets[2];
    stridedOffsets(kept, o, offsets);
    const T *in = x + offsets[1];
    float sum = 0, maximum = -INFINITY;
    for (int64_t r = threadIdx.x; r < reduced.count; r += blockDim.x) {
      int64_t offset[1];
      stridedOffsets(reduced, r, offset);
      float value = toFloat(in[offset[0]]);
      sum += value;
      // Skips NaN, as the CPU's std::max(maximum, value) does.
      maximum = fmaxf(maximum, value);
    }
    float result = kind == ReduceKind::Max ? blockReduce<true>(maximum, shared)
                                           : blockReduce<false>(sum, shared);
    if (threadIdx.x == 0)
      y[offsets[0]] = fromFloat<T>(
          kind == ReduceKind::Mean ? result / reduced.count : result);
  }
}

} // namespace

cudaError_t launchLayerNorm(ElementType type, const void *x, const void *scale,
                            const void *bias, void *y, int64_t rows,
                            int64_t columns, float epsilon,
                            cudaStream_t stream) {
  if (rows == 0 || columns == 0)
    return cudaSuccess;
  DSP_DISPATCH_FLOAT(
      type, layerNormKernel<<<rowGrid(rows), kRowThreads, 0, stream>>>(
                static_cast<const T *>(x), static_cast<const T *>(scale),
                static_cast<const T *>(bias), static_cast<T *>(y), rows,
                columns, epsilon));
  return cudaGetLastError();
}

cudaError_t launchSoftmax(ElementType type, const void *x, void *y,
                          int64_t outer, int64_t length, int64_t inner,
                          cudaStream_t stream) {
  int64_t rows = outer * inner;
  if (rows == 0 || length == 0)
    return cudaSuccess;
  DSP_DISPATCH_FLOAT(
      type,
      softmaxKernel<<<rowGrid(rows), kRowThreads, 0, stream>>>(
          static_cast<const T *>(x), static_cast<T *>(y), rows, length, inner));
  return cudaGetLastError();
}

cudaError_t launchReduce(ReduceKind kind, ElementType type,
                         const StridedGeometry<2> &kept,
                         const StridedGeometry<1> &reduced, const void *x,
                         void *y, cudaStream_t stream) {
  if (kept.count == 0)
    return cudaSuccess;
  DSP_DISPATCH_FLOAT(
      type,
      reduceKernel<<<rowGrid(kept.count), kRowThreads, 0, stream>>>(
          kind, kept, reduced, static_cast<const T *>(x), static_cast<T *>(y)));
  return cudaGetLastError();
}

} // namespace cuda
} // namespace runtime
} // namespace dsp
