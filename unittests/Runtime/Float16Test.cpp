//===- Float16Test.cpp - f16 and bf16 conversions -------------------------===//

#include "dsp/Format/Float16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

using dsp::format::bfloat16ToFloat;
using dsp::format::bitsToFloat;
using dsp::format::floatBits;
using dsp::format::floatToBfloat16;
using dsp::format::floatToHalf;
using dsp::format::halfToFloat;

namespace {

const float kInf = std::numeric_limits<float>::infinity();

/// Both 16-bit formats, to run the same properties over each.
struct Format16 {
  const char *name;
  uint16_t (*narrow)(float);
  float (*widen)(uint16_t);
  uint16_t infinity;
};
const Format16 kFormats[] = {
    {"f16", floatToHalf, halfToFloat, 0x7c00},
    {"bf16", floatToBfloat16, bfloat16ToFloat, 0x7f80}};

bool isNan16(const Format16 &format, uint16_t bits) {
  return (bits & 0x7fff) > format.infinity;
}

TEST(Float16Test, KnownValues) {
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(floatToHalf(0.0f), 0x0000);
  EXPECT_EQ(floatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(halfToFloat(0x3555), 0.333251953125f);
  EXPECT_EQ(floatToBfloat16(1.0f), 0x3f80);
  EXPECT_EQ(floatToBfloat16(-0.0f), 0x8000);
  EXPECT_EQ(bfloat16ToFloat(0x4049), 3.140625f);
}

TEST(Float16Test, MaxFiniteAndOverflow) {
  // f16: 65504 is the largest finite value; from the midpoint to 2^16 on,
  // values round to infinity (the midpoint ties to the even infinity).
  EXPECT_EQ(halfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(std::nextafter(65520.0f, 0.0f)), 0x7bff);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00);
  EXPECT_EQ(floatToHalf(-1e10f), 0xfc00);
  EXPECT_EQ(floatToHalf(std::numeric_limits<float>::max()), 0x7c00);
  // bf16: 0x7f7f is the largest finite value, FLT_MAX is beyond its midpoint.
  EXPECT_EQ(bfloat16ToFloat(0x7f7f), bitsToFloat(0x7f7f0000));
  EXPECT_EQ(floatToBfloat16(bitsToFloat(0x7f7f7fff)), 0x7f7f);
  EXPECT_EQ(floatToBfloat16(bitsToFloat(0x7f7f8000)), 0x7f80);
  EXPECT_EQ(floatToBfloat16(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(floatToBfloat16(-std::numeric_limits<float>::max()), 0xff80);
}

TEST(Float16Test, InfinityAndNan) {
  for (const Format16 &format : kFormats) {
    SCOPED_TRACE(format.name);
    EXPECT_EQ(format.narrow(kInf), format.infinity);
    EXPECT_EQ(format.narrow(-kInf), format.infinity | 0x8000);
    EXPECT_EQ(format.widen(format.infinity), kInf);
    EXPECT_EQ(format.widen(format.infinity | 0x8000), -kInf);
    // Quiet and signaling NaNs, payload in the high or only in the low
    // bits, either sign: all stay NaN with their sign.
    for (uint32_t bits : {0x7fc00000u, 0x7f800001u, 0x7fa00000u, 0xffc00000u,
                          0xff800001u, 0x7fffffffu}) {
      uint16_t narrow = format.narrow(bitsToFloat(bits));
      EXPECT_TRUE(isNan16(format, narrow)) << std::hex << bits;
      EXPECT_EQ(narrow >> 15, bits >> 31) << std::hex << bits;
      EXPECT_TRUE(std::isnan(format.widen(narrow)));
    }
  }
}

TEST(Float16Test, Subnormals) {
  // f16 subnormals count units of 2^-24.
  const float unit = std::ldexp(1.0f, -24);
  EXPECT_EQ(halfToFloat(0x0001), unit);
  EXPECT_EQ(halfToFloat(0x8001), -unit);
  EXPECT_EQ(halfToFloat(0x03ff), 1023 * unit);
  EXPECT_EQ(halfToFloat(0x0400), std::ldexp(1.0f, -14));
  EXPECT_EQ(floatToHalf(unit), 0x0001);
  EXPECT_EQ(floatToHalf(1023 * unit), 0x03ff);
  // Ties go to even: half a unit to 0, 1.5 units to 2, 2.5 units to 2,
  // 1023.5 units to the smallest normal.
  EXPECT_EQ(floatToHalf(0.5f * unit), 0x0000);
  EXPECT_EQ(floatToHalf(-0.5f * unit), 0x8000);
  EXPECT_EQ(floatToHalf(std::nextafter(0.5f * unit, 1.0f)), 0x0001);
  EXPECT_EQ(floatToHalf(1.5f * unit), 0x0002);
  EXPECT_EQ(floatToHalf(2.5f * unit), 0x0002);
  EXPECT_EQ(floatToHalf(1023.5f * unit), 0x0400);
  EXPECT_EQ(floatToHalf(std::numeric_limits<float>::denorm_min()), 0x0000);
  // bf16 keeps f32's exponent range: f32 subnormals narrow and widen too.
  EXPECT_EQ(floatToBfloat16(bitsToFloat(0x00010000)), 0x0001);
  EXPECT_EQ(floatBits(bfloat16ToFloat(0x0001)), 0x00010000u);
  EXPECT_EQ(floatToBfloat16(bitsToFloat(0x00008000)), 0x0000);
  EXPECT_EQ(floatToBfloat16(bitsToFloat(0x00018000)), 0x0002);
}

TEST(Float16Test, EveryValueRoundTrips) {
  for (const Format16 &format : kFormats)
    for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
      uint16_t value = static_cast<uint16_t>(bits);
      if (isNan16(format, value))
        continue;
      ASSERT_EQ(format.narrow(format.widen(value)), value)
          << format.name << " " << std::hex << bits;
    }
}

TEST(Float16Test, MidpointsTieToEven) {
  // The midpoint of two adjacent finite values is exact in f32 (one more
  // significand bit); it must round to the one with an even last bit, and
  // anything just off it to the nearer one.
  for (const Format16 &format : kFormats)
    for (uint32_t bits = 0; bits < format.infinity - 1u; ++bits) {
      for (uint16_t sign : {0, 0x8000}) {
        uint16_t low = static_cast<uint16_t>(bits | sign);
        uint16_t high = static_cast<uint16_t>(low + 1);
        float a = format.widen(low), b = format.widen(high);
        float middle = a + (b - a) / 2;
        ASSERT_EQ(format.narrow(middle), (low & 1) ? high : low)
            << format.name << " " << std::hex << low;
        ASSERT_EQ(format.narrow(std::nextafter(middle, a)), low);
        ASSERT_EQ(format.narrow(std::nextafter(middle, b)), high);
      }
    }
}

TEST(Float16Test, RandomFloatsRoundToNearest) {
  std::mt19937 generator(7);
  for (const Format16 &format : kFormats)
    for (int i = 0; i < 200000; ++i) {
      // Any f32, or one around f16's range (subnormals to overflow).
      float value =
          i % 2
              ? bitsToFloat(generator())
              : std::ldexp(bitsToFloat((generator() & 0x807fffff) | 0x3f800000),
                           static_cast<int>(generator() % 44) - 27);
      uint16_t narrow = format.narrow(value);
      if (std::isnan(value)) {
        ASSERT_TRUE(isNan16(format, narrow));
        continue;
      }
      // Overflow is checked above.
      if ((narrow & 0x7fff) == format.infinity)
        continue;
      // No other value is nearer: neither neighbor (a NaN pattern past
      // either end is no neighbor).
      double error = std::fabs(double(format.widen(narrow)) - value);
      for (int step : {-1, 1}) {
        uint16_t neighbor = static_cast<uint16_t>(narrow + step);
        if (isNan16(format, neighbor))
          continue;
        ASSERT_LE(error, std::fabs(double(format.widen(neighbor)) - value))
            << format.name << " " << std::hex << floatBits(value);
      }
    }
}

TEST(Float16Test, BulkConversions) {
  std::vector<float> values = {1.0f, -0.5f, 65504.0f, kInf, 3.0e-8f};
  for (dsp::program::DType dtype : {dsp::program::F16, dsp::program::BF16}) {
    std::vector<uint16_t> narrow(values.size());
    dsp::format::narrowFromFloat(dtype, values.data(), narrow.data(),
                                 values.size());
    std::vector<float> wide(values.size());
    dsp::format::widenToFloat(dtype, narrow.data(), wide.data(), values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      uint16_t expected = dtype == dsp::program::F16
                              ? floatToHalf(values[i])
                              : floatToBfloat16(values[i]);
      EXPECT_EQ(narrow[i], expected);
      EXPECT_EQ(floatBits(wide[i]), floatBits(dtype == dsp::program::F16
                                                  ? halfToFloat(expected)
                                                  : bfloat16ToFloat(expected)));
    }
  }
}

} // namespace
