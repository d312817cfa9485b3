//===- Attention.cu - Flash-style attention -------------------------------===//
//
// softmax(q k^T * scale + mask) v without materializing the scores: one warp
// per query row walks the keys 32 at a time, lane j scoring key j of the
// tile, and keeps the running maximum, the running sum and the output
// accumulator (online softmax), rescaling them when the maximum grows.
// Values are read coalesced, each lane owning depth positions lane + 32 i.
// Statistics and accumulation are f32 whatever the storage. A row whose
// scores are all -inf (fully masked) yields zeros, as on the CPU.
//
//===----------------------------------------------------------------------===//

#include "DeviceCommon.cuh"

namespace dsp {
namespace runtime {
namespace cuda {

namespace {

constexpr int kWarpsPerBlock = 4;
constexpr int kMaxDepth = 256;

template <typename T, int Chunks>
__global__ void attentionKernel(AttentionGeometry g, const T *q, const T *k,
                                const T *v, const T *mask, T *out,
                                int64_t blocks) {
  __shared__ float queryRows[kWarpsPerBlock][kMaxDepth];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int64_t queryBlocks = (g.queries + kWarpsPerBlock - 1) / kWarpsPerBlock;
  for (int64_t block = blockIdx.x; block < blocks; block += gridDim.x) {
    const int64_t bh = block / queryBlocks;
    const int64_t b = bh / g.heads, h = bh % g.heads;
    const int64_t query = block % queryBlocks * kWarpsPerBlock + warp;
    const bool active = query < g.queries;
    float *queryRow = queryRows[warp];
    if (active)
      for (int64_t d = lane; d < g.depth; d += 32)
        queryRow[d] =
            toFloat(q[(bh * g.queries + query) * g.depth + d]) * g.scale;
    __syncwarp();
    float maximum = -INFINITY, sum = 0;
    float accumulator[Chunks];
    for (int i = 0; i < Chunks; ++i)
      accumulator[i] = 0;
    const T *keys = k + bh * g.keys * g.depth;
    const T *values = v + bh * g.keys * g.valueDepth;
    const T *maskRow = mask ? mask + b * g.maskStrides[0] +
                                  h * g.maskStrides[1] +
                                  (active ? query : 0) * g.maskStrides[2]
                            : nullptr;
    for (int64_t first = 0; active && first < g.keys; first += 32) {
      const int64_t key = first + lane;
      float score = -INFINITY;
      if (key < g.keys) {
        const T *keyRow = keys + key * g.depth;
        float dot = 0;
        for (int64_t d = 0; d < g.depth; ++d)
          dot += queryRow[d] * toFloat(keyRow[d]);
        score = dot;
        if (maskRow)
          score += toFloat(maskRow[key * g.maskStrides[3]]);
      }
      float newMaximum = fmaxf(maximum, warpMax(score));
      // Everything so far is masked: nothing to add.
      if (newMaximum == -INFINITY)
        continue;
      float p = score == -INFINITY ? 0.0f : expf(score - newMaximum);
      float correction = expf(maximum - newMaximum);
      sum = sum * correction + warpSum(p);
      maximum = newMaximum;
      for (int i = 0; i < Chunks; ++i)
        accumulator[i] *= correction;
      const int64_t tile = g.keys - first < 32 ? g.keys - first : 32;
      for (int j = 0; j < tile; ++j) {
        float weight = __shfl_sync(0xffffffffu, p, j);
        const T *valueRow = values + (first + j) * g.valueDepth;
        for (int i = 0; i < Chunks; ++i) {
          int64_t d = lane + 32 * i;
          if (d < g.valueDepth)
            accumulator[i] += weight * toFloat(valueRow[d]);
        }
      }
    }
    if (active) {
      float inverse = sum > 0 ? 1.0f / sum : 0.0f;
      T *outRow = out + (bh * g.queries + query) * g.valueDepth;
      for (int i = 0; i < Chunks; ++i) {
        int64_t d = lane + 32 * i;
        if (d < g.valueDepth)
          outRow[d] = fromFloat<T>(accumulator[i] * inverse);
      }
    }
    __syncwarp();
  }
}

template <typename T, int Chunks>
cudaError_t launchWith(const AttentionGeometry &g, const void *q, const void *k,
                       const void *v, const void *mask, void *out,
                       cudaStream_t stream) {
  int64_t blocks =
      g.batch * g.heads * ((g.queries + kWarpsPerBlock - 1) / kWarpsPerBlock);
  unsigned grid =
      static_cast<unsigned>(blocks > INT32_MAX ? INT32_MAX : blocks);
  attentionKernel<T, Chunks><<<grid, kWarpsPerBlock * 32, 0, stream>>>(
      g, static_cast<const T *>(q), static_cast<const T *>(k),
      static_cast<const T *>(v), static_cast<const T *>(mask),
      static_cast<T *>(out), blocks);
  return cudaGetLastError();
}

template <typename T>
cudaError_t launchTyped(const AttentionGeometry &g, const void *q,
                        const void *k, const void *v, const void *mask,
                        void *out, cudaStream_t stream) {
  int64_t chunks = (g.valueDepth + 31) / 32;
  if (chunks <= 1)
    return launchWith<T, 1>(g, q, k, v, mask, out, stream);
  if (chunks <= 2)
    return launchWith<T, 2>(g, q, k, v, mask, out, stream);
  if (chunks <= 4)
    return launchWith<T, 4>(g, q, k, v, mask, out, stream);
  return launchWith<T, 8>(g, q, k, v, mask, out, stream);
}

} // namespace

bool attentionSupports(int64_t depth, int64_t valueDepth) {
  return depth <= kMaxDepth && valueDepth <= kMaxDepth;
}

cudaError_t launchAttention(ElementType type, const AttentionGeometry &g,
                            const void *q, const void *k, const void *v,
                            const void *mask, void *out, cudaStream_t stream) {
  if (g.batch * g.heads * g.queries == 0 || g.valueDepth == 0)
    return cudaSuccess;
  DSP_DISPATCH_FLOAT(type,
                     return launchTyped<T>(g, q, k, v, mask, out, stream));
  return cudaErrorInvalidValue;
}

} // namespace cuda
} // namespace runtime
} // namespace dsp
