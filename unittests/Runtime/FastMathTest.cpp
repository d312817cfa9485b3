//===- FastMathTest.cpp - The branch-free exp on every kind of float ------===//
//
// Built with the undefined-behavior sanitizer where the compiler has it, so
// that integer tricks on a NaN's or an infinity's bits fail the test.
//
//===----------------------------------------------------------------------===//

#include "CPU/FastMath.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using dsp::runtime::cpu::expClamped;
using dsp::runtime::cpu::expOrZero;

namespace {

const float kInf = std::numeric_limits<float>::infinity();
const float kNan = std::numeric_limits<float>::quiet_NaN();

TEST(FastMathTest, ExpMatchesLibmOnTheClampedRange) {
  for (float x = -87.0f; x <= 87.0f; x += 0.01f) {
    double expected = std::exp(static_cast<double>(x));
    EXPECT_NEAR(expClamped(x), expected, 2e-7 * expected) << "x = " << x;
  }
}

TEST(FastMathTest, ExpSaturatesAndPropagatesNan) {
  EXPECT_EQ(expClamped(kInf), expClamped(87.0f));
  EXPECT_EQ(expClamped(1e30f), expClamped(87.0f));
  EXPECT_EQ(expClamped(-kInf), expClamped(-87.0f));
  EXPECT_EQ(expClamped(-1e30f), expClamped(-87.0f));
  EXPECT_TRUE(std::isfinite(expClamped(kInf)));
  for (float nan : {kNan, -kNan}) {
    EXPECT_TRUE(std::isnan(expClamped(nan)));
    EXPECT_TRUE(std::isnan(expOrZero(nan)));
  }
  EXPECT_EQ(expOrZero(-kInf), 0.0f);
  EXPECT_EQ(expOrZero(-88.0f), 0.0f);
  EXPECT_EQ(expOrZero(0.0f), 1.0f);
}

} // namespace
