//===- Elementwise.cu - Element-wise, copy and gather kernels -------------===//
//
// One strided kernel family: the op is a kernel argument (a warp-uniform
// switch), the template parameters are only the storage types, so every op
// shares a handful of instantiations. Integers wrap around in two's
// complement and integer division by zero gives 0, as on the CPU.
//
//===----------------------------------------------------------------------===//

#include "DeviceCommon.cuh"
#include "dsp/Format/Padding.h"

#include <type_traits>

namespace dsp {
namespace runtime {
namespace cuda {

namespace {

template <typename Element>
__global__ void stridedCopyKernel(CopyGeometry geometry, const Element *source,
                                  Element *target) {
  for (int64_t i = globalThread(); i < geometry.count; i += gridThreads()) {
    int64_t offsets[2];
    stridedOffsets(geometry, i, offsets);
    target[offsets[0]] = source[offsets[1]];
  }
}

/// Side of the square tiles that a transposing copy moves through shared
/// memory, and the rows of threads that move one.
constexpr int kTile = 32;
constexpr int kTileRows = 8;

/// A copy whose source and target are contiguous along different dims:
/// `rest` walks the other dims; each block moves 32 x 32 tiles of (dim T,
/// contiguous in the target) x (dim S, contiguous in the source), reading
/// along S and writing along T, so that both sides are coalesced.
struct TransposeGeometry {
  CopyGeometry rest;
  int64_t extentT, extentS;
  /// The source's stride along T and the target's along S.
  int64_t sourceStrideT, targetStrideS;
  int64_t tilesT, tilesS;
};

template <typename Element>
__global__ void transposeCopyKernel(TransposeGeometry geometry,
                                    const Element *source, Element *target) {
  __shared__ Element tile[kTile][kTile + 1];
  int64_t tiles = geometry.tilesT * geometry.tilesS * geometry.rest.count;
  for (int64_t block = blockIdx.x; block < tiles; block += gridDim.x) {
    int64_t tileT = block % geometry.tilesT;
    int64_t tileS = block / geometry.tilesT % geometry.tilesS;
    int64_t offsets[2];
    stridedOffsets(geometry.rest, block / geometry.tilesT / geometry.tilesS,
                   offsets);
    int64_t firstT = tileT * kTile, firstS = tileS * kTile;
    for (int row = threadIdx.y; row < kTile; row += kTileRows) {
      int64_t t = firstT + row, s = firstS + threadIdx.x;
      if (t < geometry.extentT && s < geometry.extentS)
        tile[row][threadIdx.x] =
            source[offsets[1] + t * geometry.sourceStrideT + s];
    }
    __syncthreads();
    for (int row = threadIdx.y; row < kTile; row += kTileRows) {
      int64_t s = firstS + row, t = firstT + threadIdx.x;
      if (t < geometry.extentT && s < geometry.extentS)
        target[offsets[0] + s * geometry.targetStrideS + t] =
            tile[threadIdx.x][row];
    }
    __syncthreads();
  }
}

/// `geometry` as a tiled transpose, if its source and target are
/// contiguous along different dims of at least a tile's width each.
bool asTranspose(const CopyGeometry &geometry, TransposeGeometry &transpose) {
  int dimT = -1, dimS = -1;
  for (int d = 0; d < geometry.rank; ++d) {
    if (geometry.strides[0][d] == 1)
      dimT = d;
    if (geometry.strides[1][d] == 1)
      dimS = d;
  }
  if (dimT < 0 || dimS < 0 || dimT == dimS || geometry.shape[dimT] < kTile ||
      geometry.shape[dimS] < kTile)
    return false;
  transpose.extentT = geometry.shape[dimT];
  transpose.extentS = geometry.shape[dimS];
  transpose.sourceStrideT = geometry.strides[1][dimT];
  transpose.targetStrideS = geometry.strides[0][dimS];
  transpose.tilesT = (transpose.extentT + kTile - 1) / kTile;
  transpose.tilesS = (transpose.extentS + kTile - 1) / kTile;
  CopyGeometry &rest = transpose.rest;
  rest.count = 1;
  for (int d = 0; d < geometry.rank; ++d) {
    if (d == dimT || d == dimS)
      continue;
    rest.shape[rest.rank] = geometry.shape[d];
    for (int o = 0; o < 2; ++o)
      rest.strides[o][rest.rank] = geometry.strides[o][d];
    rest.count *= geometry.shape[d];
    ++rest.rank;
  }
  return true;
}

// Values as computed: f32 for every float storage, int64 and bool as is.
template <typename T> struct Compute { using Type = float; };
template <> struct Compute<int64_t> { using Type = int64_t; };
template <> struct Compute<bool> { using Type = bool; };

template <typename T>
__device__ __forceinline__ typename Compute<T>::Type load(const T *p) {
  if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, bool>)
    return *p;
  else
    return toFloat(*p);
}

/// Converts a computed value to storage `T`: to bool as != 0, float to
/// int64 saturating with NaN as 0 (as on the CPU).
template <typename T, typename V> __device__ __forceinline__ T store(V value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value != V(0);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    if constexpr (std::is_same_v<V, float>) {
      if (value != value)
        return 0;
      if (value >= 9223372036854775808.0f)
        return INT64_MAX;
      if (value < -9223372036854775808.0f)
        return INT64_MIN;
      return static_cast<int64_t>(value);
    } else {
      return static_cast<int64_t>(value);
    }
  } else {
    return fromFloat<T>(static_cast<float>(value));
  }
}

__device__ __forceinline__ float sigmoid(float x) {
  return 1.0f / (1.0f + expf(-x));
}

__device__ float unaryFloat(UnaryOp op, float x) {
  switch (op) {
  case UnaryOp::Neg:
    return -x;
  case UnaryOp::Exp:
    return expf(x);
  case UnaryOp::Log:
    return logf(x);
  case UnaryOp::Sqrt:
    return sqrtf(x);
  case UnaryOp::Reciprocal:
    return 1.0f / x;
  case UnaryOp::Abs:
    return fabsf(x);
  case UnaryOp::Erf:
    return erff(x);
  case UnaryOp::Tanh:
    return tanhf(x);
  case UnaryOp::Sigmoid:
    return sigmoid(x);
  case UnaryOp::Relu:
    return x > 0.0f ? x : 0.0f;
  case UnaryOp::Sin:
    return sinf(x);
  case UnaryOp::Cos:
    return cosf(x);
  case UnaryOp::Silu:
    return x * sigmoid(x);
  case UnaryOp::GeluErf:
    return 0.5f * x * (1.0f + erff(x * 0.7071067811865476f));
  case UnaryOp::GeluTanh: {
    // x / (1 + e^(-2u)) = 0.5 x (1 + tanh(u)), without cancellation.
    float u2 = 1.5957691216057308f * (x + 0.044715f * x * x * x);
    return x / (1.0f + expf(-u2));
  }
  default:
    return x;
  }
}

template <typename In, typename Out>
__global__ void unaryKernel(UnaryOp op, const In *x, Out *y, int64_t count) {
  for (int64_t i = globalThread(); i < count; i += gridThreads()) {
    auto value = load(x + i);
    if constexpr (std::is_same_v<decltype(value), float>) {
      if (op == UnaryOp::IsNan)
        y[i] = store<Out>(value != value);
      else if (op == UnaryOp::Cast)
        y[i] = store<Out>(value);
      else
        y[i] = store<Out>(unaryFloat(op, value));
    } else if constexpr (std::is_same_v<decltype(value), bool>) {
      y[i] = store<Out>(op == UnaryOp::Not ? !value : value);
    } else {
      y[i] = store<Out>(value);
    }
  }
}

template <typename T>
__global__ void matmulEpilogueKernel(MatmulEpilogue epilogue, T *y,
                                     int64_t count) {
  const T *bias = static_cast<const T *>(epilogue.bias);
  const T *residual = static_cast<const T *>(epilogue.residual);
  for (int64_t i = globalThread(); i < count; i += gridThreads()) {
    float value = toFloat(y[i]);
    if (bias)
      value += toFloat(bias[i % epilogue.columns]);
    if (epilogue.activate)
      value = unaryFloat(epilogue.activation, value);
    if (residual)
      value += toFloat(residual[i]);
    y[i] = fromFloat<T>(value);
  }
}

__device__ __forceinline__ int64_t wrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) +
                              static_cast<uint64_t>(b));
}
__device__ __forceinline__ int64_t wrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) -
                              static_cast<uint64_t>(b));
}
__device__ __forceinline__ int64_t wrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) *
                              static_cast<uint64_t>(b));
}

__device__ int64_t integerPower(int64_t base, int64_t exponent) {
  if (exponent < 0)
    return base == 1 ? 1 : base == -1 ? (exponent % 2 ? -1 : 1) : 0;
  int64_t result = 1;
  while (exponent > 0) {
    if (exponent & 1)
      result = wrapMul(result, base);
    base = wrapMul(base, base);
    exponent >>= 1;
  }
  return result;
}

/// As the cpu backend: a remainder by zero is 0, and by -1 too (where
/// min % -1 would trap); Mod moves a remainder to the divisor's sign.
template <typename V> __device__ V modulo(BinaryOp op, V a, V b) {
  V result;
  if constexpr (std::is_same_v<V, int64_t>)
    result = b == 0 || b == -1 ? 0 : a % b;
  else
    result = fmodf(a, b);
  return op == BinaryOp::Mod && result != 0 && (result < 0) != (b < 0)
             ? result + b
             : result;
}

template <typename V> __device__ V arithmetic(BinaryOp op, V a, V b) {
  if (op == BinaryOp::Mod || op == BinaryOp::FMod)
    return modulo(op, a, b);
  if constexpr (std::is_same_v<V, int64_t>) {
    switch (op) {
    case BinaryOp::Add:
      return wrapAdd(a, b);
    case BinaryOp::Sub:
      return wrapSub(a, b);
    case BinaryOp::Mul:
      return wrapMul(a, b);
    case BinaryOp::Div:
      return b == 0 ? 0 : b == -1 ? wrapSub(0, a) : a / b;
    case BinaryOp::Pow:
      return integerPower(a, b);
    case BinaryOp::Max:
      return a > b ? a : b;
    default:
      return a < b ? a : b;
    }
  } else {
    switch (op) {
    case BinaryOp::Add:
      return a + b;
    case BinaryOp::Sub:
      return a - b;
    case BinaryOp::Mul:
      return a * b;
    case BinaryOp::Div:
      return a / b;
    case BinaryOp::Pow:
      return powf(a, b);
    // NaN propagates as in the CPU's a > b ? a : b.
    case BinaryOp::Max:
      return a > b ? a : b;
    default:
      return a < b ? a : b;
    }
  }
}

template <typename V> __device__ bool compare(BinaryOp op, V a, V b) {
  switch (op) {
  case BinaryOp::Equal:
    return a == b;
  case BinaryOp::Less:
    return a < b;
  case BinaryOp::LessEqual:
    return a <= b;
  case BinaryOp::Greater:
    return a > b;
  case BinaryOp::GreaterEqual:
    return a >= b;
  case BinaryOp::And:
    return a && b;
  case BinaryOp::Or:
    return a || b;
  default:
    return (a != V(0)) != (b != V(0));
  }
}

template <typename In, typename Out>
__global__ void binaryKernel(BinaryOp op, StridedGeometry<3> geometry,
                             const In *a, const In *b, Out *y) {
  for (int64_t i = globalThread(); i < geometry.count; i += gridThreads()) {
    int64_t offsets[3];
    stridedOffsets(geometry, i, offsets);
    auto x0 = load(a + offsets[1]);
    auto x1 = load(b + offsets[2]);
    if constexpr (std::is_same_v<Out, bool>)
      y[offsets[0]] = compare(op, x0, x1);
    else
      y[offsets[0]] = store<Out>(arithmetic(op, x0, x1));
  }
}

template <typename Element>
__global__ void whereKernel(StridedGeometry<4> geometry, const bool *condition,
                            const Element *x, const Element *y, Element *out) {
  for (int64_t i = globalThread(); i < geometry.count; i += gridThreads()) {
    int64_t offsets[4];
    stridedOffsets(geometry, i, offsets);
    out[offsets[0]] = condition[offsets[1]] ? x[offsets[2]] : y[offsets[3]];
  }
}

__global__ void gatherKernel(const uint8_t *data, const int64_t *indices,
                             uint8_t *out, int64_t rows, int64_t axisSize,
                             int64_t numIndices, int64_t sliceBytes,
                             DeviceError *error, int32_t tag) {
  int64_t total = rows * numIndices * sliceBytes;
  for (int64_t i = globalThread(); i < total; i += gridThreads()) {
    int64_t byte = i % sliceBytes, task = i / sliceBytes;
    int64_t j = task % numIndices, row = task / numIndices;
    int64_t index = indices[j];
    if (index < -axisSize || index >= axisSize) {
      if (atomicCAS(&error->tag, 0, tag) == 0) {
        error->position = j;
        error->value = index;
      }
      continue;
    }
    if (index < 0)
      index += axisSize;
    out[i] = data[(row * axisSize + index) * sliceBytes + byte];
  }
}

template <typename Element>
__global__ void padKernel(PadGeometry geometry, const Element *x,
                          const Element *fill, Element *y) {
  Element value = fill ? *fill : Element{};
  auto mode = static_cast<format::PadMode>(geometry.mode);
  for (int64_t i = globalThread(); i < geometry.count; i += gridThreads()) {
    int64_t rest = i, source = 0, stride = 1;
    bool inside = true;
    for (int d = geometry.rank - 1; d >= 0; --d) {
      int64_t index = format::padSourceIndex(
          rest % geometry.out[d], geometry.before[d], geometry.in[d], mode);
      rest /= geometry.out[d];
      inside = inside && index >= 0;
      source += index * stride;
      stride *= geometry.in[d];
    }
    y[i] = inside ? x[source] : value;
  }
}

template <typename Element>
__global__ void
scatterElementsKernel(ScatterGeometry geometry, ScatterReduction reduction,
                      const int64_t *indices, const Element *updates,
                      Element *out, DeviceError *error, int32_t tag) {
  int64_t count = 1;
  for (int d = 0; d < geometry.rank; ++d)
    count *= geometry.indices[d];
  for (int64_t n = 0; n < count; ++n) {
    int64_t index = indices[n];
    if (index < -geometry.axisSize || index >= geometry.axisSize) {
      if (atomicCAS(&error->tag, 0, tag) == 0) {
        error->position = n;
        error->value = index;
      }
      return;
    }
    int64_t rest = n, target = 0;
    for (int d = geometry.rank - 1; d >= 0; --d) {
      int64_t position = rest % geometry.indices[d];
      rest /= geometry.indices[d];
      if (d == geometry.axis)
        position = index < 0 ? index + geometry.axisSize : index;
      target += position * geometry.dataStrides[d];
    }
    Element update = updates[n];
    if (reduction == ScatterReduction::AddF32) {
      float sum = __uint_as_float(static_cast<uint32_t>(out[target])) +
                  __uint_as_float(static_cast<uint32_t>(update));
      out[target] = static_cast<Element>(__float_as_uint(sum));
    } else if (reduction == ScatterReduction::AddI64) {
      out[target] = out[target] + update;
    } else {
      out[target] = update;
    }
  }
}

template <typename In>
cudaError_t unaryFrom(UnaryOp op, ElementType out, const void *x, void *y,
                      int64_t count, cudaStream_t stream) {
  unsigned grid = gridFor(count);
  const In *in = static_cast<const In *>(x);
  switch (out) {
  case ElementType::F32:
    unaryKernel<<<grid, kThreads, 0, stream>>>(op, in, static_cast<float *>(y),
                                               count);
    break;
  case ElementType::F16:
    unaryKernel<<<grid, kThreads, 0, stream>>>(op, in, static_cast<__half *>(y),
                                               count);
    break;
  case ElementType::BF16:
    unaryKernel<<<grid, kThreads, 0, stream>>>(
        op, in, static_cast<__nv_bfloat16 *>(y), count);
    break;
  case ElementType::I64:
    unaryKernel<<<grid, kThreads, 0, stream>>>(
        op, in, static_cast<int64_t *>(y), count);
    break;
  case ElementType::Bool:
    unaryKernel<<<grid, kThreads, 0, stream>>>(op, in, static_cast<bool *>(y),
                                               count);
    break;
  }
  return cudaGetLastError();
}

template <typename In>
cudaError_t binaryFrom(BinaryOp op, bool boolOut,
                       const StridedGeometry<3> &geometry, const void *a,
                       const void *b, void *y, cudaStream_t stream) {
  unsigned grid = gridFor(geometry.count);
  const In *x0 = static_cast<const In *>(a);
  const In *x1 = static_cast<const In *>(b);
  if (boolOut)
    binaryKernel<<<grid, kThreads, 0, stream>>>(op, geometry, x0, x1,
                                                static_cast<bool *>(y));
  else
    binaryKernel<<<grid, kThreads, 0, stream>>>(op, geometry, x0, x1,
                                                static_cast<In *>(y));
  return cudaGetLastError();
}

} // namespace

cudaError_t launchStridedCopy(const CopyGeometry &geometry, size_t elementSize,
                              const void *source, void *target,
                              cudaStream_t stream) {
  if (geometry.count == 0)
    return cudaSuccess;
  TransposeGeometry transpose;
  if (asTranspose(geometry, transpose)) {
    unsigned grid =
        gridFor(transpose.tilesT * transpose.tilesS * transpose.rest.count, 1);
    DSP_DISPATCH_SIZE(
        elementSize,
        transposeCopyKernel<<<grid, dim3(kTile, kTileRows), 0, stream>>>(
            transpose, static_cast<const T *>(source),
            static_cast<T *>(target)));
    return cudaGetLastError();
  }
  unsigned grid = gridFor(geometry.count);
  DSP_DISPATCH_SIZE(
      elementSize,
      stridedCopyKernel<<<grid, kThreads, 0, stream>>>(
          geometry, static_cast<const T *>(source), static_cast<T *>(target)));
  return cudaGetLastError();
}

cudaError_t launchUnary(UnaryOp op, ElementType in, ElementType out,
                        const void *x, void *y, int64_t count,
                        cudaStream_t stream) {
  if (count == 0)
    return cudaSuccess;
  switch (in) {
  case ElementType::I64:
    return unaryFrom<int64_t>(op, out, x, y, count, stream);
  case ElementType::Bool:
    return unaryFrom<bool>(op, out, x, y, count, stream);
  default:
    DSP_DISPATCH_FLOAT(in, return unaryFrom<T>(op, out, x, y, count, stream));
  }
  return cudaErrorInvalidValue;
}

cudaError_t launchMatmulEpilogue(ElementType type,
                                 const MatmulEpilogue &epilogue, void *y,
                                 int64_t count, cudaStream_t stream) {
  if (count == 0)
    return cudaSuccess;
  DSP_DISPATCH_FLOAT(
      type, matmulEpilogueKernel<<<gridFor(count), kThreads, 0, stream>>>(
                epilogue, static_cast<T *>(y), count));
  return cudaGetLastError();
}

cudaError_t launchBinary(BinaryOp op, ElementType in, ElementType out,
                         const StridedGeometry<3> &geometry, const void *a,
                         const void *b, void *y, cudaStream_t stream) {
  if (geometry.count == 0)
    return cudaSuccess;
  bool boolOut = out == ElementType::Bool;
  switch (in) {
  case ElementType::I64:
    return binaryFrom<int64_t>(op, boolOut, geometry, a, b, y, stream);
  case ElementType::Bool:
    return binaryFrom<bool>(op, true, geometry, a, b, y, stream);
  default:
    DSP_DISPATCH_FLOAT(
        in, return binaryFrom<T>(op, boolOut, geometry, a, b, y, stream));
  }
  return cudaErrorInvalidValue;
}

template <typename T>
__global__ void reduceBlocksKernel(const uint8_t *blocks, size_t stride, int n,
                                   int first, int64_t count, bool max, T *out) {
  for (int64_t i = globalThread(); i < count; i += gridThreads()) {
    auto element = [&](int k) {
      return toFloat(reinterpret_cast<const T *>(
          blocks + static_cast<size_t>((first + k) % n) * stride)[i]);
    };
    float accumulated = element(0);
    for (int k = 1; k < n; ++k) {
      float value = element(k);
      // As the max op: the first unless the second compares greater.
      accumulated = max ? (value > accumulated ? value : accumulated)
                        : accumulated + value;
    }
    out[i] = fromFloat<T>(accumulated);
  }
}

cudaError_t launchReduceBlocks(ElementType type, const void *blocks,
                               size_t stride, int n, int first, int64_t count,
                               bool max, void *out, cudaStream_t stream) {
  if (count == 0)
    return cudaSuccess;
  const uint8_t *bytes = static_cast<const uint8_t *>(blocks);
  DSP_DISPATCH_FLOAT(
      type, reduceBlocksKernel<<<gridFor(count), kThreads, 0, stream>>>(
                bytes, stride, n, first, count, max, static_cast<T *>(out)));
  return cudaGetLastError();
}

cudaError_t launchWhere(const StridedGeometry<4> &geometry, size_t elementSize,
                        const void *condition, const void *x, const void *y,
                        void *out, cudaStream_t stream) {
  if (geometry.count == 0)
    return cudaSuccess;
  unsigned grid = gridFor(geometry.count);
  const bool *c = static_cast<const bool *>(condition);
  DSP_DISPATCH_SIZE(elementSize,
                    whereKernel<<<grid, kThreads, 0, stream>>>(
                        geometry, c, static_cast<const T *>(x),
                        static_cast<const T *>(y), static_cast<T *>(out)));
  return cudaGetLastError();
}

cudaError_t launchGather(const void *data, const int64_t *indices, void *out,
                         int64_t rows, int64_t axisSize, int64_t numIndices,
                         int64_t sliceBytes, DeviceError *error, int32_t tag,
                         cudaStream_t stream) {
  int64_t total = rows * numIndices * sliceBytes;
  if (total == 0)
    return cudaSuccess;
  gatherKernel<<<gridFor(total), kThreads, 0, stream>>>(
      static_cast<const uint8_t *>(data), indices, static_cast<uint8_t *>(out),
      rows, axisSize, numIndices, sliceBytes, error, tag);
  return cudaGetLastError();
}

cudaError_t launchPad(const PadGeometry &geometry, size_t elementSize,
                      const void *x, const void *fill, void *y,
                      cudaStream_t stream) {
  if (geometry.count == 0)
    return cudaSuccess;
  unsigned grid = gridFor(geometry.count);
  DSP_DISPATCH_SIZE(elementSize,
                    padKernel<<<grid, kThreads, 0, stream>>>(
                        geometry, static_cast<const T *>(x),
                        static_cast<const T *>(fill), static_cast<T *>(y)));
  return cudaGetLastError();
}

cudaError_t launchScatterElements(const ScatterGeometry &geometry,
                                  size_t elementSize,
                                  ScatterReduction reduction,
                                  const int64_t *indices, const void *updates,
                                  void *out, DeviceError *error, int32_t tag,
                                  cudaStream_t stream) {
  DSP_DISPATCH_SIZE(elementSize, scatterElementsKernel<<<1, 1, 0, stream>>>(
                                     geometry, reduction, indices,
                                     static_cast<const T *>(updates),
                                     static_cast<T *>(out), error, tag));
  return cudaGetLastError();
}

} // namespace cuda
} // namespace runtime
} // namespace dsp
