//===- VectorVariant.h - Kernels compiled once per vector width -*- C++ -*-===//
//
// The project is compiled for baseline x86-64 (SSE2). A CPU kernel with
// vector loops, written in explicit vectors (FastMath.h's Floats8 and
// Floats16) or left to the vectorizer, is a struct with an always-inline
// `run<Vector>`; runWidest compiles it once per instruction set, each with
// the vector type that fills its registers, and runs the one the CPU has.
// (Target clones could not vary the vector type between variants.)
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_CPU_VECTORVARIANT_H
#define DSP_RUNTIME_CPU_VECTORVARIANT_H

#include "FastMath.h"
#include "dsp/Runtime/Status.h"

namespace dsp {
namespace runtime {
namespace cpu {

/// The instruction sets the kernels are compiled for, narrowest first.
enum class VectorVariant { Baseline, Avx2, Avx512 };

/// The variant runWidest runs: the widest the CPU has (AVX-512F, then
/// x86-64-v3, that is AVX2 with FMA), but at most the one the environment
/// variable DSP_CPU_VECTORS names (`avx512`, `avx2` or `baseline`; unset or
/// `auto`: no limit), so that a narrower variant can be checked or timed on
/// a wider CPU. Read once per process; a value checkVectorSetting rejects
/// counts as `auto`.
VectorVariant vectorVariant();

/// An error that names DSP_CPU_VECTORS and its value when the variable is
/// set to anything but the values vectorVariant takes.
Status checkVectorSetting();

#if defined(__x86_64__) && defined(__GNUC__)
template <typename Kernel, typename... Args>
__attribute__((target("avx512f"))) void runWithAvx512(Args... args) {
  Kernel::template run<Floats16>(args...);
}
template <typename Kernel, typename... Args>
__attribute__((target("arch=x86-64-v3"))) void runWithAvx2(Args... args) {
  Kernel::template run<Floats8>(args...);
}
#endif
template <typename Kernel, typename... Args>
void runWithBaseline(Args... args) {
  Kernel::template run<Floats8>(args...);
}

/// Runs `Kernel::run<Vector>(args...)`, an always-inline function template,
/// compiled for vectorVariant(): AVX-512 with Floats16, x86-64-v3 with
/// Floats8, or the baseline with Floats8 (a kernel left to the vectorizer
/// ignores `Vector`). The variant is looked up once per kernel.
template <typename Kernel, typename... Args> void runWidest(Args... args) {
#if defined(__x86_64__) && defined(__GNUC__)
  static void (*const variant)(Args...) = [] {
    switch (vectorVariant()) {
    case VectorVariant::Avx512:
      return runWithAvx512<Kernel, Args...>;
    case VectorVariant::Avx2:
      return runWithAvx2<Kernel, Args...>;
    case VectorVariant::Baseline:
      break;
    }
    return runWithBaseline<Kernel, Args...>;
  }();
  variant(args...);
#else
  runWithBaseline<Kernel>(args...);
#endif
}

} // namespace cpu
} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_CPU_VECTORVARIANT_H
