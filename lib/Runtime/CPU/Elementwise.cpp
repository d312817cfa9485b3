//===- Elementwise.cpp - Element-wise ops, fused or alone -----------------===//
//
// Every element-wise instruction runs through one interpreter of a body of
// steps (dsp/Format/FusedBody.h): a `fused` instruction's own, or a body of
// one step for an element-wise instruction alone. The iteration space (the
// outputs' shape) is cut into chunks of at most kElementwiseChunk elements;
// a worker computes every step over a chunk into tiles of its workspace,
// reading each input through its broadcast strides, so the values between
// steps stay in cache and memory is read and written once. A body with a
// row op (layer_norm or softmax over the last dim) takes a row per chunk.
//
// Floats compute in f32: f16 and bf16 inputs are widened as they are read
// and results rounded once as they are written, as the generated GPU
// kernels do. This file is the one list of what each element-wise op
// computes on the CPU.
//
//===----------------------------------------------------------------------===//

#include "FastMath.h"
#include "Kernels.h"
#include "StridedLoop.h"
#include "VectorVariant.h"

#include "dsp/Format/Float16.h"
#include "dsp/Format/FusedBody.h"
#include "dsp/Format/HostWorkspace.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <type_traits>

using dsp::program::DType;

namespace dsp {
namespace runtime {
namespace cpu {

namespace {

/// The type a value is computed in.
enum class Compute { Float, I64, I32, Bool };

Compute computeOf(DType dtype) {
  switch (dtype) {
  case dsp::program::I64:
    return Compute::I64;
  case dsp::program::I32:
    return Compute::I32;
  case dsp::program::BOOL:
    return Compute::Bool;
  default:
    return Compute::Float;
  }
}

/// An operand of a step over a chunk of `runs` runs of `length` elements
/// each: element i of run r is at data + r * runBytes, then i * stride
/// elements on, with stride 0 (one value for the run) or 1.
struct Operand {
  const uint8_t *data;
  int64_t stride;
  int64_t runBytes;
  /// Whether the runs follow each other in it (runBytes is a run's bytes,
  /// or 0 with stride 0): the chunk is then one run of all its elements.
  bool flat;
};

constexpr int kMaxStepInputs = 3;

/// A step over a chunk: writes its runs one after the other to `out`, in
/// its compute type.
using StepFunction = std::function<void(const Operand *inputs, void *out,
                                        int64_t runs, int64_t length)>;

/// Calls body(inputs, run, n) on the whole chunk as one run of n elements
/// when every input walks it flat, else on each run; `run` counts the
/// runs done before, for the output's offset.
template <int N, typename Body>
void forEachRunOf(const Operand *in, int64_t runs, int64_t length, Body body) {
  if (runs == 1 ||
      std::all_of(in, in + N, [](const Operand &o) { return o.flat; })) {
    body(in, 0, runs * length);
    return;
  }
  Operand moved[N];
  for (int64_t r = 0; r < runs; ++r) {
    for (int k = 0; k < N; ++k)
      moved[k] = {in[k].data + r * in[k].runBytes, in[k].stride, 0, true};
    body(moved, r, length);
  }
}

/// out[i] = fn(x[i]) for n elements, x broadcast where its stride is 0.
template <typename In, typename Out> struct ApplyUnary {
  template <typename Vector, typename Fn>
  __attribute__((always_inline)) static inline void run(Fn fn, const Operand *x,
                                                        Out *out, int64_t n) {
    const In *a = reinterpret_cast<const In *>(x->data);
    if (x->stride == 0) {
      std::fill(out, out + n, static_cast<Out>(fn(*a)));
      return;
    }
    for (int64_t i = 0; i < n; ++i)
      out[i] = fn(a[i]);
  }
};

/// out[i] = fn(x[i], y[i]) for n elements, either broadcast where its
/// stride is 0.
template <typename In, typename Out> struct ApplyBinary {
  template <typename Vector, typename Fn>
  __attribute__((always_inline)) static inline void
  run(Fn fn, const Operand *x, const Operand *y, Out *out, int64_t n) {
    const In *a = reinterpret_cast<const In *>(x->data);
    const In *b = reinterpret_cast<const In *>(y->data);
    // A loop per stride pattern, so that each vectorizes.
    if (x->stride && y->stride) {
      for (int64_t i = 0; i < n; ++i)
        out[i] = fn(a[i], b[i]);
    } else if (x->stride) {
      const In bv = *b;
      for (int64_t i = 0; i < n; ++i)
        out[i] = fn(a[i], bv);
    } else if (y->stride) {
      const In av = *a;
      for (int64_t i = 0; i < n; ++i)
        out[i] = fn(av, b[i]);
    } else {
      std::fill(out, out + n, static_cast<Out>(fn(*a, *b)));
    }
  }
};

template <typename In, typename Out, typename Fn> StepFunction unary(Fn fn) {
  return [fn](const Operand *in, void *out, int64_t runs, int64_t length) {
    forEachRunOf<1>(in, runs, length,
                    [&](const Operand *x, int64_t run, int64_t n) {
                      runWidest<ApplyUnary<In, Out>>(
                          fn, x, static_cast<Out *>(out) + run * length, n);
                    });
  };
}

template <typename In, typename Out, typename Fn> StepFunction binary(Fn fn) {
  return [fn](const Operand *in, void *out, int64_t runs, int64_t length) {
    forEachRunOf<2>(
        in, runs, length, [&](const Operand *xy, int64_t run, int64_t n) {
          runWidest<ApplyBinary<In, Out>>(
              fn, xy, xy + 1, static_cast<Out *>(out) + run * length, n);
        });
  };
}

template <typename Out> StepFunction castTo(Compute from) {
  // The unsigned type of Out's width, through which a narrowing integer
  // cast wraps; any unsigned type for the outputs that never narrow that
  // way, since make_unsigned of a float or bool is ill-formed.
  using UnsignedOut = std::make_unsigned_t<std::conditional_t<
      std::is_integral_v<Out> && !std::is_same_v<Out, bool>, Out, unsigned>>;
  auto convert = [](auto value) {
    using In = decltype(value);
    if constexpr (std::is_same_v<Out, bool>)
      return static_cast<Out>(value != 0);
    else if constexpr (std::is_integral_v<Out> && std::is_floating_point_v<In>)
      return format::saturatingToInteger<Out>(value);
    else if constexpr (std::is_integral_v<Out> && sizeof(Out) < sizeof(In))
      // Narrowing integers keeps the low bits, as numpy does.
      return static_cast<Out>(static_cast<UnsignedOut>(value));
    else
      return static_cast<Out>(value);
  };
  switch (from) {
  case Compute::Float:
    return unary<float, Out>(convert);
  case Compute::I64:
    return unary<int64_t, Out>(convert);
  case Compute::I32:
    return unary<int32_t, Out>(convert);
  case Compute::Bool:
    return unary<bool, Out>(convert);
  }
  return nullptr;
}

/// A cast between compute types; between floats (f32, f16, bf16) it is
/// none: the one rounding is the store's.
StepFunction castStep(Compute from, Compute to) {
  switch (to) {
  case Compute::Float:
    return castTo<float>(from);
  case Compute::I64:
    return castTo<int64_t>(from);
  case Compute::I32:
    return castTo<int32_t>(from);
  case Compute::Bool:
    return castTo<bool>(from);
  }
  return nullptr;
}

StepFunction unaryStep(Op op, const dsp::program::Instruction &step,
                       Compute from, Compute to) {
  using F = float;
  switch (op) {
  case Op::Cast:
    return castStep(from, to);
  case Op::IsNan:
    return unary<F, bool>([](F x) { return std::isnan(x); });
  case Op::Not:
    return unary<bool, bool>([](bool x) { return !x; });
  case Op::Neg:
    return unary<F, F>([](F x) { return -x; });
  case Op::Exp:
    return unary<F, F>([](F x) { return std::exp(x); });
  case Op::Log:
    return unary<F, F>([](F x) { return std::log(x); });
  case Op::Sqrt:
    return unary<F, F>([](F x) { return std::sqrt(x); });
  case Op::Reciprocal:
    return unary<F, F>([](F x) { return 1.0f / x; });
  case Op::Abs:
    return unary<F, F>([](F x) { return std::fabs(x); });
  case Op::Erf:
    return unary<F, F>([](F x) { return std::erf(x); });
  case Op::Tanh:
    return unary<F, F>([](F x) { return std::tanh(x); });
  case Op::Sigmoid:
    return unary<F, F>([](F x) { return sigmoid(x); });
  case Op::Relu:
    return unary<F, F>([](F x) { return x > 0 ? x : 0.0f; });
  case Op::Sin:
    return unary<F, F>([](F x) { return std::sin(x); });
  case Op::Cos:
    return unary<F, F>([](F x) { return std::cos(x); });
  case Op::Silu:
    return unary<F, F>([](F x) { return silu(x); });
  case Op::Gelu:
    if (format::stringAttribute(step, "approximate", "none") == "tanh")
      return unary<F, F>([](F x) { return geluTanh(x); });
    return unary<F, F>([](F x) { return geluErf(x); });
  default:
    return nullptr;
  }
}

template <typename T> T integerPower(T base, T exponent) {
  if (exponent < 0)
    return base == 1 ? 1 : base == -1 ? (exponent % 2 ? -1 : 1) : 0;
  T result = 1;
  while (exponent > 0) {
    if (exponent & 1)
      result = wrapping(result, base, std::multiplies<>());
    base = wrapping(base, base, std::multiplies<>());
    exponent >>= 1;
  }
  return result;
}

template <typename T>
StepFunction arithmeticStep(Op op, const dsp::program::Instruction &step) {
  switch (op) {
  case Op::Add:
    return binary<T, T>([](T a, T b) { return wrapping(a, b, std::plus<>()); });
  case Op::Sub:
    return binary<T, T>(
        [](T a, T b) { return wrapping(a, b, std::minus<>()); });
  case Op::Mul:
    return binary<T, T>(
        [](T a, T b) { return wrapping(a, b, std::multiplies<>()); });
  case Op::Max:
    return binary<T, T>([](T a, T b) { return a > b ? a : b; });
  case Op::Min:
    return binary<T, T>([](T a, T b) { return a < b ? a : b; });
  case Op::Div:
    if constexpr (std::is_integral_v<T>)
      // Integer division by zero has no value; define it as 0 rather than
      // trapping. The one overflowing quotient, min / -1, traps too: it
      // wraps around to min, as -min does.
      return binary<T, T>([](T a, T b) {
        return b == 0    ? T(0)
               : b == -1 ? wrapping(T(0), a, std::minus<>())
                         : a / b;
      });
    else
      return binary<T, T>([](T a, T b) { return a / b; });
  case Op::Mod: {
    bool fmod = format::intsAttribute(step, "fmod")[0] != 0;
    return binary<T, T>([fmod](T a, T b) {
      T remainder;
      // As division: a remainder by zero is 0; by -1 it is 0 too, where
      // min % -1 would trap.
      if constexpr (std::is_integral_v<T>)
        remainder = b == 0 || b == -1 ? T(0) : a % b;
      else
        remainder = std::fmod(a, b);
      // The floored remainder takes the sign of the divisor.
      return !fmod && remainder != 0 && (remainder < 0) != (b < 0)
                 ? remainder + b
                 : remainder;
    });
  }
  case Op::Pow:
    if constexpr (std::is_integral_v<T>)
      return binary<T, T>(integerPower<T>);
    else
      return binary<T, T>([](T a, T b) { return std::pow(a, b); });
  case Op::Equal:
    return binary<T, bool>([](T a, T b) { return a == b; });
  case Op::Less:
    return binary<T, bool>([](T a, T b) { return a < b; });
  case Op::LessEqual:
    return binary<T, bool>([](T a, T b) { return a <= b; });
  case Op::Greater:
    return binary<T, bool>([](T a, T b) { return a > b; });
  case Op::GreaterEqual:
    return binary<T, bool>([](T a, T b) { return a >= b; });
  default:
    return nullptr;
  }
}

StepFunction binaryStep(Op op, const dsp::program::Instruction &step,
                        Compute operands) {
  switch (op) {
  case Op::And:
    return binary<bool, bool>([](bool a, bool b) { return a && b; });
  case Op::Or:
    return binary<bool, bool>([](bool a, bool b) { return a || b; });
  case Op::Xor:
    return binary<bool, bool>([](bool a, bool b) { return a != b; });
  default:
    break;
  }
  switch (operands) {
  case Compute::Float:
    return arithmeticStep<float>(op, step);
  case Compute::I64:
    return arithmeticStep<int64_t>(op, step);
  case Compute::I32:
    return arithmeticStep<int32_t>(op, step);
  case Compute::Bool:
    return nullptr;
  }
  return nullptr;
}

template <typename T> StepFunction where() {
  return [](const Operand *in, void *out, int64_t runs, int64_t length) {
    forEachRunOf<3>(
        in, runs, length, [&](const Operand *o, int64_t run, int64_t n) {
          const bool *condition = reinterpret_cast<const bool *>(o[0].data);
          const T *x = reinterpret_cast<const T *>(o[1].data);
          const T *y = reinterpret_cast<const T *>(o[2].data);
          T *result = static_cast<T *>(out) + run * length;
          const int64_t sc = o[0].stride, sx = o[1].stride, sy = o[2].stride;
          for (int64_t i = 0; i < n; ++i)
            result[i] = condition[i * sc] ? x[i * sx] : y[i * sy];
        });
  };
}

StepFunction whereStep(Compute values) {
  switch (values) {
  case Compute::Float:
    return where<float>();
  case Compute::I64:
    return where<int64_t>();
  case Compute::I32:
    return where<int32_t>();
  case Compute::Bool:
    return where<bool>();
  }
  return nullptr;
}

/// The row ops take a run per row, their operands' rows contiguous.
StepFunction rowStepFunction(Op op, const dsp::program::Instruction &step) {
  auto row = [](const Operand &operand, int64_t r) {
    return reinterpret_cast<const float *>(operand.data + r * operand.runBytes);
  };
  if (op == Op::Softmax)
    return [row](const Operand *in, void *out, int64_t runs, int64_t length) {
      for (int64_t r = 0; r < runs; ++r)
        softmaxRow(row(in[0], r), length, 1,
                   static_cast<float *>(out) + r * length);
    };
  float epsilon =
      static_cast<float>(format::floatAttribute(step, "epsilon", 0));
  bool hasBias = step.inputs_size() == 3;
  return [epsilon, hasBias](const Operand *in, void *out, int64_t runs,
                            int64_t length) {
    auto floats = [](const Operand &operand) {
      return reinterpret_cast<const float *>(operand.data);
    };
    auto rowStride = [](const Operand &operand) {
      return operand.runBytes / static_cast<int64_t>(sizeof(float));
    };
    normalizeRows(floats(in[0]), rowStride(in[0]), floats(in[1]),
                  rowStride(in[1]), hasBias ? floats(in[2]) : nullptr,
                  hasBias ? rowStride(in[2]) : 0, epsilon, runs, length,
                  static_cast<float *>(out));
  };
}

/// A body's values as one chunk sees them.
struct Value {
  enum Kind { Input, Constant, Step } kind;
  DType dtype;
  /// Stored as computed (not a 16-bit float): readable and writable in
  /// place.
  bool inPlace;
  /// Input: its index; its element strides over the dims that index the
  /// runs and along a run (0 or 1); whether it has every element of the
  /// space, in order.
  int input = -1;
  Shape runStrides;
  int64_t innerStride = 0;
  bool flat = false;
  /// Constant: the element in its compute type.
  alignas(8) uint8_t element[8] = {};
  /// Step output: the output it is (-1: none).
  int output = -1;
};

struct Step {
  StepFunction function;
  std::array<int, kMaxStepInputs> inputs;
  int numInputs;
  int output;
};

class ElementwiseKernel : public Kernel {
public:
  ElementwiseKernel(const dsp::program::FusedBody &body,
                    const std::vector<const dsp::program::Tensor *> &inputs,
                    const Shape &space, ThreadPool &pool)
      : tiling_(body, static_cast<int>(inputs.size()), elementCount(space),
                space.empty() ? 1 : space.back()),
        pool_(pool) {
    rowMode_ = format::rowStep(body) >= 0;
    const int numInputs = static_cast<int>(inputs.size());
    const int constants = body.values_size() - numInputs - body.steps_size();
    total_ = elementCount(space);

    // The runs: a row with a row op, else the innermost dim once the dims
    // are coalesced; the dims before them index the runs.
    std::vector<Shape> strides;
    for (int i = 0; i < numInputs; ++i)
      strides.push_back(
          broadcastStrides(format::tensorShape(*inputs[i]), space.size()));
    Shape runDims = space;
    std::vector<int64_t> inner(numInputs, 0);
    if (rowMode_ && !runDims.empty()) {
      runLength_ = runDims.back();
      runDims.pop_back();
      for (int i = 0; i < numInputs; ++i) {
        inner[i] = strides[i].back();
        strides[i].pop_back();
      }
    }
    coalesceDims(runDims, strides);
    if (!rowMode_) {
      runLength_ = runDims.back();
      runDims.back() = 1;
      for (int i = 0; i < numInputs; ++i) {
        inner[i] = strides[i].back();
        strides[i].back() = 0;
      }
      coalesceDims(runDims, strides);
    }
    runDims_ = runDims;

    for (int v = 0; v < body.values_size(); ++v) {
      const dsp::program::Tensor &tensor = body.values(v);
      Value value;
      value.dtype = tensor.dtype();
      value.inPlace = !format::isFloat16(value.dtype);
      if (v < numInputs) {
        value.kind = Value::Input;
        value.input = v;
        value.runStrides = strides[v];
        value.innerStride = inner[v];
        value.flat = elementCount(format::tensorShape(tensor)) == total_;
        inputValues_.push_back(v);
      } else if (v < numInputs + constants) {
        value.kind = Value::Constant;
        setConstant(value, tensor);
        constantValues_.push_back(v);
      } else {
        value.kind = Value::Step;
      }
      values_.push_back(value);
    }
    for (int r = 0; r < body.results_size(); ++r) {
      values_[body.results(r)].output = r;
      if (!values_[body.results(r)].inPlace)
        narrowedResults_.push_back(body.results(r));
    }

    for (int k = 0; k < body.steps_size(); ++k) {
      const dsp::program::Instruction &instruction = body.steps(k);
      Op op = *format::findOp(instruction.op());
      Step step;
      step.numInputs = instruction.inputs_size();
      for (int i = 0; i < step.numInputs; ++i)
        step.inputs[i] = static_cast<int>(instruction.inputs(i));
      step.output = static_cast<int>(instruction.outputs(0));
      Compute from = computeOf(values_[step.inputs[0]].dtype);
      Compute to = computeOf(values_[step.output].dtype);
      switch (kernelFamily(op)) {
      case KernelFamily::Unary:
        step.function = unaryStep(op, instruction, from, to);
        break;
      case KernelFamily::Binary:
        step.function = binaryStep(op, instruction, from);
        break;
      case KernelFamily::Where:
        step.function = whereStep(to);
        break;
      default:
        step.function = rowStepFunction(op, instruction);
        expandRowConstants(step);
        break;
      }
      steps_.push_back(std::move(step));
    }
  }

  /// Whether every step has a function (the validated dtypes always do).
  bool complete() const {
    return std::all_of(steps_.begin(), steps_.end(),
                       [](const Step &step) { return bool(step.function); });
  }

  size_t workspaceBytes() const override {
    return tiling_.workspaceBytes(pool_.size());
  }

  Status run(const KernelArgs &args) override {
    if (total_ == 0)
      return Status::success();
    // A chunk is consecutive runs along the last dim that indexes them, as
    // many as fit in a tile, so that every input steps through them by one
    // stride; a run longer than a tile (no row op) goes in pieces.
    const int64_t lastDim = runDims_.back();
    const int64_t outer = total_ / runLength_ / lastDim;
    const int64_t piecesPerRun =
        rowMode_ ? 1 : format::ceilDiv(runLength_, tiling_.chunk);
    const int64_t runsPerChunk = std::clamp<int64_t>(
        tiling_.chunk / std::max<int64_t>(runLength_, 1), 1, lastDim);
    const int64_t chunksPerRow = format::ceilDiv(lastDim, runsPerChunk);
    const int64_t chunks = outer * chunksPerRow * piecesPerRun;
    const int64_t chunkElements = runsPerChunk * runLength_ / piecesPerRun;
    const int64_t grain = std::max<int64_t>(
        1, (int64_t(1) << 14) / std::max<int64_t>(chunkElements, 1));
    pool_.parallelFor(
        chunks, grain, [&](int64_t begin, int64_t end, unsigned worker) {
          uint8_t *tiles = static_cast<uint8_t *>(args.workspace) +
                           static_cast<size_t>(worker) * tiling_.workerBytes;
          for (int64_t c = begin; c < end; ++c) {
            int64_t piece = c % piecesPerRun, rest = c / piecesPerRun;
            int64_t first = (rest % chunksPerRow) * runsPerChunk;
            Chunk chunk;
            chunk.firstRun = (rest / chunksPerRow) * lastDim + first;
            chunk.runs = std::min(runsPerChunk, lastDim - first);
            chunk.start = piece * runLength_ / piecesPerRun;
            chunk.length =
                (piece + 1) * runLength_ / piecesPerRun - chunk.start;
            runChunk(args, chunk, tiles);
          }
        });
    return Status::success();
  }

private:
  /// `runs` runs from `firstRun`, elements [start, start + length) of each.
  struct Chunk {
    int64_t firstRun, runs, start, length;
  };

  void setConstant(Value &value, const dsp::program::Tensor &tensor) {
    const std::string &bytes = tensor.splat().element();
    if (format::isFloat16(value.dtype)) {
      float wide = 0;
      format::widenToFloat(value.dtype, bytes.data(), &wide, 1);
      std::memcpy(value.element, &wide, sizeof(wide));
      value.inPlace = true;
    } else {
      std::memcpy(value.element, bytes.data(), bytes.size());
    }
  }

  /// A row op reads its operands' rows contiguous: the constants among
  /// them are expanded to a row once.
  void expandRowConstants(Step &step) {
    for (int i = 0; i < step.numInputs; ++i) {
      Value &value = values_[step.inputs[i]];
      if (value.kind != Value::Constant)
        continue;
      float element;
      std::memcpy(&element, value.element, sizeof(element));
      expandedRows_.emplace_back(static_cast<size_t>(runLength_), element);
      expanded_.emplace_back(step.inputs[i], expandedRows_.back().data());
    }
  }

  /// The offset of run `run`'s first element in input value `value`.
  int64_t runOffset(const Value &value, int64_t run) const {
    int64_t offset = 0;
    for (int d = static_cast<int>(runDims_.size()) - 1; d >= 0 && run; --d) {
      offset += (run % runDims_[d]) * value.runStrides[d];
      run /= runDims_[d];
    }
    return offset;
  }

  /// Copies `n` elements of an input, `stride` (0 or 1) apart, to `tile`
  /// in its compute type.
  static void load(const Value &value, const uint8_t *source, int64_t stride,
                   int64_t n, uint8_t *tile) {
    if (!value.inPlace) {
      float *wide = reinterpret_cast<float *>(tile);
      format::widenToFloat(value.dtype, source, wide, stride ? n : 1);
      if (!stride)
        std::fill(wide + 1, wide + n, wide[0]);
      return;
    }
    size_t bytes = format::elementSize(value.dtype);
    if (stride) {
      std::memcpy(tile, source, static_cast<size_t>(n) * bytes);
      return;
    }
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(tile + i * bytes, source, bytes);
  }

  Operand inputOperand(const KernelArgs &args, const Value &value,
                       const Chunk &chunk, int64_t base, uint8_t *tile) const {
    const uint8_t *data =
        static_cast<const uint8_t *>(args.inputs[value.input]);
    const int64_t bytes = format::elementSize(value.dtype);
    if (value.flat && value.inPlace)
      return {data + base * bytes, 1, runLength_ * bytes, true};
    const int64_t stride = value.flat ? 1 : value.innerStride;
    const int64_t runStride = value.flat ? runLength_ : value.runStrides.back();
    const uint8_t *source =
        data + (value.flat ? base
                           : runOffset(value, chunk.firstRun) +
                                 chunk.start * value.innerStride) *
                   bytes;
    if (value.inPlace)
      return {source, stride, runStride * bytes,
              runStride == stride * chunk.length};
    // A 16-bit input, widened into its tile: one run when every run reads
    // the same elements, else each run.
    const int64_t wideRun = chunk.length * sizeof(float);
    if (runStride == 0) {
      load(value, source, stride, stride ? chunk.length : 1, tile);
      return {tile, stride, 0, stride == 0};
    }
    for (int64_t r = 0; r < chunk.runs; ++r)
      load(value, source + r * runStride * bytes, stride, chunk.length,
           tile + r * wideRun);
    return {tile, 1, wideRun, true};
  }

  void runChunk(const KernelArgs &args, const Chunk &chunk,
                uint8_t *tiles) const {
    // Output element of the chunk's first: its runs follow each other.
    const int64_t base = chunk.firstRun * runLength_ + chunk.start;
    const int64_t n = chunk.runs * chunk.length;
    // The operand each value gives the steps; input and constant values
    // are set first, step outputs as the steps write them.
    Operand operands[format::kMaxFusedValues];
    for (int v : inputValues_)
      operands[v] = inputOperand(args, values_[v], chunk, base,
                                 tiles + tiling_.tileOffsets[v]);
    for (int v : constantValues_)
      operands[v] = {values_[v].element, 0, 0, true};
    for (auto [index, row] : expanded_)
      operands[index] = {reinterpret_cast<const uint8_t *>(row), 1, 0,
                         chunk.runs == 1};
    for (const Step &step : steps_) {
      Operand in[kMaxStepInputs];
      for (int i = 0; i < step.numInputs; ++i)
        in[i] = operands[step.inputs[i]];
      const Value &value = values_[step.output];
      uint8_t *out = tiles + tiling_.tileOffsets[step.output];
      if (value.output >= 0 && value.inPlace)
        out = static_cast<uint8_t *>(args.outputs[value.output]) +
              base * format::elementSize(value.dtype);
      step.function(in, out, chunk.runs, chunk.length);
      const int64_t bytes = format::computeElementBytes(value.dtype);
      operands[step.output] = {out, 1, chunk.length * bytes, true};
    }
    for (int v : narrowedResults_)
      format::narrowFromFloat(
          values_[v].dtype, reinterpret_cast<const float *>(operands[v].data),
          static_cast<uint8_t *>(args.outputs[values_[v].output]) +
              base * format::elementSize(values_[v].dtype),
          n);
  }

  format::ElementwiseTiling tiling_;
  ThreadPool &pool_;
  bool rowMode_ = false;
  int64_t total_ = 0;
  /// The elements of a run, and the dims that index the runs.
  int64_t runLength_ = 1;
  Shape runDims_;
  std::vector<Value> values_;
  std::vector<int> inputValues_, constantValues_, narrowedResults_;
  std::vector<Step> steps_;
  /// Constants a row op reads, a row each, by value index.
  std::vector<std::vector<float>> expandedRows_;
  std::vector<std::pair<int, const float *>> expanded_;
};

} // namespace

std::unique_ptr<Kernel> createElementwiseKernel(const KernelContext &context) {
  std::vector<const dsp::program::Tensor *> inputs;
  for (int i = 0; i < context.numInputs(); ++i)
    inputs.push_back(&context.input(i));
  auto kernel = std::make_unique<ElementwiseKernel>(
      format::elementwiseBody(context.program, context.instruction), inputs,
      context.outputShape(), context.pool);
  if (!kernel->complete())
    return nullptr;
  return kernel;
}

} // namespace cpu
} // namespace runtime
} // namespace dsp
