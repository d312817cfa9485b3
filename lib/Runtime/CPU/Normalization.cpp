//===- Normalization.cpp - layer_norm, softmax and reductions -------------===//

#include "FastMath.h"
#include "StridedLoop.h"
#include "VectorVariant.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dsp {
namespace runtime {
namespace cpu {

namespace {

struct NormalizeRows {
  template <typename Vector>
  __attribute__((always_inline)) static inline void
  run(const float *x, int64_t xStride, const float *scale, int64_t scaleStride,
      const float *bias, int64_t biasStride, float epsilon, int64_t rows,
      int64_t columns, float *y) {
    for (int64_t r = 0; r < rows; ++r)
      normalizeRow(x + r * xStride, scale + r * scaleStride,
                   bias ? bias + r * biasStride : nullptr, epsilon, columns,
                   y + r * columns);
  }

  /// Two passes, both on the deviations from the row's first element: a
  /// large common offset (an unnormalized residual stream) then costs no
  /// precision in float, where the mean itself would be rounded to its ulp.
  __attribute__((always_inline)) static inline void
  normalizeRow(const float *x, const float *scale, const float *bias,
               float epsilon, int64_t columns, float *y) {
    const float shift = x[0];
    const float offset = static_cast<float>(
        sumInBlocks(columns, [&](int64_t c) { return x[c] - shift; }) /
        columns);
    const double squares = sumInBlocks(columns, [&](int64_t c) {
      float d = (x[c] - shift) - offset;
      return d * d;
    });
    float inverse =
        static_cast<float>(1.0 / std::sqrt(squares / columns + epsilon));
    if (bias)
      for (int64_t c = 0; c < columns; ++c)
        y[c] = ((x[c] - shift) - offset) * inverse * scale[c] + bias[c];
    else
      for (int64_t c = 0; c < columns; ++c)
        y[c] = ((x[c] - shift) - offset) * inverse * scale[c];
  }
};

} // namespace

void normalizeRows(const float *x, int64_t xStride, const float *scale,
                   int64_t scaleStride, const float *bias, int64_t biasStride,
                   float epsilon, int64_t rows, int64_t columns, float *y) {
  runWidest<NormalizeRows>(x, xStride, scale, scaleStride, bias, biasStride,
                           epsilon, rows, columns, y);
}

void softmaxRow(const float *x, int64_t length, int64_t stride, float *y) {
  float maximum = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < length; ++i)
    maximum = std::max(maximum, x[i * stride]);
  if (maximum == -std::numeric_limits<float>::infinity()) {
    // Every element is masked out: no probability mass anywhere.
    for (int64_t i = 0; i < length; ++i)
      y[i * stride] = 0.0f;
    return;
  }
  float sum = 0;
  for (int64_t i = 0; i < length; ++i) {
    y[i * stride] = expOrZero(x[i * stride] - maximum);
    sum += y[i * stride];
  }
  float inverse = 1.0f / sum;
  for (int64_t i = 0; i < length; ++i)
    y[i * stride] *= inverse;
}

std::unique_ptr<Kernel> createLayerNormKernel(const KernelContext &context) {
  int64_t axis = format::intsAttribute(context.instruction, "axis")[0];
  Shape x = context.inputShape(0);
  int64_t rows = elementCount(Shape(x.begin(), x.begin() + axis));
  int64_t columns = elementCount(Shape(x.begin() + axis, x.end()));
  float epsilon = static_cast<float>(
      format::floatAttribute(context.instruction, "epsilon", 0));
  bool hasBias = context.numInputs() == 3;
  ThreadPool &pool = context.pool;
  return makeKernel([=, &pool](const KernelArgs &args) {
    const float *in = static_cast<const float *>(args.inputs[0]);
    const float *scale = static_cast<const float *>(args.inputs[1]);
    const float *bias =
        hasBias ? static_cast<const float *>(args.inputs[2]) : nullptr;
    float *out = static_cast<float *>(args.output);
    int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(columns, 1));
    pool.parallelFor(rows, grain, [&](int64_t begin, int64_t end, unsigned) {
      normalizeRows(in + begin * columns, columns, scale, 0, bias, 0, epsilon,
                    end - begin, columns, out + begin * columns);
    });
    return Status::success();
  });
}

std::unique_ptr<Kernel> createSoftmaxKernel(const KernelContext &context) {
  // View the input as [outer, length, inner]; each (outer, inner) pair is
  // one softmax over `length` elements `inner` apart.
  int64_t axis = format::intsAttribute(context.instruction, "axis")[0];
  Shape x = context.inputShape(0);
  int64_t outer = elementCount(Shape(x.begin(), x.begin() + axis));
  int64_t length = x[axis];
  int64_t inner = elementCount(Shape(x.begin() + axis + 1, x.end()));
  ThreadPool &pool = context.pool;
  return makeKernel([=, &pool](const KernelArgs &args) {
    const float *in = static_cast<const float *>(args.inputs[0]);
    float *out = static_cast<float *>(args.output);
    int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(length, 1));
    pool.parallelFor(
        outer * inner, grain, [&](int64_t begin, int64_t end, unsigned) {
          for (int64_t task = begin; task < end; ++task) {
            int64_t base = (task / inner) * length * inner + task % inner;
            softmaxRow(in + base, length, inner, out + base);
          }
        });
    return Status::success();
  });
}

namespace {

enum class Reduction { Sum, Mean, Max };

/// Each output element reduces the input over the reduced dims: a strided
/// loop over the reduced shape, starting where the kept coordinates point.
/// Floats sum in double; integers wrap around.
template <typename T>
std::unique_ptr<Kernel> makeReduce(const KernelContext &context,
                                   Reduction kind) {
  Shape in = context.inputShape(0);
  Shape axes = format::intsAttribute(context.instruction, "axes");
  // Named copies rather than structured bindings: C++17 lambdas cannot
  // capture those.
  ReductionDims dims = reductionDims(in, axes);
  const Shape keptShape = dims.keptShape, keptStrides = dims.keptStrides;
  StridedPlan reduction;
  reduction.shape = dims.reducedShape;
  reduction.numInputs = 1;
  reduction.strides[0] = dims.reducedStrides;
  coalesce(reduction);
  int64_t outputs = elementCount(keptShape);
  int64_t reducedCount = elementCount(dims.reducedShape);
  using Sum = std::conditional_t<std::is_floating_point_v<T>, double, T>;
  // The mean's divisor is a parameter so padded dims can override it.
  double divisor = static_cast<double>(reducedCount);
  ThreadPool &pool = context.pool;
  return makeKernel([=, &pool](const KernelArgs &args) {
    const T *input = static_cast<const T *>(args.inputs[0]);
    T *out = static_cast<T *>(args.output);
    const int rank = static_cast<int>(reduction.shape.size());
    const int64_t inner = reduction.shape.back();
    const int64_t innerStride = reduction.innerStride(0);
    int64_t grain =
        std::max<int64_t>(1, 4096 / std::max<int64_t>(reducedCount, 1));
    pool.parallelFor(outputs, grain, [&](int64_t begin, int64_t end, unsigned) {
      for (int64_t o = begin; o < end; ++o) {
        int64_t base = 0, rest = o;
        for (int d = static_cast<int>(keptShape.size()) - 1; d >= 0; --d) {
          base += (rest % keptShape[d]) * keptStrides[d];
          rest /= keptShape[d];
        }
        Sum sum = 0;
        T maximum = std::numeric_limits<T>::has_infinity
                        ? -std::numeric_limits<T>::infinity()
                        : std::numeric_limits<T>::lowest();
        for (int64_t r = 0; r < reducedCount; r += inner) {
          int64_t offset = base, coordinates = r;
          for (int d = rank - 1; d >= 0; --d) {
            offset +=
                (coordinates % reduction.shape[d]) * reduction.strides[0][d];
            coordinates /= reduction.shape[d];
          }
          const T *x = input + offset;
          if (kind == Reduction::Max)
            for (int64_t i = 0; i < inner; ++i)
              maximum = std::max(maximum, x[i * innerStride]);
          else
            for (int64_t i = 0; i < inner; ++i)
              sum = wrapping<Sum>(sum, x[i * innerStride], std::plus<>());
        }
        out[o] = kind == Reduction::Max    ? maximum
                 : kind == Reduction::Mean ? static_cast<T>(sum / divisor)
                                           : static_cast<T>(sum);
      }
    });
    return Status::success();
  });
}

} // namespace

std::unique_ptr<Kernel> createReduceKernel(const KernelContext &context) {
  Reduction kind = context.op == Op::ReduceSum    ? Reduction::Sum
                   : context.op == Op::ReduceMean ? Reduction::Mean
                                                  : Reduction::Max;
  switch (context.input(0).dtype()) {
  case dsp::program::F32:
    return makeReduce<float>(context, kind);
  case dsp::program::I64:
    return makeReduce<int64_t>(context, kind);
  case dsp::program::I32:
    return makeReduce<int32_t>(context, kind);
  default:
    return nullptr;
  }
}

} // namespace cpu
} // namespace runtime
} // namespace dsp
