//===- StridedLoop.h - Parallel loops over strided operands -----*- C++ -*-===//
//
// Broadcasting, transposes, slices, expands and tiles all read their inputs
// through per-dim element strides (0 for a broadcast dim, negative for a
// reversed slice) while writing a contiguous output. A StridedPlan describes
// that; forEachRun walks it in parallel, handing the callback runs along the
// innermost dim so inner loops stay simple and vectorizable.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_CPU_STRIDEDLOOP_H
#define DSP_RUNTIME_CPU_STRIDEDLOOP_H

#include "Kernels.h"

#include <algorithm>

namespace dsp {
namespace runtime {
namespace cpu {

constexpr int kMaxStridedInputs = 3;

struct StridedPlan {
  /// The output shape, coalesced; never empty.
  Shape shape;
  int numInputs = 0;
  Shape strides[kMaxStridedInputs];
  int64_t offsets[kMaxStridedInputs] = {0, 0, 0};
  int64_t total = 1;

  int64_t innerStride(int input) const { return strides[input].back(); }
};

/// Drops the size-1 dims of `shape` and merges the dims that every operand
/// (`strides[k]`: its element stride per dim) walks contiguously; where no
/// dim is left, the shape is [1] with stride 0.
inline void coalesceDims(Shape &shape, std::vector<Shape> &strides) {
  Shape merged;
  std::vector<Shape> mergedStrides(strides.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1)
      continue;
    bool chains = !merged.empty();
    for (size_t k = 0; chains && k < strides.size(); ++k)
      chains = mergedStrides[k].back() == strides[k][d] * shape[d];
    if (chains) {
      merged.back() *= shape[d];
      for (size_t k = 0; k < strides.size(); ++k)
        mergedStrides[k].back() = strides[k][d];
      continue;
    }
    merged.push_back(shape[d]);
    for (size_t k = 0; k < strides.size(); ++k)
      mergedStrides[k].push_back(strides[k][d]);
  }
  if (merged.empty()) {
    merged.push_back(1);
    for (Shape &operand : mergedStrides)
      operand.push_back(0);
  }
  shape = std::move(merged);
  strides = std::move(mergedStrides);
}

inline void coalesce(StridedPlan &plan) {
  std::vector<Shape> strides(plan.strides, plan.strides + plan.numInputs);
  coalesceDims(plan.shape, strides);
  std::copy(strides.begin(), strides.end(), plan.strides);
  plan.total = elementCount(plan.shape);
}

/// The element strides that read a tensor of shape `in` broadcast (numpy
/// rules) to a space of `rank` dims: 0 along its size-1 and missing dims.
inline Shape broadcastStrides(const Shape &in, size_t rank) {
  Shape own = contiguousStrides(in);
  Shape strides(rank, 0);
  size_t lead = rank - in.size();
  for (size_t d = 0; d < in.size(); ++d)
    strides[lead + d] = in[d] == 1 ? 0 : own[d];
  return strides;
}

/// A plan reading each input broadcast (numpy rules) to `outShape`.
inline StridedPlan makeBroadcastPlan(const Shape &outShape,
                                     const std::vector<Shape> &inShapes) {
  StridedPlan plan;
  plan.shape = outShape;
  plan.numInputs = static_cast<int>(inShapes.size());
  for (int k = 0; k < plan.numInputs; ++k)
    plan.strides[k] = broadcastStrides(inShapes[k], outShape.size());
  coalesce(plan);
  return plan;
}

/// Calls fn(outIndex, inIndices, length) for runs of consecutive output
/// elements along the innermost dim; input k's element i of the run is at
/// inIndices[k] + i * plan.innerStride(k).
template <typename Fn>
void forEachRun(ThreadPool &pool, const StridedPlan &plan, Fn &&fn) {
  const int rank = static_cast<int>(plan.shape.size());
  const int64_t inner = plan.shape.back();
  pool.parallelFor(
      plan.total, 1 << 14, [&](int64_t begin, int64_t end, unsigned) {
        // The coordinates of `begin` are decoded once; each run after it
        // steps them like an odometer, as runs are often only a few
        // elements long and a division per dim would cost more than the
        // copy.
        Shape coordinates(rank);
        int64_t in[kMaxStridedInputs];
        for (int k = 0; k < plan.numInputs; ++k)
          in[k] = plan.offsets[k];
        int64_t rest = begin;
        for (int d = rank - 1; d >= 0; --d) {
          coordinates[d] = rest % plan.shape[d];
          rest /= plan.shape[d];
          for (int k = 0; k < plan.numInputs; ++k)
            in[k] += coordinates[d] * plan.strides[k][d];
        }
        int64_t index = begin;
        while (index < end) {
          int64_t length = std::min(end - index, inner - coordinates[rank - 1]);
          fn(index, in, length);
          index += length;
          if (index == end)
            return;
          // The run ended at the end of the innermost dim: carry.
          for (int k = 0; k < plan.numInputs; ++k)
            in[k] -= coordinates[rank - 1] * plan.strides[k][rank - 1];
          coordinates[rank - 1] = 0;
          for (int d = rank - 2; d >= 0; --d) {
            for (int k = 0; k < plan.numInputs; ++k)
              in[k] += plan.strides[k][d];
            if (++coordinates[d] < plan.shape[d])
              break;
            for (int k = 0; k < plan.numInputs; ++k)
              in[k] -= plan.shape[d] * plan.strides[k][d];
            coordinates[d] = 0;
          }
        }
      });
}

} // namespace cpu
} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_CPU_STRIDEDLOOP_H
