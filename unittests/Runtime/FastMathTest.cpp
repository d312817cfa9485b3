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
#include <vector>

using dsp::runtime::cpu::expClamped;
using dsp::runtime::cpu::expClampedInPlace;
using dsp::runtime::cpu::expOrZero;
using dsp::runtime::cpu::expOrZeroInPlace;
using dsp::runtime::cpu::Floats16;
using dsp::runtime::cpu::Floats4;
using dsp::runtime::cpu::Floats8;
using dsp::runtime::cpu::laneSum;
using dsp::runtime::cpu::largestLane;
using dsp::runtime::cpu::VectorLanes;

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

/// Whether a and b are the same float, or both NaN.
bool sameFloat(float a, float b) {
  return a == b || (std::isnan(a) && std::isnan(b));
}

template <typename Vector> void expectVectorExpMatchesScalar() {
  constexpr int kLanes = VectorLanes<Vector>::kCount;
  std::vector<float> inputs = {kInf,   -kInf, kNan, -kNan, 87.0f, -87.0f,
                               -88.0f, 88.0f, 0.0f, -0.0f, 1e30f, -1e30f};
  for (float x = -90.0f; x <= 90.0f; x += 0.37f)
    inputs.push_back(x);
  while (inputs.size() % kLanes != 0)
    inputs.push_back(1.0f);
  for (size_t first = 0; first < inputs.size(); first += kLanes) {
    Vector x;
    for (int lane = 0; lane < kLanes; ++lane)
      x[lane] = inputs[first + lane];
    Vector clamped = x, orZero = x;
    expClampedInPlace(clamped);
    expOrZeroInPlace(orZero);
    for (int lane = 0; lane < kLanes; ++lane) {
      float input = inputs[first + lane];
      EXPECT_TRUE(sameFloat(clamped[lane], expClamped(input)))
          << kLanes << " lanes, x = " << input << ": " << clamped[lane];
      EXPECT_TRUE(sameFloat(orZero[lane], expOrZero(input)))
          << kLanes << " lanes, x = " << input << ": " << orZero[lane];
    }
  }
}

TEST(FastMathTest, VectorExpMatchesScalarInEveryLane) {
  expectVectorExpMatchesScalar<Floats8>();
  expectVectorExpMatchesScalar<Floats16>();
}

/// Every lane in turn holds the largest value, so that a reduction that
/// drops a lane or a half fails.
template <typename Vector> void expectLaneReductions() {
  constexpr int kLanes = sizeof(Vector) / sizeof(float);
  for (int peak = 0; peak < kLanes; ++peak) {
    Vector v;
    float sum = 0;
    for (int lane = 0; lane < kLanes; ++lane) {
      v[lane] = lane == peak ? 100.0f + lane : -static_cast<float>(lane);
      sum += v[lane];
    }
    EXPECT_EQ(largestLane(v), 100.0f + peak) << kLanes << " lanes";
    EXPECT_EQ(laneSum(v), sum) << kLanes << " lanes, peak " << peak;
  }
  Vector allNegativeInfinity = Vector{} - kInf;
  EXPECT_EQ(largestLane(allNegativeInfinity), -kInf) << kLanes << " lanes";
}

TEST(FastMathTest, LaneReductionsSeeEveryLane) {
  expectLaneReductions<Floats4>();
  expectLaneReductions<Floats8>();
  expectLaneReductions<Floats16>();
}

} // namespace
