//===- CollectiveTest.cpp - Communicators, collectives, multi-rank runs ---===//

#include "TestUtil.h"

#include "dsp/Format/Layout.h"
#include "dsp/Format/Npy.h"
#include "dsp/Runtime/Communicator.h"
#include "dsp/Runtime/RankGroup.h"
#include "dsp/Runtime/dsp_runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <thread>

using namespace dsp::test;
using dsp::format::Layout;
using dsp::program::F32;
using dsp::runtime::Communicator;
using dsp::runtime::CommunicatorOptions;
using dsp::runtime::Session;
using dsp::runtime::Status;

namespace {

Layout ofKind(Layout::Kind kind) {
  Layout layout;
  layout.kind = kind;
  return layout;
}

std::vector<float> block(const std::vector<float> &global, const Shape &shape,
                         const Layout &layout, int64_t ranks, int64_t rank) {
  if (layout.kind != Layout::Split)
    return global;
  std::vector<float> local(count(layout.localShape(shape, ranks)));
  dsp::format::extractBlock(global.data(), shape,
                            dsp::format::contiguousStrides(shape), 4, layout,
                            ranks, rank, local.data());
  return local;
}

/// `values` as a tensor of `dtype`: F32, F16, BF16 or I32 (for integers).
HostTensor ofDtype(dsp::program::DType dtype, const Shape &shape,
                   const std::vector<float> &values) {
  if (dtype == dsp::program::I32)
    return makeTensor(dtype, shape,
                      std::vector<int32_t>(values.begin(), values.end()));
  if (dsp::format::isFloat16(dtype))
    return float16(dtype, shape, values);
  return f32(shape, values);
}

std::vector<float> asFloats(const HostTensor &tensor) {
  if (tensor.dtype != dsp::program::I32)
    return tensor.floats();
  return std::vector<float>(tensor.as<int32_t>(),
                            tensor.as<int32_t>() + count(tensor.shape));
}

/// What each rank computed (as f32) and sent.
struct RankResults {
  std::vector<std::vector<float>> outputs;
  std::vector<uint64_t> bytes;
  std::vector<std::string> errors;
};

/// Runs every session on its own thread; a failing rank aborts the group,
/// as dsp-run does. `skip` ranks never run (a rank that vanished).
RankResults runRanks(std::vector<std::unique_ptr<Session>> &sessions,
                     std::vector<std::shared_ptr<Communicator>> &communicators,
                     int skip = -1) {
  RankResults results;
  size_t n = sessions.size();
  results.outputs.resize(n);
  results.bytes.resize(n);
  results.errors.resize(n);
  std::vector<std::thread> threads;
  for (size_t rank = 0; rank < n; ++rank)
    threads.emplace_back([&, rank] {
      if (static_cast<int>(rank) == skip)
        return;
      Status status = sessions[rank]->run();
      if (!status) {
        results.errors[rank] = status.message();
        if (!communicators[rank]->exited())
          communicators[rank]->abort(status.message());
        return;
      }
      const dsp::runtime::TensorInfo &info = sessions[rank]->outputInfo(0);
      HostTensor output{info.dtype, info.shape,
                        std::vector<uint8_t>(info.bytes)};
      EXPECT_TRUE(sessions[rank]
                      ->readOutput(0, output.bytes.data(), output.bytes.size())
                      .ok());
      results.outputs[rank] = asFloats(output);
      results.bytes[rank] = sessions[rank]->statistics().bytesPerRank;
    });
  for (std::thread &thread : threads)
    thread.join();
  return results;
}

/// `shape` transposed by `perm` (dim d is dim perm[d]); itself if empty.
Shape transposedShape(const Shape &shape, const Shape &perm) {
  if (perm.empty())
    return shape;
  Shape out;
  for (int64_t dim : perm)
    out.push_back(shape[dim]);
  return out;
}

Shape inversePermutation(const Shape &perm) {
  Shape inverse(perm.size());
  for (size_t d = 0; d < perm.size(); ++d)
    inverse[perm[d]] = static_cast<int64_t>(d);
  return inverse;
}

/// transpose(values, perm) for `values` of `shape`, row-major.
std::vector<float> transposeValues(const std::vector<float> &values,
                                   const Shape &shape, const Shape &perm) {
  Shape outShape = transposedShape(shape, perm);
  Shape strides = dsp::format::transposedStrides(shape, perm);
  std::vector<float> out(values.size());
  Shape index(outShape.size(), 0);
  for (float &element : out) {
    int64_t offset = 0;
    for (size_t d = 0; d < index.size(); ++d)
      offset += index[d] * strides[d];
    element = values[offset];
    for (size_t d = index.size(); d-- > 0 && ++index[d] == outShape[d];)
      index[d] = 0;
  }
  return out;
}

/// The transposes an all_to_all folds (none: empty perms).
struct FoldedTransposes {
  Shape inputPerm, outputPerm;
};

/// The program of `builder`, whose one input is a block of `shape`, on
/// `ranks` local ranks: `inputs[r]` is rank r's block, bound as `dtype`.
/// `name` names the program file.
RankResults runProgram(ProgramBuilder &builder, const std::string &name,
                       int ranks, const Shape &shape,
                       const std::vector<std::vector<float>> &inputs,
                       const CommunicatorOptions &options = {}, int skip = -1,
                       dsp::program::DType dtype = F32) {
  // Per process: ctest runs tests in parallel.
  std::string path = temporaryPath(name + ".dspx");
  std::string error = builder.write(path);
  EXPECT_EQ(error, "");
  auto file = dsp::format::ProgramFile::open(path, error);
  EXPECT_TRUE(file) << error;
  std::vector<std::shared_ptr<Communicator>> communicators;
  Status status =
      dsp::runtime::createLocalCommunicators(ranks, options, communicators);
  EXPECT_TRUE(status.ok()) << status.message();
  std::vector<std::unique_ptr<Session>> sessions;
  for (int rank = 0; rank < ranks; ++rank) {
    dsp::runtime::SessionOptions sessionOptions;
    sessionOptions.threads = 1;
    sessionOptions.communicator = communicators[rank];
    sessions.push_back(Session::create(file, sessionOptions, error));
    EXPECT_TRUE(sessions.back()) << error;
    HostTensor input = ofDtype(dtype, shape, inputs[rank]);
    EXPECT_TRUE(sessions.back()
                    ->bindInput(0, dtype, input.shape, input.bytes.data(),
                                input.bytes.size())
                    .ok());
  }
  return runRanks(sessions, communicators, skip);
}

/// A collective among the sub-groups of one axis of a rank mesh.
struct OnMeshAxis {
  Shape mesh;
  int64_t axis = 0;
};

/// One collective instruction on `ranks` local ranks (among the sub-groups
/// of `onAxis` if given). `inputs[r]` is rank r's operand as bound (through
/// `folded.inputPerm` it is the `from` block), bound as `dtype`.
RankResults runCollective(const std::string &op, int ranks, const Shape &global,
                          const Layout &from, const Layout &to,
                          const std::vector<std::vector<float>> &inputs,
                          const std::string &reduction = "",
                          const CommunicatorOptions &options = {},
                          int skip = -1, dsp::program::DType dtype = F32,
                          const FoldedTransposes &folded = {},
                          const std::optional<OnMeshAxis> &onAxis = {}) {
  ProgramBuilder builder;
  builder.program.set_ranks(ranks);
  std::vector<dsp::program::Attribute> attributes = {
      ints("from", from.encode()), ints("global_shape", global)};
  if (op != "zero_pad")
    attributes.push_back(ints("to", to.encode()));
  if (!reduction.empty())
    attributes.push_back(str("reduction", reduction));
  int64_t group = ranks;
  if (onAxis) {
    for (int64_t size : onAxis->mesh)
      builder.program.add_mesh(size);
    attributes.push_back(ints("axis", {onAxis->axis}));
    group = onAxis->mesh[onAxis->axis];
  }
  Shape inputShape = from.localShape(global, group);
  if (!folded.inputPerm.empty()) {
    attributes.push_back(ints("input_perm", folded.inputPerm));
    inputShape =
        transposedShape(inputShape, inversePermutation(folded.inputPerm));
  }
  if (!folded.outputPerm.empty())
    attributes.push_back(ints("output_perm", folded.outputPerm));
  uint32_t x = builder.input("x", dtype, inputShape);
  builder.output(builder.op(
      op, {x}, dtype,
      transposedShape(to.localShape(global, group), folded.outputPerm),
      attributes));
  return runProgram(builder, op + "_collective", ranks, inputShape, inputs,
                    options, skip, dtype);
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// The layouts exercised: the split dim outermost (contiguous blocks), in
/// the middle with pads (T=6 on 4 ranks), and a factor inside a dim.
const Shape kShape = {4, 6, 12, 3};
Layout layoutCase(int which, int64_t ranks) {
  switch (which) {
  case 0:
    return split(0, 1, 4, 1, ranks);
  case 1:
    return split(1, 1, 6, 1, ranks);
  default:
    return split(2, 2, 3, 2, ranks); // 12 = outer 2 * size 3 * inner 2
  }
}

TEST(CollectiveTest, AllToAllMatchesTheGlobalReference) {
  std::vector<float> global = randomFloats(count(kShape), 1);
  for (int ranks = 1; ranks <= 8; ++ranks)
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) {
        if (a == b)
          continue;
        Layout from = layoutCase(a, ranks), to = layoutCase(b, ranks);
        SCOPED_TRACE(std::to_string(ranks) + " ranks, " + from.str() + " -> " +
                     to.str());
        std::vector<std::vector<float>> inputs;
        for (int r = 0; r < ranks; ++r)
          inputs.push_back(block(global, kShape, from, ranks, r));
        RankResults results =
            runCollective("all_to_all", ranks, kShape, from, to, inputs);
        Shape chunk = from.localShape(to.localShape(kShape, ranks), ranks);
        for (int r = 0; r < ranks; ++r) {
          ASSERT_EQ(results.errors[r], "");
          EXPECT_EQ(results.outputs[r], block(global, kShape, to, ranks, r));
          EXPECT_EQ(results.bytes[r], uint64_t((ranks - 1) * count(chunk) * 4));
        }
      }
}

TEST(CollectiveTest, OnAMeshAxisEachSubGroupExchangesAlone) {
  // A 2x3 mesh: the sub-groups of one axis each hold a value of their own
  // and convert it among their ranks, as a group of that axis's size would.
  Shape mesh = {2, 3};
  dsp::format::MeshLayout coordinates;
  coordinates.mesh = mesh;
  for (int64_t axis = 0; axis < 2; ++axis) {
    int64_t size = mesh[axis];
    Layout from = layoutCase(1, size), to = layoutCase(2, size);
    std::vector<std::vector<float>> values, inputs, expected;
    for (int64_t rank = 0; rank < 6; ++rank) {
      // The other axis's coordinate names the sub-group and its value.
      int64_t subGroup = coordinates.coordinate(rank, 1 - axis);
      int64_t index = coordinates.coordinate(rank, axis);
      std::vector<float> value =
          randomFloats(count(kShape), 10 + subGroup + 3 * axis);
      inputs.push_back(block(value, kShape, from, size, index));
      expected.push_back(block(value, kShape, to, size, index));
    }
    RankResults results =
        runCollective("all_to_all", 6, kShape, from, to, inputs, "", {}, -1,
                      F32, {}, OnMeshAxis{mesh, axis});
    for (int64_t rank = 0; rank < 6; ++rank) {
      EXPECT_EQ(results.errors[rank], "") << "axis " << axis;
      EXPECT_EQ(results.outputs[rank], expected[rank])
          << "axis " << axis << " rank " << rank;
    }
  }
}

TEST(CollectiveTest, AllToAllReadsAndWritesThroughFoldedTransposes) {
  std::vector<float> global = randomFloats(count(kShape), 2);
  const FoldedTransposes folded[] = {
      {{2, 0, 3, 1}, {}}, {{}, {1, 3, 0, 2}}, {{3, 2, 1, 0}, {0, 2, 1, 3}}};
  for (int ranks = 1; ranks <= 5; ++ranks)
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b)
        for (const FoldedTransposes &perms : folded) {
          if (a == b)
            continue;
          Layout from = layoutCase(a, ranks), to = layoutCase(b, ranks);
          SCOPED_TRACE(std::to_string(ranks) + " ranks, " + from.str() +
                       " -> " + to.str());
          Shape fromShape = from.localShape(kShape, ranks);
          Shape toShape = to.localShape(kShape, ranks);
          std::vector<std::vector<float>> inputs;
          for (int r = 0; r < ranks; ++r)
            inputs.push_back(
                perms.inputPerm.empty()
                    ? block(global, kShape, from, ranks, r)
                    : transposeValues(block(global, kShape, from, ranks, r),
                                      fromShape,
                                      inversePermutation(perms.inputPerm)));
          RankResults results =
              runCollective("all_to_all", ranks, kShape, from, to, inputs, "",
                            {}, -1, F32, perms);
          Shape chunk = from.localShape(toShape, ranks);
          for (int r = 0; r < ranks; ++r) {
            ASSERT_EQ(results.errors[r], "");
            std::vector<float> expected = block(global, kShape, to, ranks, r);
            if (!perms.outputPerm.empty())
              expected = transposeValues(expected, toShape, perms.outputPerm);
            EXPECT_EQ(results.outputs[r], expected);
            EXPECT_EQ(results.bytes[r],
                      uint64_t((ranks - 1) * count(chunk) * 4));
          }
        }
}

// An async all_to_all runs on the communication lane while a second one,
// started in order after it, runs there too; the sum of both after the
// wait is twice the block, and each moves the bytes it moves alone.
TEST(CollectiveTest, AsyncAllToAllCompletesAtItsWait) {
  std::vector<float> global = randomFloats(count(kShape), 7);
  for (int ranks : {2, 4}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    Layout from = layoutCase(0, ranks), to = layoutCase(1, ranks);
    ProgramBuilder builder;
    builder.program.set_ranks(ranks);
    std::vector<dsp::program::Attribute> layouts = {
        ints("from", from.encode()), ints("to", to.encode()),
        ints("global_shape", kShape)};
    std::vector<dsp::program::Attribute> async = layouts;
    async.push_back(ints("async", {1}));
    Shape in = from.localShape(kShape, ranks),
          out = to.localShape(kShape, ranks);
    uint32_t x = builder.input("x", F32, in);
    uint32_t started = builder.op("all_to_all", {x}, F32, out, async);
    uint32_t inOrder = builder.op("all_to_all", {x}, F32, out, layouts);
    dsp::program::Instruction *wait = builder.program.add_instructions();
    wait->set_op("wait");
    wait->add_inputs(started);
    builder.output(builder.op("add", {started, inOrder}, F32, out));
    std::vector<std::vector<float>> blocks;
    for (int r = 0; r < ranks; ++r)
      blocks.push_back(block(global, kShape, from, ranks, r));
    RankResults results = runProgram(builder, "async_a2a", ranks, in, blocks);
    Shape chunk = from.localShape(out, ranks);
    for (int r = 0; r < ranks; ++r) {
      ASSERT_EQ(results.errors[r], "");
      std::vector<float> expected = block(global, kShape, to, ranks, r);
      for (float &value : expected)
        value *= 2;
      EXPECT_EQ(results.outputs[r], expected);
      EXPECT_EQ(results.bytes[r], uint64_t(2 * (ranks - 1) * count(chunk) * 4));
    }
  }
}

/// Writing the program of `builder` fails with an error containing
/// `problem`.
void expectProblem(ProgramBuilder builder, const std::string &problem) {
  std::string error = builder.write(temporaryPath("invalid.dspx"));
  EXPECT_NE(error.find(problem), std::string::npos) << error;
}

TEST(CollectiveTest, ValidationChecksAsyncCollectivesAndWaits) {
  ProgramBuilder builder;
  builder.program.set_ranks(4);
  Layout from = split(1, 1, 6, 1, 4), to = split(0, 1, 4, 1, 4);
  uint32_t x = builder.input("x", F32, {4, 2, 8});
  uint32_t started =
      builder.op("all_to_all", {x}, F32, {1, 6, 8},
                 {ints("from", from.encode()), ints("to", to.encode()),
                  ints("global_shape", {4, 6, 8}), ints("async", {1})});
  dsp::program::Instruction *wait = builder.program.add_instructions();
  wait->set_op("wait");
  wait->add_inputs(started);
  builder.output(builder.op("relu", {started}, F32, {1, 6, 8}));
  EXPECT_EQ(builder.write(temporaryPath("valid_async.dspx")), "");

  ProgramBuilder readEarly = builder;
  readEarly.program.mutable_instructions()->SwapElements(1, 2);
  expectProblem(readEarly, "(relu at 'node_2'): input 0 reads tensor 1 "
                           "('all_to_all_out0') before the wait of async "
                           "instruction 0");
  ProgramBuilder notAsync = builder;
  notAsync.program.mutable_instructions(0)->mutable_attributes()->RemoveLast();
  expectProblem(notAsync, "(wait): waits for tensor 1 ('all_to_all_out0'), "
                          "which no async collective in flight writes");
  ProgramBuilder badValue = builder;
  *badValue.program.mutable_instructions(0)->mutable_attributes(3) =
      ints("async", {2});
  expectProblem(badValue, "attribute 'async' must be 0 or 1");
  ProgramBuilder waitOutput = builder;
  waitOutput.program.mutable_instructions(1)->add_outputs(
      waitOutput.program.instructions(2).outputs(0));
  expectProblem(waitOutput, "(wait): has 1 outputs, expected 0");
  ProgramBuilder noWait = builder;
  noWait.program.mutable_instructions()->DeleteSubrange(1, 2);
  noWait.program.clear_outputs();
  noWait.program.mutable_tensors(2)->set_kind(dsp::program::INTERMEDIATE);
  noWait.program.mutable_tensors(1)->set_kind(dsp::program::OUTPUT);
  noWait.program.add_outputs(1);
  expectProblem(noWait, "instruction 0 starts an async collective that no "
                        "wait completes");
}

TEST(CollectiveTest, AllGatherAndLocalSliceAndZeroPad) {
  std::vector<float> global = randomFloats(count(kShape), 2);
  Layout replicated = ofKind(Layout::Replicated);
  for (int ranks = 1; ranks <= 8; ++ranks)
    for (int a = 0; a < 3; ++a) {
      Layout layout = layoutCase(a, ranks);
      SCOPED_TRACE(std::to_string(ranks) + " ranks, " + layout.str());
      Shape local = layout.localShape(kShape, ranks);
      std::vector<std::vector<float>> blocks, replicas(ranks, global), dirty;
      for (int r = 0; r < ranks; ++r) {
        blocks.push_back(block(global, kShape, layout, ranks, r));
        // Pads full of garbage, which zero_pad must clear.
        dirty.push_back(blocks.back());
        std::vector<float> ones(dirty.back().size(), 7.0f);
        dsp::format::zeroBlockPad(ones.data(), kShape, 4, layout, ranks, r);
        for (size_t i = 0; i < ones.size(); ++i)
          if (ones[i] == 0.0f)
            dirty.back()[i] = 99.0f;
      }
      RankResults gathered = runCollective("all_gather", ranks, kShape, layout,
                                           replicated, blocks);
      RankResults sliced = runCollective("local_slice", ranks, kShape,
                                         replicated, layout, replicas);
      RankResults padded =
          runCollective("zero_pad", ranks, kShape, layout, layout, dirty);
      for (int r = 0; r < ranks; ++r) {
        ASSERT_EQ(gathered.errors[r], "");
        EXPECT_EQ(gathered.outputs[r], global);
        EXPECT_EQ(gathered.bytes[r], uint64_t((ranks - 1) * count(local) * 4));
        EXPECT_EQ(sliced.outputs[r], blocks[r]);
        EXPECT_EQ(sliced.bytes[r], 0u);
        EXPECT_EQ(padded.outputs[r], blocks[r]);
      }
    }
}

/// Each rank's summand of kShape, their sum and their maximum.
struct Summands {
  std::vector<std::vector<float>> values;
  std::vector<float> sum, max;
};

/// Small integers: exact in every dtype, and every summation order gives
/// the same sum.
Summands makeSummands(int ranks, unsigned seed) {
  Summands summands;
  summands.sum.assign(count(kShape), 0.0f);
  summands.max.assign(count(kShape), -INFINITY);
  for (int r = 0; r < ranks; ++r) {
    std::vector<float> values = randomFloats(count(kShape), seed + r, -8, 8);
    for (size_t i = 0; i < values.size(); ++i) {
      values[i] = std::round(values[i]);
      summands.sum[i] += values[i];
      summands.max[i] = std::max(summands.max[i], values[i]);
    }
    summands.values.push_back(values);
  }
  return summands;
}

TEST(CollectiveTest, ReduceScatterAndAllReduce) {
  Layout partial = ofKind(Layout::Partial),
         replicated = ofKind(Layout::Replicated);
  for (int ranks = 1; ranks <= 8; ++ranks) {
    Summands summed = makeSummands(ranks, 10);
    const std::vector<std::vector<float>> &summands = summed.values;
    const std::vector<float> &sum = summed.sum, &max = summed.max;
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    RankResults reducedSum = runCollective("all_reduce", ranks, kShape, partial,
                                           replicated, summands, "sum");
    RankResults reducedMax = runCollective("all_reduce", ranks, kShape, partial,
                                           replicated, summands, "max");
    uint64_t ringBytes = 2 * (ranks - 1) * ceilDiv(count(kShape), ranks) * 4;
    for (int r = 0; r < ranks; ++r) {
      ASSERT_EQ(reducedSum.errors[r], "");
      EXPECT_EQ(reducedSum.outputs[r], sum);
      EXPECT_EQ(reducedMax.outputs[r], max);
      EXPECT_EQ(reducedSum.bytes[r], ringBytes);
    }
    for (int b = 0; b < 3; ++b) {
      Layout to = layoutCase(b, ranks);
      SCOPED_TRACE(to.str());
      RankResults scattered =
          runCollective("reduce_scatter", ranks, kShape, partial, to, summands);
      Shape local = to.localShape(kShape, ranks);
      for (int r = 0; r < ranks; ++r) {
        ASSERT_EQ(scattered.errors[r], "");
        EXPECT_EQ(scattered.outputs[r], block(sum, kShape, to, ranks, r));
        EXPECT_EQ(scattered.bytes[r], uint64_t((ranks - 1) * count(local) * 4));
      }
    }
  }
}

/// The all_reduce sum and the reduce_scatter (to `to`) of `summands`, each
/// rank's bound as `dtype`.
std::pair<RankResults, RankResults>
sumAndScatter(int ranks, const std::vector<std::vector<float>> &summands,
              const Layout &to, dsp::program::DType dtype) {
  return {
      runCollective("all_reduce", ranks, kShape, ofKind(Layout::Partial),
                    ofKind(Layout::Replicated), summands, "sum", {}, -1, dtype),
      runCollective("reduce_scatter", ranks, kShape, ofKind(Layout::Partial),
                    to, summands, "", {}, -1, dtype)};
}

// f16, bf16 and i32 summands reduce like f32 ones, and 16-bit ones send half
// the bytes.
TEST(CollectiveTest, ReduceScatterAndAllReduceAtEveryDtype) {
  for (dsp::program::DType dtype :
       {dsp::program::F16, dsp::program::BF16, dsp::program::I32})
    for (int ranks : {2, 3, 4}) {
      SCOPED_TRACE(std::string(dsp::format::dtypeName(dtype)) + ", " +
                   std::to_string(ranks) + " ranks");
      size_t elementSize = dsp::format::elementSize(dtype);
      Summands summed = makeSummands(ranks, 20);
      const std::vector<std::vector<float>> &summands = summed.values;
      const std::vector<float> &sum = summed.sum, &max = summed.max;
      Layout to = layoutCase(1, ranks);
      auto [reducedSum, scattered] = sumAndScatter(ranks, summands, to, dtype);
      RankResults reducedMax = runCollective(
          "all_reduce", ranks, kShape, ofKind(Layout::Partial),
          ofKind(Layout::Replicated), summands, "max", {}, -1, dtype);
      for (int r = 0; r < ranks; ++r) {
        ASSERT_EQ(reducedSum.errors[r], "");
        ASSERT_EQ(scattered.errors[r], "");
        EXPECT_EQ(reducedSum.outputs[r], sum);
        EXPECT_EQ(reducedMax.outputs[r], max);
        EXPECT_EQ(scattered.outputs[r], block(sum, kShape, to, ranks, r));
        EXPECT_EQ(reducedSum.bytes[r], 2 * (ranks - 1) *
                                           ceilDiv(count(kShape), ranks) *
                                           elementSize);
        EXPECT_EQ(scattered.bytes[r], (ranks - 1) *
                                          count(to.localShape(kShape, ranks)) *
                                          elementSize);
      }
    }
}

// 16-bit sums are taken in f32 and rounded once: 1 + 3 eps rounds to
// 1 + 4 eps (eps half an ulp of 1, the tie going to even), where rounding
// after each addition would keep 1 wherever the 1 comes first. Every
// element's fold starts on a different rank, so some start with the 1.
TEST(CollectiveTest, Float16SumsRoundOnce) {
  const int ranks = 4;
  for (dsp::program::DType dtype : {dsp::program::F16, dsp::program::BF16}) {
    SCOPED_TRACE(dsp::format::dtypeName(dtype));
    float eps = dtype == dsp::program::F16 ? std::ldexp(1.0f, -11)
                                           : std::ldexp(1.0f, -8);
    std::vector<std::vector<float>> summands(ranks);
    for (int r = 0; r < ranks; ++r)
      summands[r].assign(count(kShape), r == 0 ? 1.0f : eps);
    std::vector<float> expected(count(kShape), 1.0f + 4 * eps);
    Layout to = layoutCase(0, ranks);
    auto [reduced, scattered] = sumAndScatter(ranks, summands, to, dtype);
    for (int r = 0; r < ranks; ++r) {
      EXPECT_EQ(reduced.outputs[r], expected);
      EXPECT_EQ(scattered.outputs[r], block(expected, kShape, to, ranks, r));
    }
  }
}

/// ring_attention of 2 heads on 1 to 4 local ranks of `backend` in `dtype`:
/// rank r holds query block r (9 queries) and key and value block r (7
/// keys); the last block ends in 3 keys of padding, whose huge scores must
/// not count. Each rank's output is its queries' attention over every valid
/// key (within `tolerance` of the f32 reference on the rounded inputs), and
/// each rank sends N - 1 key and value blocks.
void expectRingAttention(const std::string &backend, dsp::program::DType dtype,
                         float tolerance) {
  const int64_t heads = 2, queries = 9, keys = 7, depth = 16, valueDepth = 8;
  const Shape qShape = {1, heads, queries, depth},
              kShape = {1, heads, keys, depth},
              vShape = {1, heads, keys, valueDepth},
              outShape = {1, heads, queries, valueDepth};
  const size_t elementBytes = dsp::format::elementSize(dtype);
  for (int ranks = 1; ranks <= 4; ++ranks) {
    SCOPED_TRACE(backend + ", " + std::to_string(ranks) + " ranks");
    const int64_t keyCount = ranks * keys - 3;
    ProgramBuilder builder;
    builder.program.set_ranks(ranks);
    builder.output(builder.op(
        "ring_attention",
        {builder.input("q", dtype, qShape), builder.input("k", dtype, kShape),
         builder.input("v", dtype, vShape)},
        dtype, outShape,
        {floats("scale", {0.25}), ints("key_count", {keyCount})}));
    std::string path = temporaryPath("ring_attention.dspx");
    ASSERT_EQ(builder.write(path), "");
    std::string error;
    auto file = dsp::format::ProgramFile::open(path, error);
    ASSERT_TRUE(file) << error;
    std::vector<std::shared_ptr<Communicator>> communicators;
    ASSERT_TRUE(
        dsp::runtime::createLocalCommunicators(ranks, {}, communicators).ok());
    // Every rank's blocks, and the valid keys and values of all, per head.
    std::vector<HostTensor> blocks[3];
    std::vector<float> validKeys[heads], validValues[heads];
    for (int r = 0; r < ranks; ++r) {
      std::vector<float> k = randomFloats(count(kShape), 10 * r + 1),
                         v = randomFloats(count(vShape), 10 * r + 2);
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t j = 0; j < keys; ++j)
          if (r * keys + j >= keyCount) {
            std::fill_n(k.begin() + (h * keys + j) * depth, depth, 1e4f);
            std::fill_n(v.begin() + (h * keys + j) * valueDepth, valueDepth,
                        1e3f);
          }
      blocks[0].push_back(
          ofDtype(dtype, qShape, randomFloats(count(qShape), 10 * r)));
      blocks[1].push_back(ofDtype(dtype, kShape, k));
      blocks[2].push_back(ofDtype(dtype, vShape, v));
      std::vector<float> rounded[2] = {blocks[1].back().floats(),
                                       blocks[2].back().floats()};
      for (int64_t h = 0; h < heads; ++h) {
        int64_t valid = std::clamp<int64_t>(keyCount - r * keys, 0, keys);
        auto append = [&](const std::vector<float> &from, int64_t width,
                          std::vector<float> &to) {
          to.insert(to.end(), from.begin() + h * keys * width,
                    from.begin() + (h * keys + valid) * width);
        };
        append(rounded[0], depth, validKeys[h]);
        append(rounded[1], valueDepth, validValues[h]);
      }
    }
    std::vector<float> allKeys, allValues;
    for (int64_t h = 0; h < heads; ++h) {
      allKeys.insert(allKeys.end(), validKeys[h].begin(), validKeys[h].end());
      allValues.insert(allValues.end(), validValues[h].begin(),
                       validValues[h].end());
    }
    std::vector<std::unique_ptr<Session>> sessions;
    for (int r = 0; r < ranks; ++r) {
      dsp::runtime::SessionOptions options;
      options.threads = 1;
      options.backend = backend;
      options.communicator = communicators[r];
      sessions.push_back(Session::create(file, options, error));
      ASSERT_TRUE(sessions.back()) << error;
      for (int i = 0; i < 3; ++i) {
        const HostTensor &input = blocks[i][r];
        ASSERT_TRUE(sessions.back()
                        ->bindInput(i, dtype, input.shape, input.bytes.data(),
                                    input.bytes.size())
                        .ok());
      }
    }
    RankResults results = runRanks(sessions, communicators);
    for (int r = 0; r < ranks; ++r) {
      ASSERT_EQ(results.errors[r], "");
      expectNear(results.outputs[r],
                 referenceAttention(blocks[0][r].floats(), allKeys, allValues,
                                    nullptr, {}, 1, heads, queries, keyCount,
                                    depth, valueDepth, 0.25f),
                 tolerance);
      EXPECT_EQ(results.bytes[r],
                uint64_t((ranks - 1) * (count(kShape) + count(vShape)) *
                         elementBytes));
    }
  }
}

TEST(CollectiveTest, RingAttentionMatchesTheGlobalReference) {
  expectRingAttention("cpu", F32, 1e-5f);
  expectRingAttention("cpu", dsp::program::BF16, 1e-2f);
}

// The cuda backend's ring: the flash kernel's log-sum-exp merges the blocks,
// which move between streams of one GPU.
TEST(CollectiveTest, RingAttentionOnOneGpu) {
  if (!hasCudaDevice())
    GTEST_SKIP() << "no CUDA device";
  expectRingAttention("cuda", F32, 1e-5f);
  expectRingAttention("cuda", dsp::program::F16, 1e-2f);
  expectRingAttention("cuda", dsp::program::BF16, 1e-2f);
}

TEST(CollectiveTest, ValidationChecksLayoutsAndShapes) {
  ProgramBuilder builder;
  builder.program.set_ranks(4);
  Layout from = split(1, 1, 6, 1, 4), to = split(0, 1, 4, 1, 4);
  uint32_t x = builder.input("x", F32, {4, 2, 8});
  builder.output(
      builder.op("all_to_all", {x}, F32, {1, 6, 8},
                 {ints("from", from.encode()), ints("to", to.encode()),
                  ints("global_shape", {4, 6, 8})}));
  EXPECT_EQ(builder.write(temporaryPath("valid_a2a.dspx")), "");

  ProgramBuilder wrongShape = builder;
  wrongShape.program.mutable_tensors(0)->set_shape(1, 3);
  wrongShape.program.mutable_tensors(0)->set_bytes(4 * 3 * 8 * 4);
  expectProblem(wrongShape, "input 0 has shape [4,3,8], expected [4,2,8]");
  ProgramBuilder badPad = builder;
  badPad.program.mutable_instructions(0)
      ->mutable_attributes(0)
      ->mutable_ints()
      ->set_values(5, 1);
  expectProblem(badPad, "size+pad must be a multiple of the 4 ranks");
  // A pad of a whole block or more would make blocks larger than the global
  // tensor, and collective chunks beyond any checked size.
  ProgramBuilder bigPad = builder;
  bigPad.program.mutable_instructions(0)
      ->mutable_attributes(0)
      ->mutable_ints()
      ->set_values(5, 6);
  expectProblem(bigPad, "pad must be less than the 4 ranks");
  ProgramBuilder sameDim = builder;
  *sameDim.program.mutable_instructions(0)->mutable_attributes(1) =
      ints("to", from.encode());
  expectProblem(sameDim, "split the same dim 1");
  ProgramBuilder badKind = builder;
  badKind.program.mutable_instructions(0)->set_op("all_gather");
  expectProblem(badKind, "attribute 'to' is split(dim=0");
  // Folded transposes: permutations of the global shape's dims, and the
  // input read through input_perm must be the `from` block.
  ProgramBuilder notAPermutation = builder;
  *notAPermutation.program.mutable_instructions(0)->add_attributes() =
      ints("output_perm", {0, 0, 2});
  expectProblem(notAPermutation,
                "attribute 'output_perm' [0,0,2] is not a permutation of 3");
  ProgramBuilder shortPerm = builder;
  *shortPerm.program.mutable_instructions(0)->add_attributes() =
      ints("input_perm", {1, 0});
  expectProblem(shortPerm, "attribute 'input_perm' has 2 values, expected 3");
  ProgramBuilder unreadable = builder;
  *unreadable.program.mutable_instructions(0)->add_attributes() =
      ints("input_perm", {1, 0, 2});
  expectProblem(unreadable, "input 0 has shape [4,2,8], transposed by "
                            "input_perm [1,0,2], expected [4,2,8]");
  // An input of another rank than the global shape's, read through a
  // permutation of the global dims.
  ProgramBuilder otherRank = unreadable;
  otherRank.program.mutable_tensors(0)->clear_shape();
  otherRank.program.mutable_tensors(0)->add_shape(64);
  expectProblem(otherRank, "input 0 has shape [64], but input_perm [1,0,2] "
                           "permutes 3 dims");
  ProgramBuilder transposedOutput = builder;
  *transposedOutput.program.mutable_instructions(0)->add_attributes() =
      ints("output_perm", {2, 0, 1});
  expectProblem(transposedOutput, "output has shape [1,6,8], expected [8,1,6]");
  // A mesh multiplies to the ranks; `axis` names one of its axes, whose
  // size the layouts then divide by.
  ProgramBuilder badMesh = builder;
  badMesh.program.add_mesh(2);
  badMesh.program.add_mesh(3);
  expectProblem(badMesh, "program mesh [2,3] is not two or more sizes that "
                         "multiply to the 4 ranks");
  ProgramBuilder onAxis = builder;
  onAxis.program.add_mesh(2);
  onAxis.program.add_mesh(2);
  *onAxis.program.mutable_instructions(0)->add_attributes() = ints("axis", {2});
  expectProblem(onAxis, "attribute 'axis' is 2, expected a value in [0, 2)");
  *onAxis.program.mutable_instructions(0)->mutable_attributes(3) =
      ints("axis", {1});
  expectProblem(onAxis, "pad must be less than the 2 ranks");
}

TEST(CollectiveTest, GlobalShapeInvertsLocalShape) {
  // Every split of [3, 24, 5] on dim 1 as outer*size*inner, over 1..8
  // ranks with the pad that makes it divide: the block's global shape is
  // the global shape again, and the size is recovered from the block.
  Shape global = {3, 24, 5};
  for (int64_t outer : {1, 2, 4})
    for (int64_t inner : {1, 3})
      for (int64_t ranks = 1; ranks <= 8; ++ranks) {
        int64_t size = 24 / outer / inner;
        if (size * outer * inner != 24)
          continue;
        Layout layout = split(1, outer, size, inner, ranks);
        Shape local = layout.localShape(global, ranks);
        Layout unknownSize = layout;
        unknownSize.size = 0;
        Shape back;
        EXPECT_EQ(unknownSize.globalShape(local, ranks, back), "")
            << layout.str() << " over " << ranks;
        EXPECT_EQ(back, global) << layout.str() << " over " << ranks;
        EXPECT_EQ(unknownSize.size, size);
      }
  Shape back;
  Layout fourOuter = split(1, 4, 6, 1, 2);
  EXPECT_NE(fourOuter.globalShape({3, 6, 5}, 2, back)
                .find("is not outer*block*inner"),
            std::string::npos);
  Layout dimThree = split(3, 1, 6, 1, 2);
  EXPECT_NE(
      dimThree.globalShape({3, 6, 5}, 2, back).find("dim is out of range"),
      std::string::npos);
  Layout huge = split(1, 1, 6, 1, 2);
  EXPECT_NE(
      huge.globalShape({3, int64_t(1) << 62, 5}, 4, back).find("out of range"),
      std::string::npos);
}

/// A device transport over host memory that records the order of its
/// calls: what a GPU backend's streams would be made to follow.
class RecordingTransport : public dsp::runtime::DeviceTransport {
public:
  explicit RecordingTransport(int rank) : rank(rank) {}
  Status markSent(const void *&marker) override {
    marker = &rank;
    calls.push_back("sent");
    return Status::success();
  }
  Status receive(void *target, const void *source, size_t bytes,
                 const void *sent, const void *&done) override {
    std::memcpy(target, source, bytes);
    calls.push_back("receive from " +
                    std::to_string(*static_cast<const int *>(sent)));
    done = &rank;
    return Status::success();
  }
  Status awaitReceived(const void *done) override {
    calls.push_back("received by " +
                    std::to_string(*static_cast<const int *>(done)));
    return Status::success();
  }
  int rank;
  std::vector<std::string> calls;
};

/// Runs `body(rank, peer)` for ranks 0 and 1, each on its own thread.
void onTwoRankThreads(const std::function<void(int, int)> &body) {
  std::vector<std::thread> threads;
  for (int rank = 0; rank < 2; ++rank)
    threads.emplace_back(body, rank, 1 - rank);
  for (std::thread &thread : threads)
    thread.join();
}

TEST(CollectiveTest, LocalExchangesGoThroughTheDeviceTransport) {
  std::vector<std::shared_ptr<Communicator>> communicators;
  ASSERT_TRUE(
      dsp::runtime::createLocalCommunicators(2, {}, communicators).ok());
  std::vector<RecordingTransport> transports = {RecordingTransport(0),
                                                RecordingTransport(1)};
  std::vector<std::vector<float>> sent = {{1, 2, 3}, {4, 5, 6}},
                                  received(2, std::vector<float>(3));
  onTwoRankThreads([&](int rank, int peer) {
    ASSERT_TRUE(communicators[rank]->setDeviceTransport(&transports[rank]));
    Status status = communicators[rank]->exchange(
        {{peer, sent[rank].data(), 12}}, {{peer, received[rank].data(), 12}});
    EXPECT_TRUE(status.ok()) << status.message();
  });
  for (int rank = 0; rank < 2; ++rank) {
    int peer = 1 - rank;
    EXPECT_EQ(received[rank], sent[peer]);
    EXPECT_EQ(transports[rank].calls,
              (std::vector<std::string>{
                  "sent", "receive from " + std::to_string(peer),
                  "received by " + std::to_string(peer)}));
    EXPECT_EQ(communicators[rank]->bytesSent(), 12u);
  }
}

/// Host staging over host memory that records its calls: what a GPU
/// backend enqueues on its stream for a communicator of processes (mpi).
class RecordingStaging : public dsp::runtime::HostStaging {
public:
  Status stagingBuffer(size_t bytes, void *&host) override {
    buffer.assign(bytes, 0xee);
    host = buffer.data();
    calls.push_back("buffer " + std::to_string(bytes));
    return Status::success();
  }
  Status stageOut(void *host, const void *device, size_t bytes) override {
    std::memcpy(host, device, bytes);
    calls.push_back("out " + std::to_string(bytes));
    return Status::success();
  }
  Status awaitStaged() override {
    calls.push_back("await");
    return Status::success();
  }
  Status stageIn(void *device, const void *host, size_t bytes) override {
    std::memcpy(device, host, bytes);
    calls.push_back("in " + std::to_string(bytes));
    return Status::success();
  }
  std::vector<uint8_t> buffer;
  std::vector<std::string> calls;
};

// Device buffers leave through the staging buffer once their copies
// completed, and arrive through it; the runtime's own host exchanges skip
// it. The bytes counted are those of the messages.
TEST(CollectiveTest, StagedExchangesCopyThroughHostMemory) {
  std::vector<std::shared_ptr<Communicator>> communicators;
  ASSERT_TRUE(
      dsp::runtime::createLocalCommunicators(2, {}, communicators).ok());
  std::vector<RecordingStaging> stagings(2);
  std::vector<std::vector<float>> sent = {{1, 2, 3}, {4, 5, 6}},
                                  received(2, std::vector<float>(3)),
                                  direct(2, std::vector<float>(3));
  onTwoRankThreads([&](int rank, int peer) {
    communicators[rank]->setHostStaging(&stagings[rank]);
    Status status = communicators[rank]->exchange(
        {{peer, sent[rank].data(), 12}}, {{peer, received[rank].data(), 12}});
    EXPECT_TRUE(status.ok()) << status.message();
    status = communicators[rank]->exchangeHost(
        {{peer, sent[rank].data(), 12}}, {{peer, direct[rank].data(), 12}});
    EXPECT_TRUE(status.ok()) << status.message();
  });
  for (int rank = 0; rank < 2; ++rank) {
    int peer = 1 - rank;
    EXPECT_EQ(received[rank], sent[peer]);
    EXPECT_EQ(direct[rank], sent[peer]);
    // One 256-byte slot per message.
    EXPECT_EQ(
        stagings[rank].calls,
        (std::vector<std::string>{"buffer 512", "out 12", "await", "in 12"}));
    EXPECT_EQ(communicators[rank]->bytesSent(), 24u);
  }
}

TEST(CollectiveTest, LaunchedLocalRankPicksTheDevice) {
  // Left unset, so that the commands of later tests see no launcher.
  auto clear = [] {
    for (const char *variable :
         {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
          "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"})
      ::unsetenv(variable);
  };
  clear();
  EXPECT_EQ(dsp::runtime::launchedLocalRank(), 0);
  EXPECT_FALSE(dsp::runtime::launchedByMpi());
  ::setenv("MPI_LOCALRANKID", "5", 1);
  EXPECT_EQ(dsp::runtime::launchedLocalRank(), 5);
  ::setenv("OMPI_COMM_WORLD_LOCAL_RANK", "3", 1);
  EXPECT_EQ(dsp::runtime::launchedLocalRank(), 3);
  ::setenv("OMPI_COMM_WORLD_LOCAL_RANK", "x", 1);
  EXPECT_EQ(dsp::runtime::launchedLocalRank(), 5);
  // One process started by mpirun is still launched by it.
  ::setenv("OMPI_COMM_WORLD_SIZE", "1", 1);
  EXPECT_TRUE(dsp::runtime::launchedByMpi());
  EXPECT_EQ(dsp::runtime::launchedProcessCount(), 1);
  clear();
}

TEST(CollectiveTest, FailingRankStopsEveryRank) {
  Shape shape = {8, 4};
  Layout from = split(0, 1, 8, 1, 4), to = split(1, 1, 4, 1, 4);
  std::vector<std::vector<float>> inputs(4, std::vector<float>(8));
  CommunicatorOptions options;
  options.timeoutSeconds = 30;
  ASSERT_EQ(dsp::runtime::FaultPlan::parse("rank=2,after=0,kind=error",
                                           options.fault),
            "");
  auto start = std::chrono::steady_clock::now();
  RankResults results =
      runCollective("all_to_all", 4, shape, from, to, inputs, "", options);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_NE(results.errors[2].find("injected fault in all_to_all"),
            std::string::npos)
      << results.errors[2];
  for (int r : {0, 1, 3})
    EXPECT_NE(results.errors[r].find("rank 2 failed: "), std::string::npos)
        << results.errors[r];

  EXPECT_NE(dsp::runtime::FaultPlan::parse("rank=x", options.fault), "");
}

TEST(CollectiveTest, MissingRankTimesOut) {
  Shape shape = {8, 4};
  Layout from = split(0, 1, 8, 1, 4), to = split(1, 1, 4, 1, 4);
  std::vector<std::vector<float>> inputs(4, std::vector<float>(8));
  CommunicatorOptions options;
  options.timeoutSeconds = 0.5;
  auto start = std::chrono::steady_clock::now();
  RankResults results = runCollective("all_to_all", 4, shape, from, to, inputs,
                                      "", options, /*skip=*/3);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  for (int r : {0, 1, 2})
    EXPECT_NE(results.errors[r].find("rank 3"), std::string::npos)
        << results.errors[r];
}

//===----------------------------------------------------------------------===//
// dsp-run on hand-built multi-rank programs
//===----------------------------------------------------------------------===//

/// x [4,6,8] split on dim 1 (T=6, padded) → y: 2x, all_to_all to dim 0,
/// sum over dim 2, all_gather; z: (x+2) with pads zeroed, sum over the split
/// dim (partial), all_reduce.
struct PipelineModel {
  std::string path;
  uint64_t allToAll, allGather, allReduce;
};

PipelineModel writePipelineModel(int ranks, dsp::program::DType dtype = F32) {
  Shape global = {4, 6, 8};
  Layout t = split(1, 1, 6, 1, ranks), b = split(0, 1, 4, 1, ranks);
  Layout replicated = ofKind(Layout::Replicated);
  ProgramBuilder builder;
  builder.program.set_ranks(ranks);
  Shape xLocal = t.localShape(global, ranks);
  uint32_t x = builder.input("x", dtype, xLocal);
  for (int64_t value : t.encode())
    builder.program.mutable_tensors(x)->add_layout(value);
  for (int64_t dim : global)
    builder.program.mutable_tensors(x)->add_global_shape(dim);
  uint32_t two = builder.weight("two", ofDtype(dtype, {1}, {2.0f}));
  uint32_t doubled = builder.op("mul", {x, two}, dtype, xLocal);
  Shape bLocal = b.localShape(global, ranks);
  uint32_t switched =
      builder.op("all_to_all", {doubled}, dtype, bLocal,
                 {ints("from", t.encode()), ints("to", b.encode()),
                  ints("global_shape", global)});
  Shape summedLocal = {bLocal[0], 6, 1};
  uint32_t summed = builder.op("reduce_sum", {switched}, dtype, summedLocal,
                               {ints("axes", {2}), ints("keepdims", {1})});
  builder.output(
      builder.op("all_gather", {summed}, dtype, {4, 6, 1},
                 {ints("from", b.encode()), ints("to", replicated.encode()),
                  ints("global_shape", {4, 6, 1})}));
  uint32_t shifted = builder.op("add", {x, two}, dtype, xLocal);
  uint32_t cleared =
      builder.op("zero_pad", {shifted}, dtype, xLocal,
                 {ints("from", t.encode()), ints("global_shape", global)});
  uint32_t partial = builder.op("reduce_sum", {cleared}, dtype, {4, 1, 8},
                                {ints("axes", {1}), ints("keepdims", {1})});
  builder.output(
      builder.op("all_reduce", {partial}, dtype, {4, 1, 8},
                 {ints("from", ofKind(Layout::Partial).encode()),
                  ints("to", replicated.encode()),
                  ints("global_shape", {4, 1, 8}), str("reduction", "sum")}));
  PipelineModel model;
  model.path = temporaryPath("pipeline" + std::to_string(ranks) +
                             dsp::format::dtypeName(dtype) + ".dspx");
  EXPECT_EQ(builder.write(model.path), "");
  int64_t n = ranks, size = dsp::format::elementSize(dtype);
  model.allToAll = (n - 1) * b.block(n) * t.block(n) * 8 * size;
  model.allGather = (n - 1) * b.block(n) * 6 * size;
  model.allReduce = 2 * (n - 1) * ceilDiv(32, n) * size;
  return model;
}

/// Writes x and the two expected outputs; returns the dsp-run arguments.
std::string writePipelineData() {
  std::vector<float> x = randomFloats(4 * 6 * 8, 5), y(4 * 6), z(4 * 8, 0.0f);
  for (int i = 0; i < 4; ++i)
    for (int t = 0; t < 6; ++t)
      for (int c = 0; c < 8; ++c) {
        float value = x[(i * 6 + t) * 8 + c];
        y[i * 6 + t] += 2 * value;
        z[i * 8 + c] += value + 2;
      }
  std::string xPath = temporaryPath("pipeline_x.npy"),
              yPath = temporaryPath("pipeline_y.npy"),
              zPath = temporaryPath("pipeline_z.npy");
  EXPECT_EQ(dsp::npy::write(xPath, F32, {4, 6, 8}, x.data(), x.size() * 4), "");
  EXPECT_EQ(dsp::npy::write(yPath, F32, {4, 6, 1}, y.data(), y.size() * 4), "");
  EXPECT_EQ(dsp::npy::write(zPath, F32, {4, 1, 8}, z.data(), z.size() * 4), "");
  return " --input=@" + xPath + " --expected-output=@" + yPath +
         " --expected-output=@" + zPath + " --atol=1e-4";
}

void expectStats(const std::string &statsPath, const PipelineModel &model,
                 int ranks, const std::string &comm) {
  std::string json = readText(statsPath);
  for (const std::string &key :
       {std::string("\"comm\": \"") + comm + "\"",
        "\"ranks\": " + std::to_string(ranks),
        "\"kind\": \"all_to_all\", \"location\": \"node_2\", "
        "\"bytes_per_rank\": " +
            std::to_string(model.allToAll),
        "\"kind\": \"all_gather\", \"location\": \"node_4\", "
        "\"bytes_per_rank\": " +
            std::to_string(model.allGather),
        "\"kind\": \"all_reduce\", \"location\": \"node_8\", "
        "\"bytes_per_rank\": " +
            std::to_string(model.allReduce),
        "\"totals\": {\"bytes_per_rank\": " +
            std::to_string(model.allToAll + model.allGather + model.allReduce) +
            "}"})
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;
  size_t peaks = json.find("\"peak_memory_bytes\": [");
  ASSERT_NE(peaks, std::string::npos) << json;
  std::string array = json.substr(peaks, json.find(']', peaks) - peaks);
  EXPECT_EQ(std::count(array.begin(), array.end(), ','), ranks - 1) << array;
}

void expectLocalRanksMatch(const std::string &backend) {
  std::string arguments = writePipelineData();
  for (int ranks = 1; ranks <= 4; ++ranks) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    PipelineModel model = writePipelineModel(ranks);
    std::string stats = temporaryPath("pipeline_stats.json"), output;
    EXPECT_EQ(runCommand(std::string(DSP_RUN_PATH) + " " + model.path +
                             arguments + " --stats-json=" + stats +
                             " --backend=" + backend,
                         output),
              0)
        << output;
    expectStats(stats, model, ranks, "local");
  }
}

TEST(CollectiveTest, DspRunLocalRanks) { expectLocalRanksMatch("cpu"); }

// Local ranks as streams of one GPU: device buffers move between them, and
// the bytes counted are the cpu backend's.
TEST(CollectiveTest, DspRunLocalRanksOnOneGpu) {
  if (!hasCudaDevice())
    GTEST_SKIP() << "no CUDA device";
  expectLocalRanksMatch("cuda");
}

// A bf16 program runs on f32 .npy files (rounded on input, compared and
// written as f32), and each collective sends half the bytes of the f32 one.
TEST(CollectiveTest, DspRunLocalRanksBfloat16) {
  std::string arguments = writePipelineData() + " --atol=0.2";
  for (int ranks : {2, 4}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    PipelineModel f32Model = writePipelineModel(ranks);
    PipelineModel model = writePipelineModel(ranks, dsp::program::BF16);
    EXPECT_EQ(2 * model.allToAll, f32Model.allToAll);
    EXPECT_EQ(2 * model.allGather, f32Model.allGather);
    EXPECT_EQ(2 * model.allReduce, f32Model.allReduce);
    std::string stats = temporaryPath("pipeline_bf16_stats.json"),
                written = temporaryPath("pipeline_bf16_y.npy"), output;
    EXPECT_EQ(runCommand(std::string(DSP_RUN_PATH) + " " + model.path +
                             arguments + " --stats-json=" + stats +
                             " --output=@" + written,
                         output),
              0)
        << output;
    expectStats(stats, model, ranks, "local");
    dsp::npy::Array y;
    ASSERT_EQ(dsp::npy::read(written, y), "");
    EXPECT_EQ(y.dtype, F32);
    EXPECT_EQ(y.shape, (Shape{4, 6, 1}));
  }
}

/// Runs `command`; returns its exit status and its wall time in seconds.
std::pair<int, double> runTimed(const std::string &command,
                                std::string &output) {
  auto start = std::chrono::steady_clock::now();
  int status = runCommand(command, output);
  return {status, std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - start)
                      .count()};
}

TEST(CollectiveTest, DspRunLocalFaultsStopEveryRank) {
  std::string arguments = writePipelineData();
  PipelineModel model = writePipelineModel(4);
  // The whole run stops within the timeout and a small margin, a stalled
  // rank included (it used to take twice the timeout).
  const double timeout = 4;
  for (const char *kind : {"error", "stall", "exit"}) {
    SCOPED_TRACE(kind);
    std::string output;
    auto [status, seconds] =
        runTimed(std::string("DSP_FAULT=rank=1,after=1,kind=") + kind + " " +
                     DSP_RUN_PATH + " " + model.path + arguments +
                     " --comm-timeout=" + std::to_string(timeout),
                 output);
    EXPECT_EQ(status, 1) << output;
    EXPECT_LT(seconds, 1.5 * timeout) << output;
    EXPECT_NE(output.find("rank 1"), std::string::npos) << output;
    EXPECT_NE(output.find("all_gather"), std::string::npos) << output;
  }
}

#ifdef DSP_MPIEXEC
/// The start of a command line that runs dsp-run as `ranks` processes.
std::string mpirun(int ranks) {
  return std::string(
             "OMPI_ALLOW_RUN_AS_ROOT=1 "
             "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader ") +
         DSP_MPIEXEC + " --oversubscribe -np " + std::to_string(ranks) + " " +
         DSP_RUN_PATH + " ";
}
#endif

/// Runs the pipeline model as 2 and 4 MPI processes on `backend`; checks
/// outputs and measured bytes.
void expectMpiRanksMatch(const std::string &backend) {
#ifdef DSP_MPIEXEC
  std::string arguments = writePipelineData();
  for (int ranks : {2, 4}) {
    SCOPED_TRACE(std::to_string(ranks) + " processes");
    PipelineModel model = writePipelineModel(ranks);
    std::string stats = temporaryPath("pipeline_mpi_stats.json"), output;
    EXPECT_EQ(runCommand(mpirun(ranks) + model.path + arguments +
                             " --comm=mpi --stats-json=" + stats +
                             " --backend=" + backend,
                         output),
              0)
        << output;
    expectStats(stats, model, ranks, "mpi");
  }
#endif
}

TEST(CollectiveTest, DspRunMpiRanks) {
#ifndef DSP_MPIEXEC
  GTEST_SKIP() << "mpirun was not found when the tests were configured";
#endif
  expectMpiRanksMatch("cpu");
}

// Processes sharing one GPU: device buffers are staged through host
// memory, and the bytes counted are the plan's.
TEST(CollectiveTest, DspRunMpiRanksOnOneGpu) {
#ifndef DSP_MPIEXEC
  GTEST_SKIP() << "mpirun was not found when the tests were configured";
#endif
  if (!hasCudaDevice())
    GTEST_SKIP() << "no CUDA device";
  expectMpiRanksMatch("cuda");
}

// NCCL refuses two ranks on one GPU: one rank is what a one-GPU machine
// runs. Without a GPU the error says so.
TEST(CollectiveTest, DspRunNcclOneRank) {
#if !defined(DSP_MPIEXEC) || !defined(DSP_HAVE_NCCL)
  GTEST_SKIP() << "built without MPI or NCCL";
#else
  std::string arguments = writePipelineData();
  PipelineModel model = writePipelineModel(1);
  std::string stats = temporaryPath("pipeline_nccl_stats.json"), output;
  int status =
      runCommand(mpirun(1) + model.path + arguments +
                     " --backend=cuda --comm=nccl --stats-json=" + stats,
                 output);
  if (!hasCudaDevice()) {
    EXPECT_NE(status, 0) << output;
    EXPECT_NE(output.find("dsp-run: error: no CUDA device"), std::string::npos)
        << output;
    GTEST_SKIP() << "no CUDA device";
  }
  EXPECT_EQ(status, 0) << output;
  expectStats(stats, model, 1, "nccl");
#endif
}

TEST(CollectiveTest, DspRunUnderMpiNeedsCommMpi) {
#ifndef DSP_MPIEXEC
  GTEST_SKIP() << "mpirun was not found when the tests were configured";
#else
  // Without --comm=mpi every process would run all the ranks and write the
  // same outputs.
  std::string arguments = writePipelineData();
  PipelineModel model = writePipelineModel(2);
  std::string output;
  EXPECT_NE(runCommand(mpirun(2) + model.path + arguments, output), 0)
      << output;
  EXPECT_NE(output.find("dsp-run: error: an MPI launcher started 2 processes, "
                        "but with --comm=local each would run all the ranks; "
                        "add --comm=mpi to make them the ranks"),
            std::string::npos)
      << output;
#endif
}

TEST(CollectiveTest, DspRunMpiFaultsStopEveryRank) {
#ifndef DSP_MPIEXEC
  GTEST_SKIP() << "mpirun was not found when the tests were configured";
#else
  std::string arguments = writePipelineData();
  PipelineModel model = writePipelineModel(4);
  for (const char *kind : {"error", "stall", "exit"}) {
    SCOPED_TRACE(kind);
    std::string output;
    auto [status, seconds] = runTimed(
        std::string("DSP_FAULT=rank=1,after=1,kind=") + kind + " " + mpirun(4) +
            model.path + arguments + " --comm=mpi --comm-timeout=1",
        output);
    EXPECT_NE(status, 0) << output;
    EXPECT_LT(seconds, 15) << output;
    EXPECT_NE(output.find("rank 1"), std::string::npos) << output;
  }
#endif
}

} // namespace

//===----------------------------------------------------------------------===//
// Rank groups through the C++ and C APIs
//===----------------------------------------------------------------------===//

namespace {

using dsp::runtime::GroupStatistics;
using dsp::runtime::RankGroup;
using dsp::runtime::RankGroupOptions;

const Shape kPipelineShape = {4, 6, 8};

/// The pipeline model's two outputs, run on `ranks` ranks through a group.
std::vector<std::vector<float>> runGroup(RankGroup &group,
                                         const std::vector<float> &x) {
  Status status =
      group.bindInput(0, F32, kPipelineShape, x.data(), x.size() * 4);
  EXPECT_TRUE(status.ok()) << status.message();
  status = group.run(2);
  EXPECT_TRUE(status.ok()) << status.message();
  std::vector<std::vector<float>> outputs;
  for (size_t i = 0; i < group.numOutputs(); ++i) {
    outputs.emplace_back(group.outputInfo(i).bytes / 4);
    status =
        group.readOutput(i, outputs.back().data(), outputs.back().size() * 4);
    EXPECT_TRUE(status.ok()) << status.message();
  }
  return outputs;
}

std::unique_ptr<RankGroup> openGroup(const std::string &path,
                                     const RankGroupOptions &options) {
  std::string error;
  std::shared_ptr<const dsp::format::ProgramFile> file =
      dsp::format::ProgramFile::open(path, error);
  std::unique_ptr<RankGroup> group =
      file ? RankGroup::create(file, options, error) : nullptr;
  EXPECT_TRUE(group) << error;
  return group;
}

std::unique_ptr<RankGroup> openGroup(const std::string &path, bool trace) {
  RankGroupOptions options;
  options.threads = 1;
  options.trace = trace;
  return openGroup(path, options);
}

TEST(RankGroupTest, MatchesOneRankAndGathersStatistics) {
  std::vector<float> x = randomFloats(count(kPipelineShape), 7);
  std::unique_ptr<RankGroup> single =
      openGroup(writePipelineModel(1).path, false);
  ASSERT_TRUE(single);
  std::vector<std::vector<float>> reference = runGroup(*single, x);
  for (int ranks = 2; ranks <= 4; ++ranks) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    PipelineModel model = writePipelineModel(ranks);
    std::unique_ptr<RankGroup> group = openGroup(model.path, true);
    ASSERT_TRUE(group);
    EXPECT_EQ(group->ranks(), ranks);
    EXPECT_EQ(group->localRanks(), static_cast<size_t>(ranks));
    EXPECT_EQ(group->inputInfo(0).shape, kPipelineShape);
    EXPECT_EQ(group->inputInfo(0).bytes, x.size() * 4);
    std::vector<std::vector<float>> outputs = runGroup(*group, x);
    ASSERT_EQ(outputs.size(), reference.size());
    for (size_t i = 0; i < outputs.size(); ++i)
      expectNear(outputs[i], reference[i]);

    GroupStatistics statistics;
    ASSERT_TRUE(group->gatherStatistics(statistics).ok());
    EXPECT_EQ(statistics.comm, "local");
    EXPECT_EQ(statistics.statistics.runs, 2u);
    EXPECT_EQ(statistics.runMilliseconds.size(), 2u);
    EXPECT_EQ(statistics.peakMemoryBytes.size(), static_cast<size_t>(ranks));
    ASSERT_EQ(statistics.statistics.collectives.size(), 3u);
    EXPECT_EQ(statistics.statistics.collectives[0].bytesPerRank,
              model.allToAll);
    EXPECT_EQ(statistics.statistics.collectives[1].bytesPerRank,
              model.allGather);
    EXPECT_EQ(statistics.statistics.collectives[2].bytesPerRank,
              model.allReduce);

    std::string trace;
    ASSERT_TRUE(group->gatherTrace(trace).ok());
    EXPECT_NE(trace.find("\"traceEvents\""), std::string::npos);
    EXPECT_NE(trace.find("\"args\": {\"name\": \"rank " +
                         std::to_string(ranks - 1) + "\"}"),
              std::string::npos);
  }
  std::string trace;
  Status untraced = single->gatherTrace(trace);
  EXPECT_FALSE(untraced.ok());
  EXPECT_NE(untraced.message().find("records no trace"), std::string::npos);
}

TEST(RankGroupTest, BindErrorsNameTheGlobalShape) {
  std::unique_ptr<RankGroup> group =
      openGroup(writePipelineModel(2).path, false);
  ASSERT_TRUE(group);
  std::vector<float> x(count(kPipelineShape));
  Status status = group->bindInput(0, F32, {4, 3, 8}, x.data(), x.size() * 2);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("input 0 ('x') expects shape [4,6,8] "
                                  "(each of the 2 ranks reads its"),
            std::string::npos)
      << status.message();
  status = group->bindInput(0, F32, kPipelineShape, x.data(), 12);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("expects 768 bytes of data, got 12"),
            std::string::npos)
      << status.message();
  Status unbound = group->run();
  EXPECT_FALSE(unbound.ok());
  EXPECT_NE(unbound.message().find("('x') is not bound"), std::string::npos)
      << unbound.message();
}

TEST(RankGroupTest, FailingRankStopsTheGroup) {
  RankGroupOptions options;
  options.threads = 1;
  options.communicator.timeoutSeconds = 5;
  options.communicator.fault.kind = dsp::runtime::FaultPlan::Error;
  options.communicator.fault.rank = 2;
  options.communicator.fault.after = 1;
  std::unique_ptr<RankGroup> group =
      openGroup(writePipelineModel(4).path, options);
  ASSERT_TRUE(group);
  std::vector<float> x(count(kPipelineShape));
  ASSERT_TRUE(
      group->bindInput(0, F32, kPipelineShape, x.data(), x.size() * 4).ok());
  Status status = group->run();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("rank 2"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("all_gather"), std::string::npos)
      << status.message();
  Status again = group->run();
  EXPECT_NE(again.message().find("the group stopped after a failure: rank"),
            std::string::npos)
      << again.message();
  GroupStatistics statistics;
  EXPECT_FALSE(group->gatherStatistics(statistics).ok());
}

/// Runs the pipeline model on `ranks` ranks through the C API.
std::vector<std::vector<float>> runCGroup(int ranks,
                                          const std::vector<float> &x) {
  std::string path = writePipelineModel(ranks).path;
  dsp_group *group = nullptr;
  dsp_group_options options = {"cpu", 1, "local", 10, 1};
  EXPECT_EQ(dsp_group_open(path.c_str(), &options, &group), DSP_OK)
      << dsp_last_error();
  if (!group)
    return {};
  EXPECT_EQ(dsp_group_ranks(group), ranks);
  EXPECT_EQ(dsp_group_rank(group), 0);
  size_t index = 1;
  EXPECT_EQ(dsp_group_find_input(group, "x", &index), DSP_OK);
  EXPECT_EQ(index, 0u);
  dsp_tensor_info info;
  EXPECT_EQ(dsp_group_input_info(group, 0, &info), DSP_OK);
  EXPECT_EQ(Shape(info.shape, info.shape + info.rank), kPipelineShape);
  EXPECT_EQ(dsp_group_bind_input(group, 0, DSP_DTYPE_F32, info.shape, info.rank,
                                 x.data(), x.size() * 4),
            DSP_OK)
      << dsp_last_error();
  EXPECT_EQ(dsp_group_run(group), DSP_OK) << dsp_last_error();
  std::vector<std::vector<float>> outputs;
  for (size_t i = 0; i < dsp_group_num_outputs(group); ++i) {
    EXPECT_EQ(dsp_group_output_info(group, i, &info), DSP_OK);
    outputs.emplace_back(info.bytes / 4);
    EXPECT_EQ(
        dsp_group_read_output(group, i, outputs.back().data(), info.bytes),
        DSP_OK)
        << dsp_last_error();
  }
  dsp_statistics statistics;
  EXPECT_EQ(dsp_group_statistics(group, &statistics), DSP_OK);
  EXPECT_EQ(statistics.runs, 1u);
  std::string trace = temporaryPath("c_group_trace.json"),
              stats = temporaryPath("c_group_stats.json");
  EXPECT_EQ(dsp_group_write_trace(group, trace.c_str()), DSP_OK)
      << dsp_last_error();
  EXPECT_NE(readText(trace).find("\"ph\": \"X\""), std::string::npos);
  EXPECT_EQ(dsp_group_write_statistics(group, stats.c_str()), DSP_OK);
  EXPECT_NE(readText(stats).find("\"ranks\": " + std::to_string(ranks)),
            std::string::npos);
  EXPECT_EQ(dsp_group_write_trace(group, "/nonexistent/dir/trace.json"),
            DSP_ERROR);
  EXPECT_NE(std::string(dsp_last_error()).find("/nonexistent/dir/trace.json"),
            std::string::npos);
  dsp_group_close(group);
  return outputs;
}

TEST(RankGroupTest, CApiMatchesOneRank) {
  std::vector<float> x = randomFloats(count(kPipelineShape), 9);
  std::vector<std::vector<float>> reference = runCGroup(1, x);
  ASSERT_EQ(reference.size(), 2u);
  for (int ranks : {2, 3, 4}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    std::vector<std::vector<float>> outputs = runCGroup(ranks, x);
    ASSERT_EQ(outputs.size(), reference.size());
    for (size_t i = 0; i < outputs.size(); ++i)
      expectNear(outputs[i], reference[i]);
  }
  dsp_group *group = nullptr;
  dsp_group_options options = {nullptr, 1, "tcp", 0, 0};
  EXPECT_EQ(
      dsp_group_open(writePipelineModel(2).path.c_str(), &options, &group),
      DSP_ERROR);
  EXPECT_STREQ(dsp_last_error(), "comm must be local, mpi or nccl, got 'tcp'");
}

} // namespace
