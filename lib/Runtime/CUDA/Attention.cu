//===- Attention.cu - Flash-style attention -------------------------------===//
//
// softmax(q k^T * scale + mask) v without materializing the scores, with an
// online softmax: a running maximum, a running sum and an output
// accumulator per query row, rescaled when the maximum grows. Statistics and
// accumulation are f32 whatever the storage. A row whose scores are all -inf
// (fully masked) yields zeros, as on the CPU.
//
// Both kernels can also take in one block of a ring's keys (AttentionCarry):
// the row's log-sum-exp, maximum + log(sum), weighs the block's output
// against the state of the blocks before it.
//
// Two kernels:
// - tiled: a block of 256 threads takes 64 query rows and walks the keys 64 at
//   a time through shared memory, so every key and value is read from memory
//   once per 64 queries rather than once per query. Thread (ty, tx) of a
//   16 x 16 grid owns rows ty + 16 i (i < 4), score columns tx + 16 j (j < 4)
//   and output columns tx + 16 c; the 16 threads of a row are one half-warp,
//   so row statistics and probabilities move between them by shuffles.
// - per row: one warp per query row, keys 32 at a time. It serves the short
//   key sequences (one tile of at most 32 keys, as temporal attention has),
//   where a 64-key tile would be mostly empty, and head dims whose tiles do
//   not fit the device's shared memory.
//
//===----------------------------------------------------------------------===//

#include "DeviceCommon.cuh"

#include <type_traits>

namespace dsp {
namespace runtime {
namespace cuda {

namespace {

constexpr int kWarpsPerBlock = 4;
constexpr int kMaxDepth = 256;

constexpr int kTile = 64;     // query rows and keys per tile
constexpr int kTileSide = 16; // the thread grid is kTileSide x kTileSide
constexpr int kPerThread =
    kTile / kTileSide; // rows (and columns) a thread owns
constexpr int kTileThreads = kTileSide * kTileSide;

/// Row stride of the q and k tiles: odd, so that the 16 key rows a
/// half-warp reads at one depth fall in 16 different banks.
__host__ __device__ inline int64_t tileDepthStride(int64_t depth) {
  return depth | 1;
}

/// Shared memory of the tiled kernel: q and k tiles, and a value tile as wide
/// as the output columns the threads own.
inline int64_t tiledSharedBytes(int64_t depth, int outputChunks) {
  return (2 * kTile * tileDepthStride(depth) +
          kTile * int64_t{kTileSide} * outputChunks) *
         static_cast<int64_t>(sizeof(float));
}

/// How a query row's result is written: its f32 accumulator times
/// `blockWeight`, plus the prior state's output times `priorWeight`, into the
/// next state or the output.
struct RowMerge {
  float priorWeight, blockWeight, lse;
};

/// The merge of a row whose scores have running `maximum` and `sum` with the
/// carry's prior state of row `row`. Without a prior state the output is
/// the accumulator over the sum, as in one launch over all keys.
__device__ __forceinline__ RowMerge mergeRow(float maximum, float sum,
                                             const AttentionCarry &carry,
                                             int64_t row) {
  const float blockLse = sum > 0 ? maximum + logf(sum) : -INFINITY;
  if (!carry.priorLse)
    return {0.0f, sum > 0 ? 1.0f / sum : 0.0f, blockLse};
  const float prior = carry.priorLse[row];
  const float top = fmaxf(prior, blockLse);
  // Every score so far is -inf (masked or padding): zeros, as without a ring.
  if (top == -INFINITY)
    return {0.0f, 0.0f, -INFINITY};
  const float lse = top + logf(expf(prior - top) + expf(blockLse - top));
  return {expf(prior - lse), sum > 0 ? expf(maximum - lse) : 0.0f, lse};
}

/// Writes element `column` of row `row` (of `valueDepth`) as `merge` says;
/// `writesLse`: this thread also writes the row's log-sum-exp.
template <typename T>
__device__ __forceinline__ void
writeMerged(const AttentionCarry &carry, const RowMerge &merge, int64_t row,
            int64_t valueDepth, int64_t column, float accumulator, T *out,
            bool writesLse) {
  const int64_t index = row * valueDepth + column;
  float value = accumulator * merge.blockWeight;
  if (carry.priorOutput)
    value += carry.priorOutput[index] * merge.priorWeight;
  if (carry.nextOutput)
    carry.nextOutput[index] = value;
  else
    out[index] = fromFloat<T>(value);
  if (writesLse && carry.nextLse)
    carry.nextLse[row] = merge.lse;
}

/// Sum (or max) over the 16 lanes of a half-warp; all 32 lanes take part.
template <bool Max> __device__ __forceinline__ float halfWarpReduce(float v) {
  for (int offset = kTileSide / 2; offset > 0; offset /= 2) {
    float other = __shfl_xor_sync(0xffffffffu, v, offset);
    v = Max ? fmaxf(v, other) : v + other;
  }
  return v;
}

template <typename T, int OutputChunks>
__global__ void __launch_bounds__(kTileThreads)
    tiledAttentionKernel(AttentionGeometry g, AttentionCarry carry, const T *q,
                         const T *k, const T *v, const T *mask, T *out,
                         int64_t blocks) {
  extern __shared__ float tiles[];
  const int64_t depthStride = tileDepthStride(g.depth);
  constexpr int valueStride = kTileSide * OutputChunks;
  float *queryTile = tiles;
  float *keyTile = queryTile + kTile * depthStride;
  float *valueTile = keyTile + kTile * depthStride;
  const int tx = threadIdx.x % kTileSide, ty = threadIdx.x / kTileSide;
  // The lane of this half-warp's first thread: the row's 16 threads.
  const int rowLanes = threadIdx.x % 32 / kTileSide * kTileSide;
  const int64_t queryTiles = (g.queries + kTile - 1) / kTile;
  for (int64_t block = blockIdx.x; block < blocks; block += gridDim.x) {
    const int64_t bh = block / queryTiles;
    const int64_t b = bh / g.heads, h = bh % g.heads;
    const int64_t firstQuery = block % queryTiles * kTile;
    __syncthreads(); // the previous block's readers are done with the tiles
    for (int64_t e = threadIdx.x; e < kTile * g.depth; e += kTileThreads) {
      int64_t row = e / g.depth, d = e % g.depth, query = firstQuery + row;
      queryTile[row * depthStride + d] =
          query < g.queries
              ? toFloat(q[(bh * g.queries + query) * g.depth + d]) * g.scale
              : 0.0f;
    }
    float maximum[kPerThread], sum[kPerThread];
    float accumulator[kPerThread][OutputChunks];
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      maximum[i] = -INFINITY;
      sum[i] = 0;
#pragma unroll
      for (int c = 0; c < OutputChunks; ++c)
        accumulator[i][c] = 0;
    }
    const T *keys = k + bh * g.keyRows * g.depth;
    const T *values = v + bh * g.keyRows * g.valueDepth;
    for (int64_t firstKey = 0; firstKey < g.keys; firstKey += kTile) {
      __syncthreads(); // everyone is done with the previous key tile
      for (int64_t e = threadIdx.x; e < kTile * g.depth; e += kTileThreads) {
        int64_t row = e / g.depth, d = e % g.depth, key = firstKey + row;
        keyTile[row * depthStride + d] =
            key < g.keys ? toFloat(keys[key * g.depth + d]) : 0.0f;
      }
      // Columns past the value depth are zeros, so the output loop needs no
      // bounds.
      for (int e = threadIdx.x; e < kTile * valueStride; e += kTileThreads) {
        int64_t row = e / valueStride, d = e % valueStride,
                key = firstKey + row;
        valueTile[e] = key < g.keys && d < g.valueDepth
                           ? toFloat(values[key * g.valueDepth + d])
                           : 0.0f;
      }
      __syncthreads();
      float score[kPerThread][kPerThread] = {};
      for (int64_t d = 0; d < g.depth; ++d) {
        float queryValue[kPerThread], keyValue[kPerThread];
#pragma unroll
        for (int i = 0; i < kPerThread; ++i) {
          queryValue[i] = queryTile[(ty + kTileSide * i) * depthStride + d];
          keyValue[i] = keyTile[(tx + kTileSide * i) * depthStride + d];
        }
#pragma unroll
        for (int i = 0; i < kPerThread; ++i)
#pragma unroll
          for (int j = 0; j < kPerThread; ++j)
            score[i][j] += queryValue[i] * keyValue[j];
      }
#pragma unroll
      for (int i = 0; i < kPerThread; ++i) {
        const int64_t query = firstQuery + ty + kTileSide * i;
        float tileMaximum = -INFINITY;
#pragma unroll
        for (int j = 0; j < kPerThread; ++j) {
          const int64_t key = firstKey + tx + kTileSide * j;
          if (key >= g.keys)
            score[i][j] = -INFINITY;
          else if (mask && query < g.queries)
            score[i][j] += toFloat(
                mask[b * g.maskStrides[0] + h * g.maskStrides[1] +
                     query * g.maskStrides[2] + key * g.maskStrides[3]]);
          tileMaximum = fmaxf(tileMaximum, score[i][j]);
        }
        const float newMaximum =
            fmaxf(maximum[i], halfWarpReduce<true>(tileMaximum));
        // Branch-free, since every lane must reach the shuffles: while all
        // of a row's scores are -inf, its probabilities and sum stay 0.
        const float base = newMaximum == -INFINITY ? 0.0f : newMaximum;
        float rowSum = 0;
#pragma unroll
        for (int j = 0; j < kPerThread; ++j) {
          score[i][j] = expf(score[i][j] - base);
          rowSum += score[i][j];
        }
        const float correction = expf(maximum[i] - base);
        sum[i] = sum[i] * correction + halfWarpReduce<false>(rowSum);
        maximum[i] = newMaximum;
#pragma unroll
        for (int c = 0; c < OutputChunks; ++c)
          accumulator[i][c] *= correction;
      }
      // Probability of key tx' + 16 j of row i lives in lane tx' of the
      // row's half-warp.
#pragma unroll
      for (int j = 0; j < kPerThread; ++j)
#pragma unroll
        for (int lane = 0; lane < kTileSide; ++lane) {
          const float *valueRow =
              valueTile + (lane + kTileSide * j) * valueStride + tx;
          float weight[kPerThread];
#pragma unroll
          for (int i = 0; i < kPerThread; ++i)
            weight[i] = __shfl_sync(0xffffffffu, score[i][j], rowLanes + lane);
#pragma unroll
          for (int c = 0; c < OutputChunks; ++c) {
            const float value = valueRow[kTileSide * c];
#pragma unroll
            for (int i = 0; i < kPerThread; ++i)
              accumulator[i][c] += weight[i] * value;
          }
        }
    }
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      const int64_t query = firstQuery + ty + kTileSide * i;
      if (query >= g.queries)
        continue;
      const int64_t row = bh * g.queries + query;
      const RowMerge merge = mergeRow(maximum[i], sum[i], carry, row);
#pragma unroll
      for (int c = 0; c < OutputChunks; ++c) {
        const int64_t d = tx + kTileSide * c;
        if (d < g.valueDepth)
          writeMerged(carry, merge, row, g.valueDepth, d, accumulator[i][c],
                      out, d == 0);
      }
    }
  }
}

template <typename T, int Chunks>
__global__ void attentionKernel(AttentionGeometry g, AttentionCarry carry,
                                const T *q, const T *k, const T *v,
                                const T *mask, T *out, int64_t blocks) {
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
    const T *keys = k + bh * g.keyRows * g.depth;
    const T *values = v + bh * g.keyRows * g.valueDepth;
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
      const int64_t row = bh * g.queries + query;
      const RowMerge merge = mergeRow(maximum, sum, carry, row);
      for (int i = 0; i < Chunks; ++i) {
        int64_t d = lane + 32 * i;
        if (d < g.valueDepth)
          writeMerged(carry, merge, row, g.valueDepth, d, accumulator[i], out,
                      d == 0);
      }
    }
    __syncwarp();
  }
}

template <typename T, int Chunks>
cudaError_t launchPerRow(const AttentionGeometry &g,
                         const AttentionCarry &carry, const void *q,
                         const void *k, const void *v, const void *mask,
                         void *out, cudaStream_t stream) {
  int64_t blocks =
      g.batch * g.heads * ((g.queries + kWarpsPerBlock - 1) / kWarpsPerBlock);
  unsigned grid =
      static_cast<unsigned>(blocks > INT32_MAX ? INT32_MAX : blocks);
  attentionKernel<T, Chunks><<<grid, kWarpsPerBlock * 32, 0, stream>>>(
      g, carry, static_cast<const T *>(q), static_cast<const T *>(k),
      static_cast<const T *>(v), static_cast<const T *>(mask),
      static_cast<T *>(out), blocks);
  return cudaGetLastError();
}

/// Calls `launch` with std::integral_constant<int, W> for the first width W
/// of the list that holds `chunks` (the last one otherwise).
template <int Width, int... Wider, typename Launch>
cudaError_t withWidth(int64_t chunks, const Launch &launch) {
  if constexpr (sizeof...(Wider) == 0)
    return launch(std::integral_constant<int, Width>());
  else
    return chunks <= Width ? launch(std::integral_constant<int, Width>())
                           : withWidth<Wider...>(chunks, launch);
}

template <typename T>
cudaError_t launchPerRowTyped(const AttentionGeometry &g,
                              const AttentionCarry &carry, const void *q,
                              const void *k, const void *v, const void *mask,
                              void *out, cudaStream_t stream) {
  return withWidth<1, 2, 4, 8>((g.valueDepth + 31) / 32, [&](auto chunks) {
    return launchPerRow<T, decltype(chunks)::value>(g, carry, q, k, v, mask,
                                                    out, stream);
  });
}

/// The largest shared memory a block of the current device may opt in to.
cudaError_t sharedMemoryLimit(int &bytes) {
  int device = 0;
  if (cudaError_t error = cudaGetDevice(&device); error != cudaSuccess)
    return error;
  return cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin,
                                device);
}

/// Launches the tiled kernel with OutputChunks * 16 output columns per row,
/// or the per-row kernel where the tiles do not fit in shared memory.
template <typename T, int OutputChunks>
cudaError_t launchTiled(const AttentionGeometry &g, const AttentionCarry &carry,
                        const void *q, const void *k, const void *v,
                        const void *mask, void *out, cudaStream_t stream) {
  int limit = 0;
  if (cudaError_t error = sharedMemoryLimit(limit); error != cudaSuccess)
    return error;
  int64_t bytes = tiledSharedBytes(g.depth, OutputChunks);
  if (bytes > limit)
    return launchPerRowTyped<T>(g, carry, q, k, v, mask, out, stream);
  auto kernel = tiledAttentionKernel<T, OutputChunks>;
  if (cudaError_t error = cudaFuncSetAttribute(
          kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
          static_cast<int>(bytes));
      error != cudaSuccess)
    return error;
  int64_t blocks = g.batch * g.heads * ((g.queries + kTile - 1) / kTile);
  unsigned grid =
      static_cast<unsigned>(blocks > INT32_MAX ? INT32_MAX : blocks);
  kernel<<<grid, kTileThreads, static_cast<size_t>(bytes), stream>>>(
      g, carry, static_cast<const T *>(q), static_cast<const T *>(k),
      static_cast<const T *>(v), static_cast<const T *>(mask),
      static_cast<T *>(out), blocks);
  return cudaGetLastError();
}

template <typename T>
cudaError_t launchTyped(const AttentionGeometry &g, const AttentionCarry &carry,
                        const void *q, const void *k, const void *v,
                        const void *mask, void *out, cudaStream_t stream) {
  if (g.keys <= 32)
    return launchPerRowTyped<T>(g, carry, q, k, v, mask, out, stream);
  // Instantiated output widths: the common head dims (64, 72, 80, 96, 128)
  // fit without a wasted chunk.
  return withWidth<1, 2, 3, 4, 5, 6, 8, 12, 16>(
      (g.valueDepth + kTileSide - 1) / kTileSide, [&](auto chunks) {
        return launchTiled<T, decltype(chunks)::value>(g, carry, q, k, v, mask,
                                                       out, stream);
      });
}

} // namespace

bool attentionSupports(int64_t depth, int64_t valueDepth) {
  return depth <= kMaxDepth && valueDepth <= kMaxDepth;
}

cudaError_t launchAttention(ElementType type, const AttentionGeometry &g,
                            const void *q, const void *k, const void *v,
                            const void *mask, void *out, cudaStream_t stream,
                            const AttentionCarry &carry) {
  if (g.batch * g.heads * g.queries == 0 || g.valueDepth == 0)
    return cudaSuccess;
  DSP_DISPATCH_FLOAT(
      type, return launchTyped<T>(g, carry, q, k, v, mask, out, stream));
  return cudaErrorInvalidValue;
}

} // namespace cuda
} // namespace runtime
} // namespace dsp
