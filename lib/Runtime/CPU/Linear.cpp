//===- Linear.cpp - matmul, attention and conv ----------------------------===//
//
// All three reduce to single-threaded SGEMM calls (Gemm.h) on independent
// tiles that the session's thread pool runs in parallel, so the pool alone
// decides how many cores a session uses.
//
//===----------------------------------------------------------------------===//

#include "FastMath.h"
#include "Gemm.h"
#include "StridedLoop.h"
#include "VectorVariant.h"

#include "../Collectives.h"
#include "dsp/Format/AttentionLayout.h"
#include "dsp/Format/Float16.h"
#include "dsp/Format/HostWorkspace.h"
#include "dsp/Runtime/Communicator.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace dsp {
namespace runtime {
namespace cpu {

using format::ceilDiv;

namespace {

/// out = activation(out + bias) + residual on `rows` x `columns` of
/// row-major matrices with leading dim `ld`; `residual` may be null.
template <typename Function>
__attribute__((always_inline)) inline void
applyEpilogue(Function activation, const float *bias, const float *residual,
              float *out, int64_t rows, int64_t columns, int64_t ld) {
  for (int64_t r = 0; r < rows; ++r) {
    float *row = out + r * ld;
    if (residual) {
      const float *add = residual + r * ld;
      for (int64_t j = 0; j < columns; ++j)
        row[j] = activation(row[j] + bias[j]) + add[j];
    } else {
      for (int64_t j = 0; j < columns; ++j)
        row[j] = activation(row[j] + bias[j]);
    }
  }
}

/// The same, with the scalar functions of the gelu and silu kernels.
struct Epilogue {
  template <typename Vector>
  __attribute__((always_inline)) static inline void
  run(format::Activation activation, const float *bias, const float *residual,
      float *out, int64_t rows, int64_t columns, int64_t ld) {
    switch (activation) {
    case format::Activation::None:
      return applyEpilogue([](float x) { return x; }, bias, residual, out, rows,
                           columns, ld);
    case format::Activation::Gelu:
      return applyEpilogue([](float x) { return geluErf(x); }, bias, residual,
                           out, rows, columns, ld);
    case format::Activation::GeluTanh:
      return applyEpilogue([](float x) { return geluTanh(x); }, bias, residual,
                           out, rows, columns, ld);
    case format::Activation::Silu:
      return applyEpilogue([](float x) { return silu(x); }, bias, residual, out,
                           rows, columns, ld);
    }
  }
};

/// Score rows are a multiple of this many floats apart, the widest vector:
/// a short row (8 keys) is then padded to one whole vector of -inf, whose
/// exponentials are 0, instead of running the loops' scalar remainders.
constexpr int64_t kScoreLanes = format::kAttentionScoreLanes;
static_assert(kScoreLanes % kWidestLanes == 0);

int64_t roundUpToScoreLanes(int64_t columns) {
  return ceilDiv(columns, kScoreLanes) * kScoreLanes;
}

/// Adds the mask row (`maskRow` may be null; its columns are
/// `maskColumnStride` apart) to a row of `columns` scores, pads the row
/// with -inf to `padded` (whole vectors) and returns its largest score.
template <typename Vector>
__attribute__((always_inline)) inline float
maskedRowMax(float *s, int64_t columns, int64_t padded, const float *maskRow,
             int64_t maskColumnStride) {
  constexpr int kLanes = VectorLanes<Vector>::kCount;
  const float negativeInfinity = -std::numeric_limits<float>::infinity();
  if (maskRow)
    for (int64_t c = 0; c < columns; ++c)
      s[c] += maskRow[c * maskColumnStride];
  std::fill(s + columns, s + padded, negativeInfinity);
  // Rows are short (16 keys in a temporal attention): whole vectors, no
  // remainder loops.
  Vector partialMax = Vector{} + negativeInfinity;
  for (int64_t c = 0; c < padded; c += kLanes) {
    Vector chunk;
    std::memcpy(&chunk, s + c, sizeof(chunk));
    blendInto(partialMax, chunk > partialMax, chunk);
  }
  return largestLane(partialMax);
}

/// maskedRowMax of `rows` rows `scoreStride` floats apart (the mask's
/// `maskRowStride`), into `maxes`: a pass of its own, so that the rows'
/// chains overlap instead of each row's exponentials waiting on its max.
template <typename Vector>
__attribute__((always_inline)) inline void
maskedRowMaxes(float *scores, int64_t scoreStride, int64_t rows,
               int64_t columns, int64_t padded, const float *mask,
               int64_t maskRowStride, int64_t maskColumnStride, float *maxes) {
  for (int64_t r = 0; r < rows; ++r)
    maxes[r] = maskedRowMax<Vector>(scores + r * scoreStride, columns, padded,
                                    mask ? mask + r * maskRowStride : nullptr,
                                    maskColumnStride);
}

/// s = exp(s - max) over a padded row, in one pass with their sum, which it
/// returns.
template <typename Vector>
__attribute__((always_inline)) inline float expAndSum(float *s, int64_t padded,
                                                      float max) {
  constexpr int kLanes = VectorLanes<Vector>::kCount;
  Vector partialSum = {};
  for (int64_t c = 0; c < padded; c += kLanes) {
    Vector chunk;
    std::memcpy(&chunk, s + c, sizeof(chunk));
    chunk -= max;
    expOrZeroInPlace(chunk);
    std::memcpy(s + c, &chunk, sizeof(chunk));
    partialSum += chunk;
  }
  return laneSum(partialSum);
}

/// One key block of the attention's online softmax for `rows` (at most
/// kAttentionMaxQueryBlock) query rows whose scores are `scoreStride` floats
/// apart (a multiple of kScoreLanes): adds the mask block (`mask` may be
/// null; its rows and columns are `maskRowStride` and `maskColumnStride`
/// apart), updates each row's running max and sum, turns the row's scores
/// into exp(score - max) and rescales its accumulator row to the new max.
struct OnlineSoftmaxStep {
  template <typename Vector>
  __attribute__((always_inline)) static inline void
  run(float *scores, int64_t scoreStride, int64_t rows, int64_t columns,
      const float *mask, int64_t maskRowStride, int64_t maskColumnStride,
      float *rowMax, float *rowSum, float *accumulator, int64_t valueDepth) {
    const float negativeInfinity = -std::numeric_limits<float>::infinity();
    const int64_t padded = roundUpToScoreLanes(columns);
    float blockMaxes[format::kAttentionMaxQueryBlock];
    maskedRowMaxes<Vector>(scores, scoreStride, rows, columns, padded, mask,
                           maskRowStride, maskColumnStride, blockMaxes);
    for (int64_t r = 0; r < rows; ++r) {
      float *s = scores + r * scoreStride;
      float newMax = std::max(rowMax[r], blockMaxes[r]);
      if (newMax == negativeInfinity) {
        // Everything so far is masked: contribute nothing.
        std::fill(s, s + columns, 0.0f);
        continue;
      }
      float sum = expAndSum<Vector>(s, padded, newMax);
      // The state so far moves to the new max; a row's first unmasked block
      // finds it empty and an unchanged max leaves it as it is.
      if (newMax != rowMax[r] && rowMax[r] != negativeInfinity) {
        float correction = expOrZero(rowMax[r] - newMax);
        rowSum[r] *= correction;
        float *acc = accumulator + r * valueDepth;
        for (int64_t c = 0; c < valueDepth; ++c)
          acc[c] *= correction;
      }
      rowSum[r] += sum;
      rowMax[r] = newMax;
    }
  }
};

/// The softmax of `rows` (at most kAttentionMaxQueryBlock) rows of scores
/// that hold all their keys, in place: as OnlineSoftmaxStep's first step,
/// then each row over its sum. A fully masked row has no mass and becomes
/// zeros.
struct CompleteSoftmax {
  template <typename Vector>
  __attribute__((always_inline)) static inline void
  run(float *scores, int64_t scoreStride, int64_t rows, int64_t columns,
      const float *mask, int64_t maskRowStride, int64_t maskColumnStride) {
    constexpr int kLanes = VectorLanes<Vector>::kCount;
    const float negativeInfinity = -std::numeric_limits<float>::infinity();
    const int64_t padded = roundUpToScoreLanes(columns);
    // A pass per step over the task's rows, not all steps per row: a row's
    // steps form one long dependency chain (max, exponentials, sum,
    // reciprocal), while the rows of a pass are independent and the CPU
    // overlaps them.
    float maxes[format::kAttentionMaxQueryBlock];
    float inverses[format::kAttentionMaxQueryBlock];
    maskedRowMaxes<Vector>(scores, scoreStride, rows, columns, padded, mask,
                           maskRowStride, maskColumnStride, maxes);
    for (int64_t r = 0; r < rows; ++r) {
      float *s = scores + r * scoreStride;
      if (maxes[r] == negativeInfinity)
        std::fill(s, s + columns, 0.0f);
      else
        inverses[r] = 1.0f / expAndSum<Vector>(s, padded, maxes[r]);
    }
    for (int64_t r = 0; r < rows; ++r) {
      if (maxes[r] == negativeInfinity)
        continue;
      float *s = scores + r * scoreStride;
      for (int64_t c = 0; c < padded; c += kLanes) {
        Vector chunk;
        std::memcpy(&chunk, s + c, sizeof(chunk));
        chunk *= inverses[r];
        std::memcpy(s + c, &chunk, sizeof(chunk));
      }
    }
  }
};

} // namespace

std::unique_ptr<Kernel> createMatmulKernel(const KernelContext &context) {
  Shape a = context.inputShape(0), b = context.inputShape(1);
  Shape out = context.outputShape();
  const int64_t m = a[a.size() - 2], k = a.back(), n = b.back();
  Shape batch(out.begin(), out.end() - 2);
  Shape aBatch(a.begin(), a.end() - 2), bBatch(b.begin(), b.end() - 2);
  int64_t batchCount = elementCount(batch);

  // Offsets of each output batch's A and B matrices, after broadcasting.
  std::vector<int64_t> aOffsets, bOffsets;
  int64_t rows = m;
  if (elementCount(bBatch) == 1 && elementCount(aBatch) == batchCount) {
    // B is shared by every batch: one GEMM with the batches stacked as rows.
    rows = m * batchCount;
    batchCount = 1;
    aOffsets = {0};
    bOffsets = {0};
  } else {
    StridedPlan broadcast = makeBroadcastPlan(batch, {aBatch, bBatch});
    for (int64_t i = 0; i < batchCount; ++i) {
      int64_t aIndex = 0, bIndex = 0, rest = i;
      for (int d = static_cast<int>(broadcast.shape.size()) - 1; d >= 0; --d) {
        int64_t coordinate = rest % broadcast.shape[d];
        rest /= broadcast.shape[d];
        aIndex += coordinate * broadcast.strides[0][d];
        bIndex += coordinate * broadcast.strides[1][d];
      }
      aOffsets.push_back(aIndex * m * k);
      bOffsets.push_back(bIndex * k * n);
    }
  }

  // Split each GEMM into row (and, for few rows, column) blocks until every
  // thread has work. Products under 2^20 multiply-adds (about 0.1 ms on one
  // core) stay on one thread: waking the others costs more than they save.
  ThreadPool &pool = context.pool;
  int64_t threads = pool.size();
  int64_t rowBlocks = 1, columnBlocks = 1;
  if (batchCount < threads && rows * n * k >= (1 << 20)) {
    int64_t wanted = ceilDiv(threads, batchCount);
    rowBlocks = std::max<int64_t>(1, std::min(wanted, ceilDiv(rows, 32)));
    columnBlocks = std::max<int64_t>(
        1, std::min(ceilDiv(wanted, rowBlocks), ceilDiv(n, 64)));
  }
  int64_t rowStep = ceilDiv(rows, rowBlocks);
  int64_t columnStep = ceilDiv(n, columnBlocks);
  // The epilogue runs on each task's block right after its GEMM, while the
  // block is in cache.
  const bool hasBias = context.numInputs() >= 3;
  const bool hasResidual = context.numInputs() == 4;
  const format::Activation activation =
      format::findActivation(
          format::stringAttribute(context.instruction, "activation", "none"))
          .value_or(format::Activation::None);
  return makeKernel([=, &pool](const KernelArgs &args) {
    const float *aData = static_cast<const float *>(args.inputs[0]);
    const float *bData = static_cast<const float *>(args.inputs[1]);
    const float *bias =
        hasBias ? static_cast<const float *>(args.inputs[2]) : nullptr;
    const float *residual =
        hasResidual ? static_cast<const float *>(args.inputs[3]) : nullptr;
    float *cData = static_cast<float *>(args.output);
    int64_t tasks = batchCount * rowBlocks * columnBlocks;
    pool.parallelFor(tasks, 1, [&](int64_t begin, int64_t end, unsigned) {
      for (int64_t task = begin; task < end; ++task) {
        int64_t batchIndex = task / (rowBlocks * columnBlocks);
        int64_t row = (task / columnBlocks) % rowBlocks * rowStep;
        int64_t column = task % columnBlocks * columnStep;
        int64_t rowCount = std::min(rowStep, rows - row);
        int64_t columnCount = std::min(columnStep, n - column);
        if (rowCount <= 0 || columnCount <= 0)
          continue;
        int64_t block = batchIndex * rows * n + row * n + column;
        gemm(false, rowCount, columnCount, k, 1.0f,
             aData + aOffsets[batchIndex] + row * k, k,
             bData + bOffsets[batchIndex] + column, n, 0.0f, cData + block, n);
        if (bias)
          runWidest<Epilogue>(activation, bias + column,
                              residual ? residual + block : nullptr,
                              cData + block, rowCount, columnCount, n);
      }
    });
    return Status::success();
  });
}

namespace {

/// The running state of a block of query rows in online softmax: per row,
/// the accumulated values, the largest score so far and the sum of the
/// exponentials relative to it.
struct SoftmaxRows {
  float *accumulator;
  float *rowMax;
  float *rowSum;

  void reset(int64_t rows, int64_t valueDepth) {
    std::fill(accumulator, accumulator + rows * valueDepth, 0.0f);
    std::fill(rowMax, rowMax + rows, -std::numeric_limits<float>::infinity());
    std::fill(rowSum, rowSum + rows, 0.0f);
  }

  /// The result rows, `outStride` elements apart: the accumulated values
  /// over the sum; a fully masked row has no mass and yields zeros.
  void finish(int64_t rows, int64_t valueDepth, float *out,
              int64_t outStride) const {
    for (int64_t r = 0; r < rows; ++r) {
      float inverse = rowSum[r] > 0 ? 1.0f / rowSum[r] : 0.0f;
      for (int64_t c = 0; c < valueDepth; ++c)
        out[r * outStride + c] = accumulator[r * valueDepth + c] * inverse;
    }
  }
};

/// Asks for the cache lines of `rows` rows of `rowFloats` floats, `stride`
/// floats apart.
void prefetchRows(const float *first, int64_t rows, int64_t stride,
                  int64_t rowFloats) {
  constexpr int64_t kLineFloats = 64 / sizeof(float);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < rowFloats; c += kLineFloats)
      __builtin_prefetch(first + r * stride + c);
}

/// Where an additive mask's element of (query row, key column) lies relative
/// to that of the first row and column of a block.
struct MaskView {
  const float *first = nullptr;
  int64_t rowStride = 0, columnStride = 0;
};

/// How many elements apart the rows of a head lie in the query, key and
/// value operands (their depths where they are contiguous).
struct RowStrides {
  int64_t query, key, value;
};

/// Takes `columns` keys (and their values) into the state of `rows` query
/// rows: scores = scale * q . k^T (+ mask), then the running max, sum and
/// accumulator of each row are rescaled to the new max and add the block.
/// `scores` holds rows x scoreStride floats.
void attendKeyBlock(const float *queries, int64_t rows, int64_t depth,
                    const float *keys, const float *values, int64_t columns,
                    int64_t valueDepth, RowStrides strides, float scale,
                    MaskView mask, float *scores, int64_t scoreStride,
                    SoftmaxRows state) {
  gemm(true, rows, columns, depth, scale, queries, strides.query, keys,
       strides.key, 0.0f, scores, scoreStride);
  runWidest<OnlineSoftmaxStep>(scores, scoreStride, rows, columns, mask.first,
                               mask.rowStride, mask.columnStride, state.rowMax,
                               state.rowSum, state.accumulator, valueDepth);
  gemm(false, rows, valueDepth, columns, 1.0f, scores, scoreStride, values,
       strides.value, 1.0f, state.accumulator, valueDepth);
}

/// attendKeyBlock for a head whose `columns` keys all fit one block: the
/// softmax is complete after one step, so the scores are normalized in place
/// and P V goes straight to the output rows (`outStride` apart), without the
/// accumulator and its rescaling.
void attendAllKeys(const float *queries, int64_t rows, int64_t depth,
                   const float *keys, const float *values, int64_t columns,
                   int64_t valueDepth, RowStrides strides, float scale,
                   MaskView mask, float *scores, int64_t scoreStride,
                   float *out, int64_t outStride) {
  gemm(true, rows, columns, depth, scale, queries, strides.query, keys,
       strides.key, 0.0f, scores, scoreStride);
  runWidest<CompleteSoftmax>(scores, scoreStride, rows, columns, mask.first,
                             mask.rowStride, mask.columnStride);
  gemm(false, rows, valueDepth, columns, 1.0f, scores, scoreStride, values,
       strides.value, 0.0f, out, outStride);
}

} // namespace

std::unique_ptr<Kernel> createAttentionKernel(const KernelContext &context) {
  // Flash-attention style: each task owns a block of query rows and streams
  // over blocks of keys, keeping a running max and sum per row (online
  // softmax), so only a queryBlock x keyBlock tile of scores ever exists.
  // The operands and the result may lie transposed: the GEMMs read and the
  // rows are written where they lie, at their row strides.
  const format::AttentionLayout layout =
      format::attentionLayout(context.program, context.instruction);
  const format::AttentionView query = layout.views[0], key = layout.views[1],
                              value = layout.views[2], out = layout.views[3];
  const int64_t batch = query.shape[0], heads = query.shape[1],
                queries = query.shape[2], depth = query.shape[3];
  const int64_t keys = key.shape[2], valueDepth = value.shape[3];
  const RowStrides strides{query.rowStride, key.rowStride, value.rowStride};
  const float scale = static_cast<float>(
      format::floatAttribute(context.instruction, "scale", 1.0));
  const bool hasMask = context.numInputs() == 4;
  Shape maskStrides(4, 0);
  if (hasMask) {
    Shape mask = context.inputShape(3);
    Shape strides = contiguousStrides(mask);
    for (size_t d = 0; d < mask.size(); ++d)
      if (mask[d] != 1)
        maskStrides[4 - mask.size() + d] = strides[d];
  }

  ThreadPool &pool = context.pool;
  const format::AttentionTiling tiling(batch * heads, queries, keys,
                                       pool.size());
  const int64_t keyBlock = tiling.keyBlock, queryBlock = tiling.queryBlock;
  const int64_t queryBlocks = tiling.queryBlocks;
  const int64_t scoreStride = tiling.scoreStride;
  const size_t workerFloats = tiling.workerFloats(valueDepth);

  return makeKernel(
      [=, &pool](const KernelArgs &args) {
        const float *qData =
            static_cast<const float *>(args.inputs[0]) + query.offset;
        const float *kData =
            static_cast<const float *>(args.inputs[1]) + key.offset;
        const float *vData =
            static_cast<const float *>(args.inputs[2]) + value.offset;
        const float *maskData =
            hasMask ? static_cast<const float *>(args.inputs[3]) : nullptr;
        float *outData = static_cast<float *>(args.output);
        float *workspace = static_cast<float *>(args.workspace);
        pool.parallelFor(
            batch * heads * queryBlocks, 1,
            [&](int64_t begin, int64_t end, unsigned worker) {
              float *scores = workspace + worker * workerFloats;
              float *accumulator = scores + queryBlock * scoreStride;
              float *rowMax = accumulator + queryBlock * valueDepth;
              SoftmaxRows state{accumulator, rowMax, rowMax + queryBlock};
              // A task: a block of query rows of one (batch, head).
              struct Task {
                int64_t b, h, firstQuery, rows;
                const float *qBlock, *kHead, *vHead;
                float *outRows;
              };
              auto taskAt = [&](int64_t task) {
                int64_t bh = task / queryBlocks;
                int64_t b = bh / heads, h = bh % heads;
                int64_t firstQuery = task % queryBlocks * queryBlock;
                return Task{
                    b,
                    h,
                    firstQuery,
                    std::min(queryBlock, queries - firstQuery),
                    qData + b * query.batchStride + h * query.headStride +
                        firstQuery * query.rowStride,
                    kData + b * key.batchStride + h * key.headStride,
                    vData + b * value.batchStride + h * value.headStride,
                    outData + b * out.batchStride + h * out.headStride +
                        firstQuery * out.rowStride};
              };
              Task next = taskAt(begin);
              for (int64_t task = begin; task < end; ++task) {
                const int64_t b = next.b, h = next.h;
                const int64_t firstQuery = next.firstQuery, rows = next.rows;
                const float *qBlock = next.qBlock, *kHead = next.kHead,
                            *vHead = next.vHead;
                float *outRows = next.outRows;
                // The next task's operand rows load while this one
                // computes: in a model they lie strided in a projection's
                // result that has left the cache, and each small GEMM would
                // wait on them. Its output rows are only written: asking for
                // them too cost more than it saved.
                if (task + 1 < end) {
                  next = taskAt(task + 1);
                  prefetchRows(next.qBlock, next.rows, query.rowStride, depth);
                  if (next.kHead != kHead || next.vHead != vHead) {
                    int64_t firstKeys = std::min(keys, keyBlock);
                    prefetchRows(next.kHead, firstKeys, key.rowStride, depth);
                    prefetchRows(next.vHead, firstKeys, value.rowStride,
                                 valueDepth);
                  }
                }
                auto maskAt = [&](int64_t firstKey) {
                  if (!maskData)
                    return MaskView();
                  return MaskView{maskData + b * maskStrides[0] +
                                      h * maskStrides[1] +
                                      firstQuery * maskStrides[2] +
                                      firstKey * maskStrides[3],
                                  maskStrides[2], maskStrides[3]};
                };
                if (keys <= keyBlock) {
                  attendAllKeys(qBlock, rows, depth, kHead, vHead, keys,
                                valueDepth, strides, scale, maskAt(0), scores,
                                scoreStride, outRows, out.rowStride);
                  continue;
                }
                state.reset(rows, valueDepth);
                for (int64_t firstKey = 0; firstKey < keys;
                     firstKey += keyBlock)
                  attendKeyBlock(
                      qBlock, rows, depth, kHead + firstKey * key.rowStride,
                      vHead + firstKey * value.rowStride,
                      std::min(keyBlock, keys - firstKey), valueDepth, strides,
                      scale, maskAt(firstKey), scores, scoreStride, state);
                state.finish(rows, valueDepth, outRows, out.rowStride);
              }
            });
        return Status::success();
      },
      tiling.workspaceBytes(valueDepth, pool.size()));
}

std::unique_ptr<Kernel>
createRingAttentionKernel(const KernelContext &context) {
  // Each rank holds a block of the queries and one of the keys and values.
  // The key and value blocks travel around the ring (to the next rank of
  // the group, from the previous) in N - 1 steps; every rank takes each
  // block into the online softmax state of its query rows, which holds the
  // log-sum-exp of all blocks so far in f32. A step's transfer runs on the
  // calling thread, so that one thread reaches the communicator, while the
  // session's compute lane takes the block in hand. The blocks travel in
  // the program's dtype, as planned; f16 and bf16 ones are widened to f32 as
  // they are taken in, and the result is rounded once.
  const dsp::program::DType dtype = context.output().dtype();
  const bool narrow = format::isFloat16(dtype);
  if (!narrow && dtype != dsp::program::F32)
    return nullptr;
  const size_t elementBytes = narrow ? sizeof(uint16_t) : sizeof(float);
  Shape q = context.inputShape(0), v = context.inputShape(2);
  const int64_t batch = q[0], heads = q[1], queries = q[2], depth = q[3];
  const int64_t keys = context.inputShape(1)[2], valueDepth = v[3];
  const float scale = static_cast<float>(
      format::floatAttribute(context.instruction, "scale", 1.0));
  const int64_t keyCount =
      format::intsAttribute(context.instruction, "key_count")[0];
  // Every rank, or the sub-group of the mesh axis `axis`.
  const InstructionGroup ring = instructionGroup(
      context.program, context.instruction, context.communicator);

  ThreadPool &pool = context.pool;
  Communicator &communicator = context.communicator;
  CommunicationLane &computeLane = *context.computeLane;
  const format::AttentionTiling tiling(batch * heads, queries, keys,
                                       pool.size());
  const int64_t keyBlock = tiling.keyBlock, queryBlock = tiling.queryBlock;
  const int64_t queryBlocks = tiling.queryBlocks;
  const size_t rowCount = batch * heads * queries;
  const size_t queryElements = rowCount * depth;
  const size_t keyElements = batch * heads * keys * depth;
  const size_t valueElements = batch * heads * keys * valueDepth;
  const size_t blockElements = keyElements + valueElements;
  const size_t outputElements = rowCount * valueDepth;
  const format::RingAttentionScratch scratch(q, context.inputShape(1), v, dtype,
                                             tiling);
  const size_t receivedFloats = scratch.receivedFloats;
  const size_t wideFloats = scratch.wideFloats;
  const size_t workspaceBytes = scratch.bytes(pool.size());

  return makeKernel(
      [=, &pool, &communicator,
       &computeLane](const KernelArgs &args) -> Status {
        if (Status begun = communicator.beginCollective("ring_attention");
            !begun)
          return begun;
        float *workspace = static_cast<float *>(args.workspace);
        uint8_t *received[2] = {
            reinterpret_cast<uint8_t *>(workspace),
            reinterpret_cast<uint8_t *>(workspace + receivedFloats)};
        float *wideQuery = workspace + 2 * receivedFloats;
        float *wideBlock = wideQuery + queryElements;
        float *wideOutput = wideBlock + blockElements;
        float *accumulator = workspace + 2 * receivedFloats + wideFloats;
        float *rowMax = accumulator + rowCount * valueDepth;
        float *rowSum = rowMax + rowCount;
        float *scores = rowSum + rowCount;
        auto rowsOf = [&](int64_t firstRow) {
          return SoftmaxRows{accumulator + firstRow * valueDepth,
                             rowMax + firstRow, rowSum + firstRow};
        };
        SoftmaxRows{accumulator, rowMax, rowSum}.reset(rowCount, valueDepth);
        // `count` elements of this program's dtype at `in` as f32.
        auto widen = [&](const void *in, float *out, size_t count) {
          pool.parallelFor(static_cast<int64_t>(count), kConversionGrain,
                           [&](int64_t begin, int64_t end, unsigned) {
                             format::widenToFloat(
                                 dtype,
                                 static_cast<const uint16_t *>(in) + begin,
                                 out + begin, end - begin);
                           });
          return out;
        };
        const float *qData =
            narrow ? widen(args.inputs[0], wideQuery, queryElements)
                   : static_cast<const float *>(args.inputs[0]);

        // Takes key block `block` (keys [block * keys, ...) of the whole)
        // into every query row's state; the padding past keyCount is left
        // out.
        auto attend = [&](const void *kBlock, const void *vBlock,
                          int64_t block) {
          int64_t valid = std::clamp<int64_t>(keyCount - block * keys, 0, keys);
          if (valid == 0)
            return;
          const float *kData = narrow ? widen(kBlock, wideBlock, keyElements)
                                      : static_cast<const float *>(kBlock);
          const float *vData =
              narrow ? widen(vBlock, wideBlock + keyElements, valueElements)
                     : static_cast<const float *>(vBlock);
          pool.parallelFor(
              batch * heads * queryBlocks, 1,
              [&](int64_t begin, int64_t end, unsigned worker) {
                for (int64_t task = begin; task < end; ++task) {
                  int64_t bh = task / queryBlocks;
                  int64_t firstQuery = task % queryBlocks * queryBlock;
                  int64_t firstRow = bh * queries + firstQuery;
                  int64_t rows = std::min(queryBlock, queries - firstQuery);
                  for (int64_t firstKey = 0; firstKey < valid;
                       firstKey += keyBlock)
                    attendKeyBlock(qData + firstRow * depth, rows, depth,
                                   kData + (bh * keys + firstKey) * depth,
                                   vData + (bh * keys + firstKey) * valueDepth,
                                   std::min(keyBlock, valid - firstKey),
                                   valueDepth, {depth, depth, valueDepth},
                                   scale, MaskView(),
                                   scores + worker * scratch.scoreFloats,
                                   tiling.scoreStride, rowsOf(firstRow));
                }
              });
        };

        const int ranks = static_cast<int>(ring.members.size());
        const int position = ring.position;
        const int next = ring.members[(position + 1) % ranks],
                  previous = ring.members[(position + ranks - 1) % ranks];
        const size_t keyBytes = keyElements * elementBytes,
                     valueBytes = valueElements * elementBytes;
        const void *kData = args.inputs[1];
        const void *vData = args.inputs[2];
        for (int step = 0; step < ranks; ++step) {
          int64_t block = (position - step + ranks) % ranks;
          if (step + 1 == ranks) {
            attend(kData, vData, block);
            break;
          }
          uint8_t *kNext = received[step % 2], *vNext = kNext + keyBytes;
          Status started = computeLane.start(0, [&, kData, vData, block] {
            attend(kData, vData, block);
            return Status::success();
          });
          if (!started)
            return started;
          Status moved = communicator.exchange(
              {{next, kData, keyBytes}, {next, vData, valueBytes}},
              {{previous, kNext, keyBytes}, {previous, vNext, valueBytes}});
          static_cast<void>(computeLane.wait(0));
          if (!moved)
            return moved;
          kData = kNext;
          vData = vNext;
        }
        float *outData =
            narrow ? wideOutput : static_cast<float *>(args.output);
        pool.parallelFor(
            batch * heads * queryBlocks, 1,
            [&](int64_t begin, int64_t end, unsigned) {
              for (int64_t task = begin; task < end; ++task) {
                int64_t bh = task / queryBlocks;
                int64_t firstQuery = task % queryBlocks * queryBlock;
                int64_t firstRow = bh * queries + firstQuery;
                rowsOf(firstRow).finish(
                    std::min(queryBlock, queries - firstQuery), valueDepth,
                    outData + firstRow * valueDepth, valueDepth);
              }
            });
        if (narrow)
          pool.parallelFor(
              static_cast<int64_t>(outputElements), kConversionGrain,
              [&](int64_t begin, int64_t end, unsigned) {
                format::narrowFromFloat(
                    dtype, wideOutput + begin,
                    static_cast<uint16_t *>(args.output) + begin, end - begin);
              });
        return Status::success();
      },
      workspaceBytes);
}

namespace {

/// Copies `length` elements of `source`, `stride` apart from index `start`,
/// to `destination`; those whose index falls outside [0, limit) are the
/// zero padding.
void gatherRun(float *destination, const float *source, int64_t start,
               int64_t stride, int64_t length, int64_t limit) {
  // The steps t whose index start + t * stride lies inside: [lo, hi).
  int64_t lo = 0, hi = length;
  if (start < 0 || start + (length - 1) * stride >= limit) {
    lo = std::min(start >= 0 ? 0 : (-start + stride - 1) / stride, length);
    hi = start >= limit ? 0 : (limit - start + stride - 1) / stride;
    hi = std::clamp(hi, lo, length);
  }
  std::fill(destination, destination + lo, 0.0f);
  // Indexed from `source` itself: with left padding, source + start would
  // point before the row.
  if (stride == 1)
    for (int64_t t = lo; t < hi; ++t)
      destination[t] = source[start + t];
  else
    for (int64_t t = lo; t < hi; ++t)
      destination[t] = source[start + t * stride];
  std::fill(destination + hi, destination + length, 0.0f);
}

/// The output position `first` as (z, y, x), stepped along the positions
/// that follow it.
struct OutputPosition {
  const int64_t *output;
  int64_t z, y, x;

  OutputPosition(const int64_t *output, int64_t first)
      : output(output), z(first / (output[1] * output[2])),
        y(first / output[2] % output[1]), x(first % output[2]) {}

  /// Moves to the start of the next output row.
  void nextRow() {
    x = 0;
    if (++y == output[1]) {
      y = 0;
      ++z;
    }
  }
  void next() {
    if (++x == output[2])
      nextRow();
  }
};

/// Where the (kz, ky) tap of the kernel at output position `at` lies in one
/// channel: the input row it reads, or null where that row is padding.
const float *inputRow(const format::ConvGeometry &g, const float *channel,
                      const OutputPosition &at, int64_t kz, int64_t ky) {
  int64_t iz = at.z * g.stride[0] - g.pad[0] + kz * g.dilation[0];
  int64_t iy = at.y * g.stride[1] - g.pad[1] + ky * g.dilation[1];
  if (iz < 0 || iz >= g.in[0] || iy < 0 || iy >= g.in[1])
    return nullptr;
  return channel + (iz * g.in[1] + iy) * g.in[2];
}

/// The im2col matrix of output positions [first, first + count) of one
/// image and group (`xGroup`): row r = (channel, kz, ky, kx) of the patch,
/// `count` columns. Each row is filled a run of output x positions at a
/// time, so that the index arithmetic is per run, not per element.
void gatherColumns(const format::ConvGeometry &g, const float *xGroup,
                   int64_t first, int64_t count, float *columns) {
  const int64_t *kernel = g.kernel;
  for (int64_t r = 0; r < g.patch; ++r) {
    int64_t c = r / g.kernelVolume, kk = r % g.kernelVolume;
    int64_t kz = kk / (kernel[1] * kernel[2]);
    int64_t ky = kk / kernel[2] % kernel[1];
    int64_t kx = kk % kernel[2];
    const float *channel = xGroup + c * g.inputVolume;
    float *row = columns + r * count;
    OutputPosition at(g.output, first);
    for (int64_t j = 0; j < count;) {
      int64_t run = std::min(g.output[2] - at.x, count - j);
      if (const float *input = inputRow(g, channel, at, kz, ky))
        gatherRun(row + j, input,
                  at.x * g.stride[2] - g.pad[2] + kx * g.dilation[2],
                  g.stride[2], run, g.in[2]);
      else
        std::fill(row + j, row + j + run, 0.0f);
      j += run;
      at.nextRow();
    }
  }
}

/// The same matrix transposed: a row of `patch` elements per output
/// position, filled a run of the kernel's kx taps at a time.
void gatherTransposedColumns(const format::ConvGeometry &g, const float *xGroup,
                             int64_t first, int64_t count, float *columns) {
  const int64_t *kernel = g.kernel;
  OutputPosition at(g.output, first);
  for (int64_t j = 0; j < count; ++j, at.next()) {
    float *row = columns + j * g.patch;
    int64_t x = at.x * g.stride[2] - g.pad[2];
    for (int64_t c = 0; c < g.groupChannels; ++c) {
      const float *channel = xGroup + c * g.inputVolume;
      for (int64_t kz = 0; kz < kernel[0]; ++kz)
        for (int64_t ky = 0; ky < kernel[1]; ++ky, row += kernel[2]) {
          if (const float *input = inputRow(g, channel, at, kz, ky))
            gatherRun(row, input, x, g.dilation[2], kernel[2], g.in[2]);
          else
            std::fill(row, row + kernel[2], 0.0f);
        }
    }
  }
}

} // namespace

std::unique_ptr<Kernel> createConvKernel(const KernelContext &context) {
  // im2col + GEMM per (image, group, block of output positions). Inputs with
  // fewer than 3 spatial dims are treated as 3-D with leading size-1 dims.
  ThreadPool &pool = context.pool;
  const format::ConvGeometry geometry(
      context.inputShape(0), context.inputShape(1), context.outputShape(),
      context.instruction, pool.size());
  const bool hasBias = context.numInputs() == 3;

  return makeKernel(
      [=, &pool](const KernelArgs &args) {
        const int64_t channels = geometry.channels, group = geometry.group,
                      filters = geometry.filters;
        const int64_t groupChannels = geometry.groupChannels,
                      groupFilters = geometry.groupFilters;
        const int64_t patch = geometry.patch,
                      inputVolume = geometry.inputVolume,
                      positions = geometry.positions;
        const int64_t block = geometry.block, blocks = geometry.blocks;
        const bool pointwise = geometry.pointwise;
        const float *xData = static_cast<const float *>(args.inputs[0]);
        const float *wData = static_cast<const float *>(args.inputs[1]);
        const float *bias =
            hasBias ? static_cast<const float *>(args.inputs[2]) : nullptr;
        float *outData = static_cast<float *>(args.output);
        pool.parallelFor(
            geometry.images * group * blocks, 1,
            [&](int64_t begin, int64_t end, unsigned worker) {
              // A pointwise conv has no column buffer (no workspace).
              float *columns = pointwise
                                   ? nullptr
                                   : static_cast<float *>(args.workspace) +
                                         worker * patch * block;
              for (int64_t task = begin; task < end; ++task) {
                int64_t image = task / (group * blocks);
                int64_t g = task / blocks % group;
                int64_t first = task % blocks * block;
                int64_t count = std::min(block, positions - first);
                const float *xGroup =
                    xData +
                    (image * channels + g * groupChannels) * inputVolume;
                const float *matrix = xGroup + first;
                int64_t ldb = positions;
                if (geometry.transposedColumns) {
                  gatherTransposedColumns(geometry, xGroup, first, count,
                                          columns);
                  matrix = columns;
                  ldb = patch;
                } else if (!pointwise) {
                  gatherColumns(geometry, xGroup, first, count, columns);
                  matrix = columns;
                  ldb = count;
                }
                float *result =
                    outData + (image * filters + g * groupFilters) * positions +
                    first;
                gemm(geometry.transposedColumns, groupFilters, count, patch,
                     1.0f, wData + g * groupFilters * patch, patch, matrix, ldb,
                     0.0f, result, positions);
                if (bias)
                  for (int64_t f = 0; f < groupFilters; ++f)
                    for (int64_t j = 0; j < count; ++j)
                      result[f * positions + j] += bias[g * groupFilters + f];
              }
            });
        return Status::success();
      },
      geometry.columnBytes);
}

} // namespace cpu
} // namespace runtime
} // namespace dsp
