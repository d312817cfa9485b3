//===- DeviceCommon.cuh - Shared device code of the CUDA kernels -*- C++
//-*-===//
//
// Storage conversions (every float storage is computed on as f32), strided
// offsets, launch sizes and warp reductions.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_CUDA_DEVICECOMMON_CUH
#define DSP_RUNTIME_CUDA_DEVICECOMMON_CUH

#include "DeviceKernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace dsp {
namespace runtime {
namespace cuda {

__device__ __forceinline__ float toFloat(float x) { return x; }
__device__ __forceinline__ float toFloat(__half x) { return __half2float(x); }
__device__ __forceinline__ float toFloat(__nv_bfloat16 x) {
  return __bfloat162float(x);
}

template <typename T> __device__ __forceinline__ T fromFloat(float x);
template <> __device__ __forceinline__ float fromFloat<float>(float x) {
  return x;
}
template <> __device__ __forceinline__ __half fromFloat<__half>(float x) {
  return __float2half_rn(x);
}
template <>
__device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

/// The offsets of element `index` of `geometry` in each operand.
template <int Operands>
__device__ __forceinline__ void
stridedOffsets(const StridedGeometry<Operands> &geometry, int64_t index,
               int64_t (&offsets)[Operands]) {
  for (int o = 0; o < Operands; ++o)
    offsets[o] = 0;
  for (int d = geometry.rank - 1; d >= 0; --d) {
    int64_t extent = geometry.shape[d];
    int64_t coordinate = index % extent;
    index /= extent;
    for (int o = 0; o < Operands; ++o)
      offsets[o] += coordinate * geometry.strides[o][d];
  }
}

constexpr int kThreads = 256;

/// Blocks for a grid-stride loop over `count` items, at most enough to fill
/// any GPU several times over.
inline unsigned gridFor(int64_t count, int threads = kThreads) {
  int64_t blocks = (count + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 1       ? 1
                               : blocks > 65536 ? 65536
                                                : blocks);
}

__device__ __forceinline__ int64_t globalThread() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t gridThreads() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

__device__ __forceinline__ float warpSum(float value) {
  for (int offset = 16; offset > 0; offset /= 2)
    value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

__device__ __forceinline__ float warpMax(float value) {
  for (int offset = 16; offset > 0; offset /= 2)
    value = fmaxf(value, __shfl_xor_sync(0xffffffffu, value, offset));
  return value;
}

/// The sum (or max) of `value` over the block; every thread gets it.
/// `shared` holds at least 32 floats; blockDim.x is a multiple of 32.
template <bool Max> __device__ float blockReduce(float value, float *shared) {
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  value = Max ? warpMax(value) : warpSum(value);
  __syncthreads();
  if (lane == 0)
    shared[warp] = value;
  __syncthreads();
  int warps = blockDim.x / 32;
  value = lane < warps ? shared[lane] : (Max ? -INFINITY : 0.0f);
  return Max ? warpMax(value) : warpSum(value);
}

/// Calls `body.template operator()<T>()` with the storage type of a float
/// element type.
#define DSP_DISPATCH_FLOAT(type, ...)                                          \
  switch (type) {                                                              \
  case ElementType::F16: {                                                     \
    using T = __half;                                                          \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  case ElementType::BF16: {                                                    \
    using T = __nv_bfloat16;                                                   \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  default: {                                                                   \
    using T = float;                                                           \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  }

/// Runs the statement with `T` the unsigned integer of `size` bytes (1, 2, 4
/// or 8): kernels that only move elements need no more of their type.
#define DSP_DISPATCH_SIZE(size, ...)                                           \
  switch (size) {                                                              \
  case 1: {                                                                    \
    using T = uint8_t;                                                         \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  case 2: {                                                                    \
    using T = uint16_t;                                                        \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  case 4: {                                                                    \
    using T = uint32_t;                                                        \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  default: {                                                                   \
    using T = uint64_t;                                                        \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  }

} // namespace cuda
} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_CUDA_DEVICECOMMON_CUH
