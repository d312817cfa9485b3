//===- CarryTest.cpp - Outputs kept sharded and carried between runs ------===//
//
// A program whose output keeps its input's layout, as a denoising step
// does with its latent: the ranks bind and read their own blocks, and each
// run's output becomes the next run's input on every rank without crossing
// ranks.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "dsp/Format/Layout.h"
#include "dsp/Runtime/RankGroup.h"

#include <functional>

using namespace dsp::test;
using dsp::format::Layout;
using dsp::program::F32;
using dsp::runtime::GroupStatistics;
using dsp::runtime::RankGroup;
using dsp::runtime::RankGroupOptions;
using dsp::runtime::Status;

namespace {

const Shape kLatentShape = {6, 4};

/// The latent's layout on `ranks` ranks: split on its 6 rows (padded to 8
/// on 4 ranks).
Layout latentLayout(int ranks) { return split(0, 1, 6, 1, ranks); }

/// Writes to `path` a step `x * 2 + t` whose output keeps x's layout:
/// output 0. On more than one rank, output 1 is the same value gathered.
/// `edit` changes the program first. Returns the writer's error.
std::string
writeStepModel(int ranks, const std::string &path,
               const std::function<void(dsp::program::Program &)> &edit = {}) {
  Layout layout = latentLayout(ranks);
  Shape local = layout.localShape(kLatentShape, ranks);
  ProgramBuilder builder;
  builder.program.set_ranks(ranks);
  auto setLayout = [&](uint32_t tensor) {
    // A one-rank program holds every value whole, without layouts.
    if (ranks == 1)
      return;
    for (int64_t value : layout.encode())
      builder.program.mutable_tensors(tensor)->add_layout(value);
    for (int64_t dim : kLatentShape)
      builder.program.mutable_tensors(tensor)->add_global_shape(dim);
  };
  uint32_t x = builder.input("x", F32, local);
  setLayout(x);
  uint32_t t = builder.input("t", F32, {1});
  uint32_t two = builder.weight("two", f32({1}, {2.0f}));
  uint32_t doubled = builder.op("mul", {x, two}, F32, local);
  uint32_t next = builder.op("add", {doubled, t}, F32, local);
  builder.output(next);
  setLayout(next);
  builder.program.mutable_tensors(next)->set_name("y");
  builder.program.mutable_tensors(next)->set_keeps_layout_of("x");
  if (ranks > 1) {
    Layout replicated;
    builder.output(builder.op("all_gather", {next}, F32, kLatentShape,
                              {ints("from", layout.encode()),
                               ints("to", replicated.encode()),
                               ints("global_shape", kLatentShape)}));
  }
  if (edit)
    edit(builder.program);
  return builder.write(path);
}

std::unique_ptr<RankGroup> openStepGroup(int ranks,
                                         const std::string &backend = "cpu") {
  std::string path =
      temporaryPath("carry_step" + std::to_string(ranks) + ".dspx");
  EXPECT_EQ(writeStepModel(ranks, path), "");
  std::string error;
  std::shared_ptr<const dsp::format::ProgramFile> file =
      dsp::format::ProgramFile::open(path, error);
  RankGroupOptions options;
  options.backend = backend;
  options.threads = 1;
  std::unique_ptr<RankGroup> group =
      file ? RankGroup::create(file, options, error) : nullptr;
  EXPECT_TRUE(group) << error;
  return group;
}

/// Block `rank` of the latent `global`, pad rows zero.
std::vector<float> latentBlock(const std::vector<float> &global, int ranks,
                               int rank) {
  Layout layout = latentLayout(ranks);
  std::vector<float> block(count(layout.localShape(kLatentShape, ranks)));
  dsp::format::extractBlock(global.data(), kLatentShape,
                            dsp::format::contiguousStrides(kLatentShape), 4,
                            layout, ranks, rank, block.data());
  return block;
}

/// `steps` steps of the model on `latent`.
std::vector<float> stepsOnHost(std::vector<float> latent, float t, int steps) {
  for (int step = 0; step < steps; ++step)
    for (float &value : latent)
      value = value * 2 + t;
  return latent;
}

void bindTimestep(RankGroup &group, float t) {
  Status status = group.bindInput(1, F32, {1}, &t, 4);
  ASSERT_TRUE(status.ok()) << status.message();
}

/// Three steps on 1 to 4 ranks of `backend`, the output carried into the
/// next step's input, read whole and per rank.
void expectStepsCarried(const std::string &backend) {
  const int kSteps = 3;
  const float t = 0.5f;
  std::vector<float> x = randomFloats(count(kLatentShape), 11);
  std::vector<float> expected = stepsOnHost(x, t, kSteps);
  for (int ranks = 1; ranks <= 4; ++ranks) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    std::unique_ptr<RankGroup> group = openStepGroup(ranks, backend);
    ASSERT_TRUE(group);
    EXPECT_EQ(group->outputInfo(0).shape, kLatentShape);
    EXPECT_EQ(group->outputInfo(0).keepsLayoutOf, "x");
    EXPECT_EQ(group->outputBlockInfo(0).shape,
              latentLayout(ranks).localShape(kLatentShape, ranks));
    Status status =
        group->bindInput(0, F32, kLatentShape, x.data(), x.size() * 4);
    ASSERT_TRUE(status.ok()) << status.message();
    bindTimestep(*group, t);
    for (int step = 0; step < kSteps && status.ok(); ++step) {
      if (step > 0)
        status = group->carry(0, 0);
      if (status.ok())
        status = group->run();
    }
    ASSERT_TRUE(status.ok()) << status.message();

    std::vector<float> whole(expected.size());
    status = group->readOutput(0, whole.data(), whole.size() * 4);
    ASSERT_TRUE(status.ok()) << status.message();
    expectNear(whole, expected);
    // The blocks put together; what a block holds in its pad is the
    // program's.
    std::vector<float> assembled(expected.size());
    for (int rank = 0; rank < ranks; ++rank) {
      std::vector<float> block(count(group->outputBlockInfo(0).shape));
      status = group->readOutputBlock(rank, 0, block.data(), block.size() * 4);
      ASSERT_TRUE(status.ok()) << status.message();
      dsp::format::insertBlock(block.data(), kLatentShape,
                               dsp::format::contiguousStrides(kLatentShape), 4,
                               latentLayout(ranks), ranks, rank,
                               assembled.data());
    }
    expectNear(assembled, expected);

    // The carries copied each rank's block in its own memory; the only
    // bytes between ranks are the gather of output 1, once per run.
    GroupStatistics statistics;
    ASSERT_TRUE(group->gatherStatistics(statistics).ok());
    EXPECT_EQ(statistics.statistics.runs, static_cast<uint64_t>(kSteps));
    EXPECT_EQ(statistics.statistics.carries, static_cast<uint64_t>(kSteps - 1));
    EXPECT_EQ(statistics.statistics.carriedBytes,
              (kSteps - 1) * group->inputBlockInfo(0).bytes);
    EXPECT_EQ(statistics.statistics.collectives.size(), ranks > 1 ? 1u : 0u);
    std::string json = statisticsJson(statistics);
    EXPECT_NE(json.find("\"carry\": {\"count\": 2, \"local_bytes_per_rank\": " +
                        std::to_string(statistics.statistics.carriedBytes) +
                        ", \"bytes_between_ranks\": 0}"),
              std::string::npos)
        << json;
  }
}

TEST(CarryTest, KeptOutputBecomesTheNextInputOnEveryRank) {
  expectStepsCarried("cpu");
}

TEST(CarryTest, KeptOutputBecomesTheNextInputOnTheGpu) {
  if (!hasCudaDevice())
    GTEST_SKIP() << "no CUDA device";
  expectStepsCarried("cuda");
}

TEST(CarryTest, RanksBindAndReadTheirOwnBlocks) {
  std::vector<float> x = randomFloats(count(kLatentShape), 12);
  std::vector<float> expected = stepsOnHost(x, 0, 1);
  for (int ranks = 1; ranks <= 4; ++ranks) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    std::unique_ptr<RankGroup> group = openStepGroup(ranks);
    ASSERT_TRUE(group);
    const Shape &blockShape = group->inputBlockInfo(0).shape;
    for (int rank = 0; rank < ranks; ++rank) {
      std::vector<float> block = latentBlock(x, ranks, rank);
      Status status = group->bindInputBlock(rank, 0, F32, blockShape,
                                            block.data(), block.size() * 4);
      ASSERT_TRUE(status.ok()) << status.message();
    }
    bindTimestep(*group, 0);
    Status status = group->run();
    ASSERT_TRUE(status.ok()) << status.message();
    for (int rank = 0; rank < ranks; ++rank) {
      std::vector<float> block(count(blockShape));
      status = group->readOutputBlock(rank, 0, block.data(), block.size() * 4);
      ASSERT_TRUE(status.ok()) << status.message();
      expectNear(block, latentBlock(expected, ranks, rank));
    }
    std::vector<float> block(count(blockShape));
    status = group->readOutputBlock(ranks, 0, block.data(), block.size() * 4);
    EXPECT_FALSE(status.ok());
    EXPECT_NE(status.message().find("cannot read a block of local rank " +
                                    std::to_string(ranks)),
              std::string::npos)
        << status.message();
  }
}

TEST(CarryTest, CarryNeedsTheSameBlockAndARun) {
  std::unique_ptr<RankGroup> group = openStepGroup(2);
  ASSERT_TRUE(group);
  Status status = group->carry(0, 0);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("no output to carry"), std::string::npos)
      << status.message();
  std::vector<float> x(count(kLatentShape));
  ASSERT_TRUE(
      group->bindInput(0, F32, kLatentShape, x.data(), x.size() * 4).ok());
  bindTimestep(*group, 0);
  ASSERT_TRUE(group->run().ok());
  // Output 1 is gathered: every rank holds the whole, not x's block.
  status = group->carry(1, 0);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("rank 0: output 'all_gather_out"),
            std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("cannot become input 'x' (f32 [6,4], "
                                  "split(dim=0"),
            std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("compile with keep-sharded="),
            std::string::npos)
      << status.message();
  status = group->carry(0, 1);
  EXPECT_FALSE(status.ok());
  status = group->carry(0, 2);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("the program has 2 outputs and 2 inputs"),
            std::string::npos)
      << status.message();
}

TEST(CarryTest, ValidatorChecksTheKeptLayout) {
  auto problem = [](const std::function<void(dsp::program::Program &)> &edit) {
    return writeStepModel(2, temporaryPath("carry_edited.dspx"), edit);
  };
  auto keeps = [](bool output, const std::string &input) {
    return [=](dsp::program::Program &program) {
      uint32_t tensor = output ? program.outputs(0) : program.inputs(1);
      program.mutable_tensors(tensor)->set_keeps_layout_of(input);
    };
  };
  std::string error = problem(keeps(true, "latent"));
  EXPECT_NE(error.find("keeps the layout of input 'latent', which is not a "
                       "graph input"),
            std::string::npos)
      << error;
  error = problem(keeps(true, "t"));
  EXPECT_NE(error.find("keeps the layout of input 't', but its dtype, shape, "
                       "layout or global shape differ"),
            std::string::npos)
      << error;
  error = problem(keeps(true, ""));
  EXPECT_NE(error.find("an OUTPUT tensor must be replicated"),
            std::string::npos)
      << error;
  error = problem(keeps(false, "x"));
  EXPECT_NE(error.find("only an OUTPUT tensor keeps an input's layout"),
            std::string::npos)
      << error;
}

} // namespace
