//===- FastMath.h - Branch-free float math that vectorizes ------*- C++ -*-===//
//
// Scalar functions without branches or library calls, so that GCC and Clang
// vectorize the loops that call them (libm's expf, tanhf and erff do not).
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_CPU_FASTMATH_H
#define DSP_RUNTIME_CPU_FASTMATH_H

#include <cstdint>
#include <cstring>

namespace dsp {
namespace runtime {
namespace cpu {

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

/// exp(x) for x clamped to [-87, 87] (larger |x|, infinities included,
/// saturates to e^+-87; NaN stays NaN): the classic range reduction
/// x = n ln2 + r, |r| <= ln2 / 2, and a degree-6 polynomial for e^r
/// (relative error below 1e-7). Branch-free and without library calls, so
/// loops over it vectorize.
inline float expClamped(float x) {
  // Comparisons with NaN are false: a NaN passes the clamps unchanged.
  x = blend(x < -87.0f, -87.0f, x);
  x = blend(x > 87.0f, 87.0f, x);
  // n = round(x / ln2): adding 1.5 * 2^23 leaves n in the low mantissa bits.
  const float kRound = 12582912.0f;
  const uint32_t kRoundBits = 0x4B400000;
  float shifted = x * 1.44269504088896341f + kRound;
  float fn = shifted - kRound;
  uint32_t shiftedBits;
  std::memcpy(&shiftedBits, &shifted, sizeof(shiftedBits));
  // Unsigned, so that a NaN (whose bits make no sensible n) wraps instead
  // of shifting a negative value; its r and the result are NaN anyway.
  uint32_t n = shiftedBits - kRoundBits;
  // r = x - n ln2, with ln2 split in two for precision.
  float r = x - fn * 0.693359375f + fn * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float er = p * r * r + r + 1.0f;
  uint32_t bits = (n + 127) << 23; // 2^n, n in [-126, 126]
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return er * scale;
}

/// e^x, and exactly 0 for x below -87 (and for -inf), as softmax needs.
inline float expOrZero(float x) {
  return blend(x < -87.0f, 0.0f, expClamped(x));
}

} // namespace cpu
} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_CPU_FASTMATH_H
