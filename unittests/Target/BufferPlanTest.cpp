//===- BufferPlanTest.cpp - Arena offsets for a program's tensors ---------===//

#include "dsp/Target/BufferPlan.h"

#include <gtest/gtest.h>

using mlir::dsp::BufferLifetime;
using mlir::dsp::BufferPlan;
using mlir::dsp::planBuffers;
using mlir::dsp::planProgramBuffers;

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

TEST(BufferPlanTest, LargestFirst) {
  // In program order the small s would take offset 0 and push c above b;
  // placed after the large ones it fills the gap c leaves beside b.
  std::optional<BufferPlan> plan =
      planBuffers({{64, 0, 1}, {128, 0, 2}, {128, 2, 3}}, 64);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->offsets, (std::vector<uint64_t>{128, 0, 128}));
  EXPECT_EQ(plan->arenaBytes, 256u);
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

/// x and y in; an all_to_all of x, a relu of y while it may travel, then
/// their sum out. With `async`, a wait between the relu and the sum
/// completes the all_to_all.
dsp::program::Program switchBesideRelu(bool async) {
  dsp::program::Program program;
  for (const char *name : {"x", "y", "a", "c", "out"}) {
    dsp::program::Tensor *tensor = program.add_tensors();
    tensor->set_name(name);
    tensor->set_bytes(256);
    tensor->set_kind(name[0] == 'x' || name[0] == 'y' ? dsp::program::INPUT
                     : name[0] == 'o'                 ? dsp::program::OUTPUT
                                      : dsp::program::INTERMEDIATE);
  }
  program.add_inputs(0);
  program.add_inputs(1);
  program.add_outputs(4);
  auto add = [&](const char *op, std::vector<uint32_t> inputs,
                 std::vector<uint32_t> outputs) {
    dsp::program::Instruction *instruction = program.add_instructions();
    instruction->set_op(op);
    for (uint32_t input : inputs)
      instruction->add_inputs(input);
    for (uint32_t output : outputs)
      instruction->add_outputs(output);
    return instruction;
  };
  dsp::program::Instruction *allToAll = add("all_to_all", {0}, {2});
  if (async) {
    dsp::program::Attribute *attribute = allToAll->add_attributes();
    attribute->set_name("async");
    attribute->mutable_ints()->add_values(1);
  }
  add("relu", {1}, {3});
  if (async)
    add("wait", {2}, {});
  add("add", {2, 3}, {4});
  return program;
}

TEST(BufferPlanTest, AsyncCollectiveKeepsItsInputUntilItsWait) {
  // In order, the relu's result takes the bytes of x, dead after the
  // all_to_all; while the all_to_all is in flight it must not.
  dsp::program::Program inOrder = switchBesideRelu(false);
  ASSERT_TRUE(planProgramBuffers(inOrder, 64));
  EXPECT_EQ(inOrder.tensors(3).offset(), inOrder.tensors(0).offset());

  dsp::program::Program async = switchBesideRelu(true);
  ASSERT_TRUE(planProgramBuffers(async, 64));
  std::vector<uint64_t> offsets;
  for (const dsp::program::Tensor &tensor : async.tensors())
    offsets.push_back(tensor.offset());
  // x, y, a and c are all live at the relu; out may take x's bytes.
  EXPECT_EQ(offsets, (std::vector<uint64_t>{0, 256, 512, 768, 0}));
  EXPECT_EQ(async.arena_bytes(), 1024u);
}

} // namespace
