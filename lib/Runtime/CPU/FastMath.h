//===- FastMath.h - Branch-free float math that vectorizes ------*- C++ -*-===//
//
// Scalar functions without branches or library calls, so that GCC and Clang
// vectorize the loops that call them (libm's expf, tanhf and erff do not).
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_CPU_FASTMATH_H
#define DSP_RUNTIME_CPU_FASTMATH_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace dsp {
namespace runtime {
namespace cpu {

/// The sum over c in [0, n) of float term(c): 16 partial sums in float
/// (two vector registers of AVX2, so two dependency chains) over blocks of 1024
/// terms, the blocks' sums added in double, so that long rows keep their
/// precision while each block runs at float's vector width.
template <typename Term> inline double sumInBlocks(int64_t n, Term term) {
  constexpr int64_t kBlock = 1024;
  double sum = 0;
  for (int64_t first = 0; first < n; first += kBlock) {
    const int64_t count = n - first < kBlock ? n - first : kBlock;
    float partial[16] = {};
    int64_t c = 0;
    for (; c + 16 <= count; c += 16)
      for (int lane = 0; lane < 16; ++lane)
        partial[lane] += term(first + c + lane);
    float block = 0;
    for (; c < count; ++c)
      block += term(first + c);
    for (float p : partial)
      block += p;
    sum += block;
  }
  return sum;
}

/// `c ? a : b` as bit operations, so that loops using it stay branch-free
/// and vectorize.
inline float blend(bool c, float a, float b) {
  int32_t mask = -static_cast<int32_t>(c), ia, ib;
  std::memcpy(&ia, &a, sizeof(ia));
  std::memcpy(&ib, &b, sizeof(ib));
  int32_t bits = (ia & mask) | (ib & ~mask);
  float result;
  std::memcpy(&result, &bits, sizeof(result));
  return result;
}

/// Vectors of GCC's and Clang's vector extension: eight floats fill an AVX2
/// register, sixteen an AVX-512 one. Loops too short for the vectorizer (a
/// score row of 16 keys) are written in them, as templates over the vector
/// type that `runWidest` (VectorVariant.h) instantiates per instruction set.
/// Functions take them by reference and change them in place: passed by value,
/// they would cross calls in registers in one variant and in memory in another,
/// which Clang rejects between variants.
typedef float Floats8 __attribute__((vector_size(32)));
typedef float Floats16 __attribute__((vector_size(64)));

/// A float vector's lane count and its integer vectors of the same lanes:
/// `Bits` for bit tricks, `Mask` for comparison results.
template <typename Vector> struct VectorLanes;
template <> struct VectorLanes<Floats8> {
  typedef uint32_t Bits __attribute__((vector_size(32)));
  typedef int32_t Mask __attribute__((vector_size(32)));
  static constexpr int kCount = 8;
};
template <> struct VectorLanes<Floats16> {
  typedef uint32_t Bits __attribute__((vector_size(64)));
  typedef int32_t Mask __attribute__((vector_size(64)));
  static constexpr int kCount = 16;
};

/// The widest vector of any variant: rows padded to a multiple of this many
/// floats are whole vectors in every variant.
constexpr int kWidestLanes = VectorLanes<Floats16>::kCount;

/// x = c ? value : x, element-wise for vectors; branch-free for scalars.
inline void blendInto(float &x, bool c, float value) { x = blend(c, value, x); }
template <typename Vector>
inline void blendInto(Vector &x, const typename VectorLanes<Vector>::Mask &c,
                      const Vector &value) {
  x = c ? value : x;
}

/// The largest lane and the sum of the lanes of a vector, by halving it:
/// log2(lanes) dependent steps instead of one per lane, which short score
/// rows (16 keys, one vector) would wait on.
typedef float Floats4 __attribute__((vector_size(16)));
__attribute__((always_inline)) inline float largestLane(const Floats4 &v) {
  Floats4 swapped = __builtin_shufflevector(v, v, 2, 3, 0, 1);
  Floats4 pairs = v > swapped ? v : swapped;
  swapped = __builtin_shufflevector(pairs, pairs, 1, 0, 3, 2);
  return (pairs > swapped ? pairs : swapped)[0];
}
__attribute__((always_inline)) inline float largestLane(const Floats8 &v) {
  Floats4 low = __builtin_shufflevector(v, v, 0, 1, 2, 3);
  Floats4 high = __builtin_shufflevector(v, v, 4, 5, 6, 7);
  return largestLane(low > high ? low : high);
}
__attribute__((always_inline)) inline float largestLane(const Floats16 &v) {
  Floats8 low = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7);
  Floats8 high = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  return largestLane(low > high ? low : high);
}
__attribute__((always_inline)) inline float laneSum(const Floats4 &v) {
  Floats4 pairs = v + __builtin_shufflevector(v, v, 2, 3, 0, 1);
  return (pairs + __builtin_shufflevector(pairs, pairs, 1, 0, 3, 2))[0];
}
__attribute__((always_inline)) inline float laneSum(const Floats8 &v) {
  return laneSum(__builtin_shufflevector(v, v, 0, 1, 2, 3) +
                 __builtin_shufflevector(v, v, 4, 5, 6, 7));
}
__attribute__((always_inline)) inline float laneSum(const Floats16 &v) {
  return laneSum(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
                 __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15));
}

/// x = exp(x) for x clamped to [-87, 87] (larger |x|, infinities included,
/// saturates to e^+-87; NaN stays NaN): the classic range reduction
/// x = n ln2 + r, |r| <= ln2 / 2, and a degree-6 polynomial for e^r
/// (relative error below 1e-7). Branch-free and without library calls, so
/// loops over it vectorize; `Float` is a float or a float vector and `Bits`
/// the unsigned integers of the same size.
template <typename Float, typename Bits>
inline void expClampedInPlace(Float &x) {
  // Comparisons with NaN are false: a NaN passes the clamps unchanged.
  const Float low = Float{} - 87.0f, high = Float{} + 87.0f;
  blendInto(x, x < low, low);
  blendInto(x, x > high, high);
  // n = round(x / ln2): adding 1.5 * 2^23 leaves n in the low mantissa bits.
  const float kRound = 12582912.0f;
  const uint32_t kRoundBits = 0x4B400000;
  Float shifted = x * 1.44269504088896341f + kRound;
  Float fn = shifted - kRound;
  Bits shiftedBits;
  std::memcpy(&shiftedBits, &shifted, sizeof(shiftedBits));
  // Unsigned, so that a NaN (whose bits make no sensible n) wraps instead
  // of shifting a negative value; its r and the result are NaN anyway.
  Bits n = shiftedBits - kRoundBits;
  // r = x - n ln2, with ln2 split in two for precision.
  Float r = x - fn * 0.693359375f + fn * 2.12194440e-4f;
  Float p = Float{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  Float er = p * r * r + r + 1.0f;
  Bits bits = (n + 127) << 23; // 2^n, n in [-126, 126]
  Float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  x = er * scale;
}

inline float expClamped(float x) {
  expClampedInPlace<float, uint32_t>(x);
  return x;
}
template <typename Vector> inline void expClampedInPlace(Vector &x) {
  expClampedInPlace<Vector, typename VectorLanes<Vector>::Bits>(x);
}

/// e^x, and exactly 0 for x below -87 (and for -inf), as softmax needs.
inline float expOrZero(float x) {
  return blend(x < -87.0f, 0.0f, expClamped(x));
}
template <typename Vector> inline void expOrZeroInPlace(Vector &x) {
  const typename VectorLanes<Vector>::Mask underflows = x < -87.0f;
  expClampedInPlace(x);
  blendInto(x, underflows, Vector{});
}

/// 1 / (1 + e^-x) with the branch-free exp, so sigmoid and SiLU loops
/// vectorize; e^-x saturating at e^87 changes the result by under 1e-37.
inline float sigmoid(float x) { return 1.0f / (1.0f + expClamped(-x)); }

inline float silu(float x) { return x * sigmoid(x); }

/// GELU, tanh form: 0.5 x (1 + tanh(u)) = x / (1 + e^(-2u)) with
/// u = sqrt(2/pi) (x + 0.044715 x^3); an exact identity, no cancellation.
inline float geluTanh(float x) {
  const float k2Sqrt2OverPi = 1.5957691216057308f;
  float u2 = k2Sqrt2OverPi * (x + 0.044715f * x * x * x);
  return x / (1.0f + expClamped(-u2));
}

/// GELU, erf form: 0.5 x (1 + erf(x / sqrt 2)), with erf from Abramowitz
/// and Stegun 7.1.26 (absolute error <= 1.5e-7): for z = |x| / sqrt 2,
/// 1 - erf(z) = q = t (a1 + t (a2 + ... + t a5)) e^(-z^2), t = 1 / (1 + p z).
/// 1 + erf(x / sqrt 2) is q for x < 0 (no cancellation) and 2 - q else.
inline float geluErf(float x) {
  float z = std::fabs(x) * 0.7071067811865476f;
  float t = 1.0f / (1.0f + 0.3275911f * z);
  float poly = 1.061405429f;
  poly = poly * t - 1.453152027f;
  poly = poly * t + 1.421413741f;
  poly = poly * t - 0.284496736f;
  poly = poly * t + 0.254829592f;
  float q = poly * t * expClamped(-z * z);
  return 0.5f * x * blend(x < 0.0f, q, 2.0f - q);
}

} // namespace cpu
} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_CPU_FASTMATH_H
