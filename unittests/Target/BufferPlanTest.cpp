//===- BufferPlanTest.cpp - Arena offsets for a program's tensors ---------===//

#include "dsp/Target/BufferPlan.h"

#include <gtest/gtest.h>

using mlir::dsp::BufferLifetime;
using mlir::dsp::BufferPlan;
using mlir::dsp::planBuffers;

namespace {

TEST(BufferPlanTest, DisjointLifetimesShareBytes) {
  // a is dead when c is defined: c takes a's bytes; b overlaps both.
  std::optional<BufferPlan> plan =
      planBuffers({{100, -1, 1}, {10, 0, 3}, {100, 2, 3}}, 64);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->offsets, (std::vector<uint64_t>{0, 128, 0}));
  EXPECT_EQ(plan->arenaBytes, 192u);
}

TEST(BufferPlanTest, FirstFitTakesTheLowestGap) {
  // a and c are live at once with b between them; d fits in the gap that
  // b leaves, since b is dead by then.
  std::optional<BufferPlan> plan =
      planBuffers({{64, 0, 5}, {64, 0, 1}, {64, 0, 5}, {64, 2, 5}}, 64);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->offsets, (std::vector<uint64_t>{0, 64, 128, 64}));
  EXPECT_EQ(plan->arenaBytes, 192u);
}

TEST(BufferPlanTest, TouchingLifetimesOverlap) {
  // b is defined by the instruction that last reads a: both are live there.
  std::optional<BufferPlan> plan = planBuffers({{8, 0, 1}, {8, 1, 2}}, 64);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->offsets, (std::vector<uint64_t>{0, 64}));
}

TEST(BufferPlanTest, EmptyTensorsTakeNoBytes) {
  std::optional<BufferPlan> plan = planBuffers({{0, 0, 1}, {0, 0, 1}}, 64);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->arenaBytes, 0u);
}

TEST(BufferPlanTest, RefusesAnArenaBeyondTheLimit) {
  uint64_t huge = uint64_t(1) << 55;
  EXPECT_FALSE(planBuffers({{huge, 0, 1}, {huge, 0, 1}, {huge, 0, 1}}, 64));
  EXPECT_FALSE(planBuffers({{~uint64_t(0), 0, 1}}, 64));
}

} // namespace
