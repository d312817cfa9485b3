//===- Float16.h - f16 and bf16 to and from f32 -----------------*- C++ -*-===//
//
// F16 (IEEE binary16) and BF16 (the upper half of an f32) tensors are stored
// in 16 bits and computed in f32. Every conversion between them and f32 goes
// through these functions: f32 to 16 bits rounds to nearest, ties to even;
// infinities stay infinities, a NaN stays a (quiet) NaN of the same sign,
// and f32 values beyond the largest finite 16-bit value round to infinity as
// IEEE 754 prescribes. Integer arithmetic only, so the results hold under
// any floating-point mode (flush-to-zero included).
//
//===----------------------------------------------------------------------===//

#ifndef DSP_FORMAT_FLOAT16_H
#define DSP_FORMAT_FLOAT16_H

#include "dsp/Format/Program.pb.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace dsp {
namespace format {

inline uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

inline float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

inline float bfloat16ToFloat(uint16_t bits) {
  return bitsToFloat(static_cast<uint32_t>(bits) << 16);
}

inline uint16_t floatToBfloat16(float value) {
  uint32_t bits = floatBits(value);
  if ((bits & 0x7fffffff) > 0x7f800000)
    return static_cast<uint16_t>(bits >> 16 | 0x0040);
  // Adding just under half an ulp, plus one if the kept part is odd, carries
  // into it exactly when the dropped half rounds up.
  return static_cast<uint16_t>((bits + 0x7fff + (bits >> 16 & 1)) >> 16);
}

inline float halfToFloat(uint16_t bits) {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  uint32_t exponent = bits >> 10 & 0x1f;
  uint32_t mantissa = bits & 0x3ff;
  if (exponent == 0x1f)
    return bitsToFloat(sign | 0x7f800000 | mantissa << 13);
  if (exponent != 0)
    return bitsToFloat(sign | (exponent + 127 - 15) << 23 | mantissa << 13);
  if (mantissa == 0)
    return bitsToFloat(sign);
  // A subnormal: normalize the mantissa into an f32 exponent.
  exponent = 127 - 14;
  while (!(mantissa & 0x400)) {
    mantissa <<= 1;
    --exponent;
  }
  return bitsToFloat(sign | exponent << 23 | (mantissa & 0x3ff) << 13);
}

inline uint16_t floatToHalf(float value) {
  uint32_t bits = floatBits(value);
  uint16_t sign = static_cast<uint16_t>(bits >> 16 & 0x8000);
  uint32_t magnitude = bits & 0x7fffffff;
  if (magnitude > 0x7f800000)
    return static_cast<uint16_t>(sign | 0x7e00 | (magnitude >> 13 & 0x3ff));
  // 65520, halfway between the largest half (65504) and 2^16, and up.
  if (magnitude >= 0x477ff000)
    return static_cast<uint16_t>(sign | 0x7c00);
  if (magnitude >= 0x38800000) {
    // A normal half: rebias the exponent and round the mantissa as for
    // bf16; a carry out of the mantissa correctly bumps the exponent.
    magnitude += 0xfff + (magnitude >> 13 & 1);
    return static_cast<uint16_t>(sign | (magnitude - ((127 - 15) << 23)) >> 13);
  }
  // Below 2^-25 (half of the smallest subnormal, 2^-24): zero.
  if (magnitude < 0x33000000)
    return sign;
  // A subnormal half counts units of 2^-24: the f32 significand shifted
  // right, rounded to nearest even. Reaching 0x400 gives the smallest normal.
  uint32_t significand = (magnitude & 0x7fffff) | 0x800000;
  uint32_t shift = 126 - (magnitude >> 23);
  uint32_t quotient = significand >> shift;
  uint32_t remainder = significand & ((1u << shift) - 1);
  uint32_t halfway = 1u << (shift - 1);
  if (remainder > halfway || (remainder == halfway && (quotient & 1)))
    ++quotient;
  return static_cast<uint16_t>(sign | quotient);
}

/// Whether `dtype` is F16 or BF16: stored in 16 bits, computed in f32.
inline bool isFloat16(dsp::program::DType dtype) {
  return dtype == dsp::program::F16 || dtype == dsp::program::BF16;
}

/// Converts `count` elements of `dtype` (F16 or BF16) at `in` to f32.
void widenToFloat(dsp::program::DType dtype, const void *in, float *out,
                  size_t count);
/// Rounds `count` f32 values to `dtype` (F16 or BF16) at `out`.
void narrowFromFloat(dsp::program::DType dtype, const float *in, void *out,
                     size_t count);

} // namespace format
} // namespace dsp

#endif // DSP_FORMAT_FLOAT16_H
