//===- CostModelTest.cpp - Tests of the collective and compute costs ------===//

#include "dsp/Transforms/CostModel.h"
#include "dsp/Dialect/DSP/IR/DSPDialect.h"
#include "dsp/Dialect/DSP/IR/DSPOps.h"
#include "dsp/Transforms/ShardingPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::dsp;

namespace {

constexpr CollectiveKind kKinds[] = {
    CollectiveKind::AllToAll, CollectiveKind::AllGather,
    CollectiveKind::AllReduce, CollectiveKind::ReduceScatter};

/// The nccl-tests bus-bandwidth bytes of one rank, as a real number.
double expectedBytes(CollectiveKind kind, double m, double n) {
  switch (kind) {
  case CollectiveKind::AllToAll:
    return m * (n - 1) / (n * n);
  case CollectiveKind::AllGather:
  case CollectiveKind::ReduceScatter:
    return m * (n - 1) / n;
  case CollectiveKind::AllReduce:
    return 2 * m * (n - 1) / n;
  }
  return -1;
}

TEST(CostModelTest, KindNames) {
  EXPECT_EQ(stringifyCollectiveKind(CollectiveKind::AllToAll), "all_to_all");
  EXPECT_EQ(stringifyCollectiveKind(CollectiveKind::AllGather), "all_gather");
  EXPECT_EQ(stringifyCollectiveKind(CollectiveKind::AllReduce), "all_reduce");
  EXPECT_EQ(stringifyCollectiveKind(CollectiveKind::ReduceScatter),
            "reduce_scatter");
}

TEST(CostModelTest, BytesPerRankFollowsBusBandwidthConvention) {
  // Divisible by N^2 for every N below, so the formulas are exact.
  constexpr uint64_t kBytes = 576 * 1000;
  CostModel model;
  for (int64_t n : {2, 3, 4, 8}) {
    model.ranks = n;
    SCOPED_TRACE("ranks " + std::to_string(n));
    for (CollectiveKind kind : kKinds) {
      SCOPED_TRACE(stringifyCollectiveKind(kind).str());
      EXPECT_EQ(static_cast<double>(model.bytesPerRank(kind, kBytes)),
                expectedBytes(kind, kBytes, n));
    }
  }
}

TEST(CostModelTest, BytesPerRankExamples) {
  CostModel model;
  model.ranks = 4;
  EXPECT_EQ(model.bytesPerRank(CollectiveKind::AllToAll, 1600), 300u);
  EXPECT_EQ(model.bytesPerRank(CollectiveKind::AllGather, 1600), 1200u);
  EXPECT_EQ(model.bytesPerRank(CollectiveKind::ReduceScatter, 1600), 1200u);
  EXPECT_EQ(model.bytesPerRank(CollectiveKind::AllReduce, 1600), 2400u);
  model.ranks = 8;
  // A 1 GiB all-reduce on 8 ranks moves 1.75 GiB per rank.
  EXPECT_EQ(model.bytesPerRank(CollectiveKind::AllReduce, 1ull << 30),
            7ull << 28);
}

TEST(CostModelTest, BytesPerRankRoundsToWholeBytes) {
  CostModel model;
  for (int64_t n : {2, 3, 4, 8}) {
    model.ranks = n;
    for (uint64_t bytes : {1ull, 7ull, 1000ull, 12345ull}) {
      for (CollectiveKind kind : kKinds) {
        SCOPED_TRACE("ranks " + std::to_string(n) + ", " +
                     std::to_string(bytes) + " bytes, " +
                     stringifyCollectiveKind(kind).str());
        double exact = expectedBytes(kind, bytes, n);
        double got = model.bytesPerRank(kind, bytes);
        EXPECT_LE(got, exact);
        EXPECT_GT(got + 1, exact);
      }
    }
  }
}

TEST(CostModelTest, OneRankMovesNothing) {
  CostModel model;
  ASSERT_EQ(model.ranks, 1);
  for (CollectiveKind kind : kKinds) {
    EXPECT_EQ(model.bytesPerRank(kind, 1 << 20), 0u);
    EXPECT_EQ(model.collectiveSeconds(kind, 1 << 20), 0.0);
  }
}

TEST(CostModelTest, CollectiveSecondsIsAlphaBeta) {
  CostModel model;
  model.latency = 7e-6;
  model.busBandwidth = 100e9;
  for (int64_t n : {2, 3, 4, 8}) {
    model.ranks = n;
    for (CollectiveKind kind : kKinds) {
      SCOPED_TRACE("ranks " + std::to_string(n) + ", " +
                   stringifyCollectiveKind(kind).str());
      uint64_t bytes = 576 * 1000;
      EXPECT_DOUBLE_EQ(model.collectiveSeconds(kind, bytes),
                       7e-6 + expectedBytes(kind, bytes, n) / 100e9);
      // An empty collective still pays its latency.
      EXPECT_DOUBLE_EQ(model.collectiveSeconds(kind, 0), 7e-6);
    }
  }
  model.ranks = 8;
  // 2 * 800 MB * 7/8 = 1.4 GB at 100 GB/s.
  EXPECT_DOUBLE_EQ(model.collectiveSeconds(CollectiveKind::AllReduce, 800e6),
                   7e-6 + 0.014);
}

TEST(CostModelTest, OpSecondsIsARooflinePlusTheKernelCost) {
  MLIRContext context;
  Builder builder(&context);
  CostModel model;
  model.device.f32FlopsPerSecond = 2e12;
  model.device.halfFlopsPerSecond = 8e12;
  model.device.memoryBandwidth = 1e9;
  model.device.kernelSeconds = 1e-6;
  // Compute-bound: 4 TFLOP over 1 MB.
  EXPECT_DOUBLE_EQ(model.opSeconds(4e12, 1e6, builder.getF32Type()),
                   2.0 + 1e-6);
  EXPECT_DOUBLE_EQ(model.opSeconds(4e12, 1e6, builder.getBF16Type()),
                   0.5 + 1e-6);
  EXPECT_DOUBLE_EQ(model.opSeconds(4e12, 1e6, builder.getF16Type()),
                   0.5 + 1e-6);
  // Memory-bound: 3 GB at 1 GB/s.
  EXPECT_DOUBLE_EQ(model.opSeconds(1e6, 3e9, builder.getF32Type()), 3.0 + 1e-6);
  EXPECT_DOUBLE_EQ(model.opSeconds(0, 0, builder.getI64Type()), 1e-6);
}

TEST(CostModelTest, BuiltinProfiles) {
  std::optional<DeviceProfile> h100 = DeviceProfile::builtin("h100");
  std::optional<DeviceProfile> h200 = DeviceProfile::builtin("h200");
  ASSERT_TRUE(h100 && h200);
  EXPECT_EQ(h100->name, "h100");
  EXPECT_EQ(h200->name, "h200");
  EXPECT_EQ(h100->halfFlopsPerSecond, 989e12);
  EXPECT_EQ(h100->f32FlopsPerSecond, 67e12);
  EXPECT_EQ(h100->memoryBandwidth, 3.35e12);
  // The same compute, more memory bandwidth.
  EXPECT_EQ(h200->halfFlopsPerSecond, h100->halfFlopsPerSecond);
  EXPECT_EQ(h200->memoryBandwidth, 4.8e12);
  EXPECT_EQ(h100->linkBusBandwidth, 0);
  EXPECT_FALSE(DeviceProfile::builtin("a100"));
  EXPECT_FALSE(DeviceProfile::builtin(""));
}

TEST(CostModelTest, ProfileFiles) {
  const char *measured = R"({"name": "cpu: test", "f32_flops_per_second": 5e10,
      "half_flops_per_second": 2.5e10, "memory_bytes_per_second": 1e10,
      "kernel_seconds": 2e-6,
      "link": {"latency_s": 3e-6, "bus_bandwidth_bytes_per_s": 4e9}})";
  DeviceProfile profile;
  ASSERT_EQ(DeviceProfile::parse(measured, profile), "");
  EXPECT_EQ(profile.name, "cpu: test");
  EXPECT_EQ(profile.f32FlopsPerSecond, 5e10);
  EXPECT_EQ(profile.halfFlopsPerSecond, 2.5e10);
  EXPECT_EQ(profile.memoryBandwidth, 1e10);
  EXPECT_EQ(profile.kernelSeconds, 2e-6);
  EXPECT_EQ(profile.linkLatency, 3e-6);
  EXPECT_EQ(profile.linkBusBandwidth, 4e9);

  // A refused file leaves the profile as it was.
  const std::pair<const char *, const char *> refused[] = {
      {"", "not JSON"},
      {"[1]", "not a JSON object"},
      {R"({"f32_flops_per_second": 1})", "'name' is missing or empty"},
      {R"({"name": "x", "f32_flops_per_second": 1,
           "half_flops_per_second": 1, "memory_bytes_per_second": 1})",
       "'kernel_seconds' is missing or not a number"},
      {R"({"name": "x", "f32_flops_per_second": -1,
           "half_flops_per_second": 1, "memory_bytes_per_second": 1,
           "kernel_seconds": 1})",
       "'f32_flops_per_second' must be positive and finite"},
      {R"({"name": "x", "f32_flops_per_second": 1,
           "half_flops_per_second": 1, "memory_bytes_per_second": 1,
           "kernel_seconds": 1, "link": 3})",
       "'link' is not a JSON object"},
      {R"({"name": "x", "f32_flops_per_second": 1,
           "half_flops_per_second": 1, "memory_bytes_per_second": 1,
           "kernel_seconds": 1, "link": {"latency_s": 0,
           "bus_bandwidth_bytes_per_s": 1}})",
       "link: 'latency_s' must be positive and finite"},
  };
  for (auto [text, problem] : refused) {
    DeviceProfile unchanged = profile;
    std::string got = DeviceProfile::parse(text, unchanged);
    EXPECT_NE(got.find(problem), std::string::npos) << got;
    EXPECT_EQ(unchanged.name, "cpu: test");
  }
}

TEST(CostModelTest, Presets) {
  CostModel model;
  EXPECT_EQ(model.latency, 5e-6);
  EXPECT_EQ(model.busBandwidth, 370e9);
  EXPECT_EQ(model.device.name, "h100");

  model.ranks = 8;
  model.device.f32FlopsPerSecond = 1e12;
  EXPECT_TRUE(model.applyPreset("infiniband"));
  EXPECT_EQ(model.latency, 10e-6);
  EXPECT_EQ(model.busBandwidth, 48e9);
  // Presets describe links only.
  EXPECT_EQ(model.device.f32FlopsPerSecond, 1e12);
  EXPECT_EQ(model.ranks, 8);

  EXPECT_TRUE(model.applyPreset("nvlink"));
  EXPECT_EQ(model.latency, 5e-6);
  EXPECT_EQ(model.busBandwidth, 370e9);

  model.latency = 1;
  model.busBandwidth = 2;
  EXPECT_FALSE(model.applyPreset("ethernet"));
  EXPECT_FALSE(model.applyPreset(""));
  EXPECT_EQ(model.latency, 1);
  EXPECT_EQ(model.busBandwidth, 2);
}

TEST(CostModelTest, NvlinkIsFasterThanInfiniband) {
  CostModel nvlink, infiniband;
  nvlink.ranks = infiniband.ranks = 8;
  ASSERT_TRUE(nvlink.applyPreset("nvlink"));
  ASSERT_TRUE(infiniband.applyPreset("infiniband"));
  for (CollectiveKind kind : kKinds)
    EXPECT_LT(nvlink.collectiveSeconds(kind, 1 << 24),
              infiniband.collectiveSeconds(kind, 1 << 24));
}

class ShardingTest : public testing::Test {
protected:
  ShardingTest() {
    context.loadDialect<DSPDialect, func::FuncDialect>();
    replicated = ShardingAttr::getReplicated(&context);
    partial = ShardingAttr::getPartial(&context);
  }

  RankedTensorType tensor(ArrayRef<int64_t> shape, Type element) {
    return RankedTensorType::get(shape, element);
  }
  ShardingAttr split(int64_t dim, int64_t pad = 0) {
    return ShardingAttr::get(&context, dim, pad);
  }

  MLIRContext context;
  ShardingAttr replicated, partial;
};

TEST_F(ShardingTest, CollectiveForEachPair) {
  ShardingAttr dim0 = split(0), dim1 = split(1), dim1Pad = split(1, 1);
  ShardingAttr factor = ShardingAttr::getSplit(&context, 1, 2, 4, 1, 0);
  ShardingAttr otherFactor = ShardingAttr::getSplit(&context, 1, 1, 2, 4, 0);
  std::optional<CollectiveKind> none;
  auto expect = [&](ShardingAttr from, ShardingAttr to,
                    std::optional<CollectiveKind> kind) {
    SCOPED_TRACE([&] {
      std::string text;
      llvm::raw_string_ostream os(text);
      os << from << " -> " << to;
      return text;
    }());
    EXPECT_EQ(collectiveFor(from, to), kind);
  };

  // Nothing moves into a partial value or out of a replicated one.
  expect(replicated, replicated, none);
  expect(replicated, partial, none);
  expect(replicated, dim0, none);
  expect(replicated, dim1Pad, none);
  expect(replicated, factor, none);
  expect(partial, partial, none);
  expect(dim0, partial, none);
  expect(dim1Pad, partial, none);

  expect(partial, replicated, CollectiveKind::AllReduce);
  expect(partial, dim0, CollectiveKind::ReduceScatter);
  expect(partial, dim1Pad, CollectiveKind::ReduceScatter);
  expect(partial, factor, CollectiveKind::ReduceScatter);

  expect(dim0, replicated, CollectiveKind::AllGather);
  expect(dim1Pad, replicated, CollectiveKind::AllGather);
  expect(factor, replicated, CollectiveKind::AllGather);

  expect(dim0, dim0, none);
  expect(dim1Pad, dim1Pad, none);
  expect(factor, factor, none);
  expect(dim0, dim1, CollectiveKind::AllToAll);
  expect(dim1, dim0, CollectiveKind::AllToAll);
  expect(dim0, dim1Pad, CollectiveKind::AllToAll);
  expect(dim1Pad, dim0, CollectiveKind::AllToAll);
  expect(dim1, factor, CollectiveKind::AllToAll);
  expect(factor, otherFactor, CollectiveKind::AllToAll);
}

TEST_F(ShardingTest, EvenSplitsNestAsTheOuterPart) {
  // [T x S] = [16 x 1024] merged in dim 1, on a 4 x 16 mesh: S's part on
  // axis 0, and on axis 1 the whole dim split 16 ways, which is T's part.
  std::vector<int64_t> shape = {1, 16384, 64};
  SmallVector<int64_t> mesh = {4, 16};
  ShardingAttr whole = split(1);
  ShardingAttr framePart = ShardingAttr::getSplit(&context, 1, 1, 16, 1024, 0);
  ShardingAttr patchPart = ShardingAttr::getSplit(&context, 1, 16, 1024, 1, 0);
  EXPECT_TRUE(whole.holdsSameBlocks(framePart));
  EXPECT_FALSE(whole.holdsSameBlocks(patchPart));
  EXPECT_FALSE(split(1, 16).holdsSameBlocks(framePart)) << "a padded split";
  EXPECT_FALSE(ShardingAttr::getCompound(&context, {patchPart, whole})
                   .getMeshLayout(shape, mesh)
                   .check(shape)
                   .empty());
  SmallVector<ShardingAttr> nested =
      nestEvenSplits({patchPart, whole}, shape, mesh);
  EXPECT_EQ(nested[0], patchPart);
  EXPECT_EQ(nested[1], framePart);
  EXPECT_TRUE(ShardingAttr::getCompound(&context, nested)
                  .getMeshLayout(shape, mesh)
                  .check(shape)
                  .empty());
  // The outer part of 16 cannot be split evenly over 32 ranks: unchanged.
  EXPECT_EQ(nestEvenSplits({patchPart, whole}, shape, {4, 32})[1], whole);

  // Adding S's part to a value split on T alone is one step on axis 0; the
  // renamed axis 1 moves nothing.
  RankedTensorType type = tensor(shape, Float32Type::get(&context));
  ShardingAttr framesOnly =
      ShardingAttr::getCompound(&context, {replicated, whole});
  FailureOr<SmallVector<MeshStep>> steps = meshReshardSteps(
      type, framesOnly, ShardingAttr::getCompound(&context, nested), mesh);
  ASSERT_TRUE(succeeded(steps));
  ASSERT_EQ(steps->size(), 1u);
  EXPECT_EQ((*steps)[0].axis, 0);
}

TEST_F(ShardingTest, ReshardBytesWithoutPads) {
  Builder b(&context);
  RankedTensorType f32 = tensor({8, 6, 16}, b.getF32Type());
  ShardingAttr dim0 = split(0), dim1 = split(1);
  const uint64_t kBytes = 8 * 6 * 16 * 4;
  for (ShardingAttr from : {replicated, partial, dim0, dim1})
    for (ShardingAttr to : {replicated, partial, dim0, dim1})
      EXPECT_EQ(reshardBytes(f32, from, to), kBytes);

  EXPECT_EQ(reshardBytes(tensor({8, 6}, b.getF16Type()), dim0, replicated),
            8u * 6 * 2);
  EXPECT_EQ(reshardBytes(tensor({8, 6}, b.getBF16Type()), partial, dim1),
            8u * 6 * 2);
  EXPECT_EQ(reshardBytes(tensor({8, 6}, b.getIntegerType(8)), dim0, dim1),
            8u * 6);
  EXPECT_EQ(reshardBytes(tensor({8, 6}, b.getI64Type()), dim0, dim1),
            8u * 6 * 8);
  // Booleans take a byte each.
  EXPECT_EQ(reshardBytes(tensor({3, 4}, b.getI1Type()), dim0, replicated), 12u);
}

TEST_F(ShardingTest, ReshardBytesWithPads) {
  Builder b(&context);
  // On 4 ranks: dim 1 (7) pads to 8, dim 0 (6) pads to 8.
  RankedTensorType type = tensor({6, 7, 16}, b.getF32Type());
  ShardingAttr dim0 = split(0, 2), dim1 = split(1, 1), dim2 = split(2);
  const uint64_t kBytes = 6 * 7 * 16 * 4;
  const uint64_t kPad0 = 8 * 7 * 16 * 4, kPad1 = 6 * 8 * 16 * 4;

  EXPECT_EQ(reshardBytes(type, dim1, replicated), kPad1);
  EXPECT_EQ(reshardBytes(type, replicated, dim1), kPad1);
  EXPECT_EQ(reshardBytes(type, partial, dim1), kPad1);
  EXPECT_EQ(reshardBytes(type, dim1, partial), kPad1);
  EXPECT_EQ(reshardBytes(type, partial, replicated), kBytes);
  EXPECT_EQ(reshardBytes(type, dim2, replicated), kBytes);
  EXPECT_EQ(reshardBytes(type, dim2, dim1), kPad1);
  EXPECT_EQ(reshardBytes(type, dim1, dim2), kPad1);
  EXPECT_EQ(reshardBytes(type, dim0, replicated), kPad0);
  EXPECT_EQ(reshardBytes(type, partial, dim0), kPad0);
  // Both sides split: each carries its own pads.
  EXPECT_EQ(reshardBytes(type, dim0, dim1), 8u * 8 * 16 * 4);
  EXPECT_EQ(reshardBytes(type, dim1, dim0), 8u * 8 * 16 * 4);
}

TEST_F(ShardingTest, ReshardBytesWithFactorPads) {
  Builder b(&context);
  // Dim 1 is [5, 2]; on 4 ranks the factor 5 pads to 8.
  RankedTensorType type = tensor({3, 10}, b.getF16Type());
  ShardingAttr outerFactor = ShardingAttr::getSplit(&context, 1, 1, 5, 2, 3);
  ASSERT_EQ(outerFactor.getSplitExtent(type), 5);
  ShardingAttr innerFactor = ShardingAttr::getSplit(&context, 1, 5, 2, 1, 2);
  ASSERT_EQ(innerFactor.getSplitExtent(type), 2);
  EXPECT_EQ(reshardBytes(type, outerFactor, replicated), 3u * 16 * 2);
  EXPECT_EQ(reshardBytes(type, partial, outerFactor), 3u * 16 * 2);
  EXPECT_EQ(reshardBytes(type, innerFactor, replicated), 3u * 20 * 2);
  EXPECT_EQ(reshardBytes(type, split(0, 1), outerFactor), 4u * 16 * 2);
}

TEST_F(ShardingTest, ReshardBytesIsExactForEveryPad) {
  // The padded size is a whole number of bytes; it must not be rounded down.
  Builder b(&context);
  for (int64_t ranks = 2; ranks <= 8; ++ranks) {
    for (int64_t extent = 1; extent <= 64; ++extent) {
      int64_t pad = (ranks - extent % ranks) % ranks;
      for (int64_t other : {1, 3, 5, 7, 48}) {
        SCOPED_TRACE("ranks " + std::to_string(ranks) + ", extent " +
                     std::to_string(extent) + ", other " +
                     std::to_string(other));
        RankedTensorType type = tensor({extent, other}, b.getIntegerType(8));
        uint64_t padded = (extent + pad) * other;
        ASSERT_EQ(reshardBytes(type, split(0, pad), replicated), padded);
        ASSERT_EQ(reshardBytes(type, partial, split(0, pad)), padded);
        int64_t otherPad = (ranks - other % ranks) % ranks;
        ASSERT_EQ(reshardBytes(type, split(0, pad), split(1, otherPad)),
                  static_cast<uint64_t>((extent + pad) * (other + otherPad)));
      }
    }
  }
}

TEST_F(ShardingTest, OpFlops) {
  const char *source = R"mlir(
    func.func @f(%a: tensor<2x3x4xf32>, %w: tensor<4x8xf32>,
                 %b: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
      %0 = dsp.matmul %a, %w : tensor<2x3x4xf32>, tensor<4x8xf32> -> tensor<2x3x8xf32>
      %1 = dsp.add %0, %b : tensor<2x3x8xf32>, tensor<2x3x8xf32> -> tensor<2x3x8xf32>
      return %1 : tensor<2x3x8xf32>
    }
  )mlir";
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  ASSERT_TRUE(module);
  std::vector<double> flops;
  module->walk([&](Operation *op) {
    if (isa<MatMulOp, AddOp>(op))
      flops.push_back(opFlops(op));
  });
  // A multiply-add per output element and contraction step; one op per
  // element for the addition.
  EXPECT_EQ(flops, std::vector<double>({2.0 * 2 * 3 * 8 * 4, 2.0 * 3 * 8}));
}

} // namespace
