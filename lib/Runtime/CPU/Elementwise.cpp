//===- Elementwise.cpp - Unary, binary and select kernels -----------------===//
//
// Kernels are templates over the element types and the scalar function.
// Float math is f32 only: f16 and bf16 operands reach it widened (see
// Widened.cpp).
//
//===----------------------------------------------------------------------===//

#include "FastMath.h"
#include "StridedLoop.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <type_traits>

using dsp::program::DType;

namespace dsp {
namespace runtime {
namespace cpu {

namespace {

constexpr int64_t kElementwiseGrain = 1 << 14;

template <typename In, typename Out, typename Fn>
std::unique_ptr<Kernel> makeUnary(const KernelContext &context, Fn fn) {
  int64_t count = elementCount(context.outputShape());
  ThreadPool &pool = context.pool;
  return makeKernel([count, &pool, fn](const KernelArgs &args) {
    const In *in = static_cast<const In *>(args.inputs[0]);
    Out *out = static_cast<Out *>(args.output);
    pool.parallelFor(count, kElementwiseGrain,
                     [&](int64_t begin, int64_t end, unsigned) {
                       for (int64_t i = begin; i < end; ++i)
                         out[i] = fn(in[i]);
                     });
    return Status::success();
  });
}

template <typename Out>
std::unique_ptr<Kernel> makeCastTo(const KernelContext &context) {
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
  switch (context.input(0).dtype()) {
  case dsp::program::F32:
    return makeUnary<float, Out>(context, convert);
  case dsp::program::I64:
    return makeUnary<int64_t, Out>(context, convert);
  case dsp::program::I32:
    return makeUnary<int32_t, Out>(context, convert);
  case dsp::program::BOOL:
    return makeUnary<bool, Out>(context, convert);
  default:
    return nullptr;
  }
}

std::unique_ptr<Kernel> makeCast(const KernelContext &context) {
  switch (context.output().dtype()) {
  case dsp::program::F32:
    return makeCastTo<float>(context);
  case dsp::program::I64:
    return makeCastTo<int64_t>(context);
  case dsp::program::I32:
    return makeCastTo<int32_t>(context);
  case dsp::program::BOOL:
    return makeCastTo<bool>(context);
  default:
    return nullptr;
  }
}

} // namespace

std::unique_ptr<Kernel> createUnaryKernel(const KernelContext &context) {
  Op op = context.op;
  if (op == Op::Cast)
    return makeCast(context);
  if (op == Op::IsNan)
    return makeUnary<float, bool>(context,
                                  [](float x) { return std::isnan(x); });
  if (op == Op::Not)
    return makeUnary<bool, bool>(context, [](bool x) { return !x; });
  using F = float;
  if (op == Op::Neg)
    return makeUnary<F, F>(context, [](F x) { return -x; });
  if (op == Op::Exp)
    return makeUnary<F, F>(context, [](F x) { return std::exp(x); });
  if (op == Op::Log)
    return makeUnary<F, F>(context, [](F x) { return std::log(x); });
  if (op == Op::Sqrt)
    return makeUnary<F, F>(context, [](F x) { return std::sqrt(x); });
  if (op == Op::Reciprocal)
    return makeUnary<F, F>(context, [](F x) { return 1.0f / x; });
  if (op == Op::Abs)
    return makeUnary<F, F>(context, [](F x) { return std::fabs(x); });
  if (op == Op::Erf)
    return makeUnary<F, F>(context, [](F x) { return std::erf(x); });
  if (op == Op::Tanh)
    return makeUnary<F, F>(context, [](F x) { return std::tanh(x); });
  if (op == Op::Sigmoid)
    return makeUnary<F, F>(context, [](F x) { return sigmoid(x); });
  if (op == Op::Relu)
    return makeUnary<F, F>(context, [](F x) { return x > 0 ? x : 0.0f; });
  if (op == Op::Sin)
    return makeUnary<F, F>(context, [](F x) { return std::sin(x); });
  if (op == Op::Cos)
    return makeUnary<F, F>(context, [](F x) { return std::cos(x); });
  if (op == Op::Silu)
    return makeUnary<F, F>(context, [](F x) { return silu(x); });
  if (op == Op::Gelu) {
    if (format::stringAttribute(context.instruction, "approximate", "none") ==
        "tanh")
      return makeUnary<F, F>(context, [](F x) { return geluTanh(x); });
    return makeUnary<F, F>(context, [](F x) { return geluErf(x); });
  }
  return nullptr;
}

namespace {

template <typename In, typename Out, typename Fn>
std::unique_ptr<Kernel> makeBinary(const KernelContext &context, Fn fn) {
  StridedPlan plan = makeBroadcastPlan(
      context.outputShape(), {context.inputShape(0), context.inputShape(1)});
  ThreadPool &pool = context.pool;
  return makeKernel([plan, &pool, fn](const KernelArgs &args) {
    const In *a = static_cast<const In *>(args.inputs[0]);
    const In *b = static_cast<const In *>(args.inputs[1]);
    Out *out = static_cast<Out *>(args.output);
    const int64_t sa = plan.innerStride(0), sb = plan.innerStride(1);
    forEachRun(pool, plan, [&](int64_t o, const int64_t *in, int64_t length) {
      const In *pa = a + in[0];
      const In *pb = b + in[1];
      Out *po = out + o;
      // Separate loops for the common stride patterns let them vectorize.
      if (sa == 1 && sb == 1)
        for (int64_t i = 0; i < length; ++i)
          po[i] = fn(pa[i], pb[i]);
      else if (sa == 1 && sb == 0)
        for (int64_t i = 0; i < length; ++i)
          po[i] = fn(pa[i], *pb);
      else if (sa == 0 && sb == 1)
        for (int64_t i = 0; i < length; ++i)
          po[i] = fn(*pa, pb[i]);
      else
        for (int64_t i = 0; i < length; ++i)
          po[i] = fn(pa[i * sa], pb[i * sb]);
    });
    return Status::success();
  });
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
std::unique_ptr<Kernel> makeArithmetic(const KernelContext &context) {
  Op op = context.op;
  if (op == Op::Add)
    return makeBinary<T, T>(
        context, [](T a, T b) { return wrapping(a, b, std::plus<>()); });
  if (op == Op::Sub)
    return makeBinary<T, T>(
        context, [](T a, T b) { return wrapping(a, b, std::minus<>()); });
  if (op == Op::Mul)
    return makeBinary<T, T>(
        context, [](T a, T b) { return wrapping(a, b, std::multiplies<>()); });
  if (op == Op::Max)
    return makeBinary<T, T>(context, [](T a, T b) { return a > b ? a : b; });
  if (op == Op::Min)
    return makeBinary<T, T>(context, [](T a, T b) { return a < b ? a : b; });
  if (op == Op::Div) {
    if constexpr (std::is_integral_v<T>)
      // Integer division by zero has no value; define it as 0 rather than
      // trapping. The one overflowing quotient, min / -1, traps too: it
      // wraps around to min, as -min does.
      return makeBinary<T, T>(context, [](T a, T b) {
        return b == 0    ? T(0)
               : b == -1 ? wrapping(T(0), a, std::minus<>())
                         : a / b;
      });
    else
      return makeBinary<T, T>(context, [](T a, T b) { return a / b; });
  }
  if (op == Op::Mod) {
    bool fmod = format::intsAttribute(context.instruction, "fmod")[0] != 0;
    return makeBinary<T, T>(context, [fmod](T a, T b) {
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
  if (op == Op::Pow) {
    if constexpr (std::is_integral_v<T>)
      return makeBinary<T, T>(context, integerPower<T>);
    else
      return makeBinary<T, T>(context, [](T a, T b) { return std::pow(a, b); });
  }
  if (op == Op::Equal)
    return makeBinary<T, bool>(context, [](T a, T b) { return a == b; });
  if (op == Op::Less)
    return makeBinary<T, bool>(context, [](T a, T b) { return a < b; });
  if (op == Op::LessEqual)
    return makeBinary<T, bool>(context, [](T a, T b) { return a <= b; });
  if (op == Op::Greater)
    return makeBinary<T, bool>(context, [](T a, T b) { return a > b; });
  if (op == Op::GreaterEqual)
    return makeBinary<T, bool>(context, [](T a, T b) { return a >= b; });
  return nullptr;
}

} // namespace

std::unique_ptr<Kernel> createBinaryKernel(const KernelContext &context) {
  Op op = context.op;
  if (op == Op::And)
    return makeBinary<bool, bool>(context,
                                  [](bool a, bool b) { return a && b; });
  if (op == Op::Or)
    return makeBinary<bool, bool>(context,
                                  [](bool a, bool b) { return a || b; });
  if (op == Op::Xor)
    return makeBinary<bool, bool>(context,
                                  [](bool a, bool b) { return a != b; });
  switch (context.input(0).dtype()) {
  case dsp::program::F32:
    return makeArithmetic<float>(context);
  case dsp::program::I64:
    return makeArithmetic<int64_t>(context);
  case dsp::program::I32:
    return makeArithmetic<int32_t>(context);
  default:
    return nullptr;
  }
}

namespace {

template <typename T>
std::unique_ptr<Kernel> makeWhere(const KernelContext &context) {
  StridedPlan plan = makeBroadcastPlan(
      context.outputShape(),
      {context.inputShape(0), context.inputShape(1), context.inputShape(2)});
  ThreadPool &pool = context.pool;
  return makeKernel([plan, &pool](const KernelArgs &args) {
    const bool *condition = static_cast<const bool *>(args.inputs[0]);
    const T *x = static_cast<const T *>(args.inputs[1]);
    const T *y = static_cast<const T *>(args.inputs[2]);
    T *out = static_cast<T *>(args.output);
    const int64_t sc = plan.innerStride(0), sx = plan.innerStride(1),
                  sy = plan.innerStride(2);
    forEachRun(pool, plan, [&](int64_t o, const int64_t *in, int64_t length) {
      for (int64_t i = 0; i < length; ++i)
        out[o + i] =
            condition[in[0] + i * sc] ? x[in[1] + i * sx] : y[in[2] + i * sy];
    });
    return Status::success();
  });
}

} // namespace

std::unique_ptr<Kernel> createWhereKernel(const KernelContext &context) {
  // Selection only moves bytes, so dispatch on the element size.
  switch (format::elementSize(context.output().dtype())) {
  case 1:
    return makeWhere<uint8_t>(context);
  case 2:
    return makeWhere<uint16_t>(context);
  case 4:
    return makeWhere<uint32_t>(context);
  default:
    return makeWhere<uint64_t>(context);
  }
}

} // namespace cpu
} // namespace runtime
} // namespace dsp
