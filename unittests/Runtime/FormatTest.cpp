//===- FormatTest.cpp - Program file writer, reader and validator ---------===//

#include "TestUtil.h"

#include "dsp/Format/CollectiveStaging.h"

#include <fstream>
#include <iterator>

using namespace dsp::test;
using dsp::format::ProgramFile;
using dsp::program::F32;
using dsp::program::I64;

namespace {

std::vector<char> readBytes(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(file), {});
}

/// x [2,3] -> matmul with a weight, add a bias, relu, gather rows.
ProgramBuilder smallModel() {
  ProgramBuilder builder;
  uint32_t x = builder.input("x", F32, {2, 3});
  uint32_t w = builder.weight("w", f32({3, 4}, randomFloats(12, 1)));
  uint32_t b = builder.weight("b", f32({4}, {0.5f, -0.5f, 1, -1}));
  uint32_t rows = builder.weight("rows", i64({3}, {1, 0, -1}));
  uint32_t y = builder.op("matmul", {x, w}, F32, {2, 4});
  y = builder.op("add", {y, b}, F32, {2, 4});
  y = builder.op("relu", {y}, F32, {2, 4});
  y = builder.op("gather", {y, rows}, F32, {3, 4}, {ints("axis", {0})});
  builder.output(y);
  return builder;
}

TEST(FormatTest, RoundTrip) {
  ProgramBuilder builder = smallModel();
  std::string path = temporaryPath("roundtrip.dspx");
  ASSERT_EQ(builder.write(path), "");
  std::string error;
  std::shared_ptr<const ProgramFile> file = ProgramFile::open(path, error);
  ASSERT_TRUE(file) << error;
  EXPECT_EQ(file->header().majorVersion, 1u);
  EXPECT_EQ(file->header().minorVersion, dsp::format::kMinorVersion);
  EXPECT_EQ(file->header().programOffset, 64u);
  EXPECT_EQ(file->header().weightsOffset % 64, 0u);
  const dsp::program::Program &program = file->program();
  EXPECT_EQ(program.format_version(), 1u);
  EXPECT_EQ(program.instructions_size(), 4);
  EXPECT_EQ(program.instructions(0).op(), "matmul");
  for (const dsp::program::Tensor &tensor : program.tensors()) {
    if (tensor.kind() == dsp::program::WEIGHT) {
      EXPECT_EQ(tensor.offset() % 64, 0u);
    }
  }
  const float *bias = static_cast<const float *>(file->weightData(2));
  EXPECT_EQ(bias[0], 0.5f);
  EXPECT_EQ(bias[3], -1.0f);
  const int64_t *rows = static_cast<const int64_t *>(file->weightData(3));
  EXPECT_EQ(rows[2], -1);
}

TEST(FormatTest, WriterRejectsBadWeights) {
  ProgramBuilder builder = smallModel();
  std::vector<float> data(5);
  dsp::format::WeightData wrongSize = {1, data.data(), 20};
  std::string error = dsp::format::writeProgramFile(
      temporaryPath("bad.dspx"), builder.program, {wrongSize});
  EXPECT_NE(error, "");
}

std::string openError(const std::string &path) {
  std::string error;
  std::shared_ptr<const ProgramFile> file = ProgramFile::open(path, error);
  EXPECT_FALSE(file);
  return error;
}

TEST(FormatTest, HeaderChecks) {
  ProgramBuilder builder = smallModel();
  std::string path = temporaryPath("header.dspx");
  ASSERT_EQ(builder.write(path), "");
  std::vector<char> good = readBytes(path);
  std::string broken = temporaryPath("header_broken.dspx");

  std::vector<char> bytes = good;
  bytes[0] = 'X';
  writeBytes(broken, bytes);
  EXPECT_NE(openError(broken).find("bad magic"), std::string::npos);

  bytes = good;
  bytes[8] = 2; // major version 2
  writeBytes(broken, bytes);
  std::string error = openError(broken);
  EXPECT_NE(error.find("format version 2." +
                       std::to_string(dsp::format::kMinorVersion) +
                       " is not supported"),
            std::string::npos)
      << error;
  EXPECT_EQ(error.rfind(broken, 0), 0u) << "names the file: " << error;

  bytes = good;
  bytes[12] = 7; // a newer minor version is accepted
  writeBytes(broken, bytes);
  std::string ignored;
  EXPECT_TRUE(ProgramFile::open(broken, ignored)) << ignored;

  bytes.assign(good.begin(), good.begin() + good.size() - 8);
  writeBytes(broken, bytes);
  EXPECT_NE(openError(broken).find("truncated"), std::string::npos);

  writeBytes(broken, std::vector<char>(good.begin(), good.begin() + 20));
  EXPECT_NE(openError(broken).find("too short"), std::string::npos);

  EXPECT_NE(openError(temporaryPath("does_not_exist.dspx")).find("cannot open"),
            std::string::npos);
}

std::string validate(const dsp::program::Program &program) {
  return dsp::format::validateProgram(program, 1 << 20);
}

TEST(FormatTest, ValidatorChecksTheMatmulEpilogue) {
  auto problem = [](const Shape &bias, const Shape &residual,
                    const std::string &activation) {
    ProgramBuilder builder;
    std::vector<uint32_t> inputs = {builder.input("a", F32, {4, 5}),
                                    builder.input("b", F32, {5, 3})};
    if (!bias.empty())
      inputs.push_back(builder.input("bias", F32, bias));
    if (!residual.empty())
      inputs.push_back(builder.input("residual", F32, residual));
    builder.output(builder.op("matmul", inputs, F32, {4, 3},
                              {str("activation", activation)}));
    builder.program.set_format_version(1);
    return validate(builder.program);
  };
  EXPECT_EQ(problem({3}, {4, 3}, "gelu_tanh"), "");
  EXPECT_NE(problem({4}, {}, "none")
                .find("input 2 (bias) has shape [4], expected [3]"),
            std::string::npos);
  EXPECT_NE(problem({3}, {3}, "none")
                .find("input 3 (residual) has shape [3], "
                      "expected the output's [4,3]"),
            std::string::npos);
  EXPECT_NE(
      problem({3}, {}, "relu")
          .find("attribute 'activation' is 'relu', expected one of 'none', "
                "'gelu', 'gelu_tanh', 'silu'"),
      std::string::npos);
  EXPECT_NE(
      problem({}, {}, "silu").find("attribute 'activation' needs input 2"),
      std::string::npos);
}

TEST(FormatTest, ValidatorNamesTheProblem) {
  ProgramBuilder builder;
  uint32_t a = builder.input("a", F32, {4, 5});
  uint32_t b = builder.input("b", F32, {4, 5});
  builder.output(builder.op("matmul", {a, b}, F32, {4, 5}));
  builder.program.set_format_version(1);
  std::string error = validate(builder.program);
  EXPECT_NE(error.find("instruction 0 (matmul at 'node_1'): input 1 has shape "
                       "[4,5], expected inner dim 5"),
            std::string::npos)
      << error;

  dsp::program::Program program = builder.program;
  program.mutable_instructions(0)->set_op("frobnicate");
  EXPECT_NE(validate(program).find("unknown op 'frobnicate'"),
            std::string::npos);

  program = builder.program;
  program.mutable_instructions(0)->mutable_inputs()->RemoveLast();
  EXPECT_NE(validate(program).find("has 1 inputs, expected 2 to 4"),
            std::string::npos);

  program = builder.program;
  program.mutable_instructions(0)->set_inputs(1, 99);
  EXPECT_NE(validate(program).find("tensor 99"), std::string::npos);

  program = builder.program;
  program.mutable_tensors(0)->set_bytes(12);
  EXPECT_NE(validate(program).find("bytes is 12, expected 80"),
            std::string::npos);

  program = builder.program;
  program.mutable_tensors(1)->set_offset(program.arena_bytes() - 8);
  EXPECT_NE(validate(program).find("outside the arena"), std::string::npos);

  program = builder.program;
  program.mutable_tensors(0)->set_dtype(dsp::program::DTYPE_UNSPECIFIED);
  EXPECT_NE(validate(program).find("dtype is not set"), std::string::npos);

  program = builder.program;
  program.add_inputs(2);
  EXPECT_NE(validate(program).find("not of kind INPUT"), std::string::npos);
}

TEST(FormatTest, ValidatorChecksAttributes) {
  ProgramBuilder builder;
  uint32_t x = builder.input("x", F32, {2, 3});
  builder.output(builder.op("transpose", {x}, F32, {3, 2}));
  builder.program.set_format_version(1);
  EXPECT_NE(validate(builder.program).find("missing attribute 'perm'"),
            std::string::npos);
  *builder.program.mutable_instructions(0)->add_attributes() =
      ints("perm", {1, 1});
  EXPECT_NE(validate(builder.program).find("not a permutation"),
            std::string::npos);
  *builder.program.mutable_instructions(0)->mutable_attributes(0) =
      floats("perm", {1, 0});
  EXPECT_NE(validate(builder.program).find("must be ints"), std::string::npos);
  *builder.program.mutable_instructions(0)->mutable_attributes(0) =
      ints("perm", {1, 0});
  EXPECT_EQ(validate(builder.program), "");
  *builder.program.mutable_instructions(0)->add_attributes() =
      ints("colour", {1});
  EXPECT_NE(validate(builder.program).find("unknown attribute 'colour'"),
            std::string::npos);

  ProgramBuilder slice;
  uint32_t y = slice.input("y", F32, {5});
  slice.output(slice.op(
      "slice", {y}, F32, {3},
      {ints("starts", {0}), ints("limits", {5}), ints("strides", {2})}));
  slice.program.set_format_version(1);
  EXPECT_EQ(validate(slice.program), "");
  slice.program.mutable_tensors(1)->set_bytes(8);
  slice.program.mutable_tensors(1)->set_shape(0, 2);
  EXPECT_NE(validate(slice.program).find("expected [3]"), std::string::npos);
}

/// The first problem `validate` finds in a one-op program: `op` on a
/// single input of `dtype` and `shape`, producing `out`.
std::string validateOp(const std::string &op, DType dtype, const Shape &shape,
                       const Shape &out,
                       const std::vector<dsp::program::Attribute> &attributes,
                       int inputs = 1) {
  ProgramBuilder builder;
  uint32_t x = builder.input("x", dtype, shape);
  builder.output(
      builder.op(op, std::vector<uint32_t>(inputs, x), dtype, out, attributes));
  builder.program.set_format_version(1);
  return validate(builder.program);
}

/// The problem `validate` finds in a one-op program of `op` on inputs of
/// the given dtypes and shapes, with a result of `dtype` and `shape`.
std::string
validateDtypes(const std::string &op,
               const std::vector<std::pair<DType, Shape>> &inputs,
               const std::pair<DType, Shape> &result,
               const std::vector<dsp::program::Attribute> &attributes = {}) {
  ProgramBuilder builder;
  std::vector<uint32_t> operands;
  for (const auto &[dtype, shape] : inputs)
    operands.push_back(
        builder.input("x" + std::to_string(operands.size()), dtype, shape));
  builder.output(
      builder.op(op, operands, result.first, result.second, attributes));
  builder.program.set_format_version(1);
  return validate(builder.program);
}

TEST(FormatTest, ValidatorDtypeFamilies) {
  using dsp::program::BF16;
  using dsp::program::BOOL;
  using dsp::program::F16;
  using dsp::program::I32;
  const Shape v = {2, 2};
  auto axis = [](int64_t value) {
    return std::vector<dsp::program::Attribute>{ints("axis", {value})};
  };
  auto reduce = std::vector<dsp::program::Attribute>{ints("axes", {0}),
                                                     ints("keepdims", {0})};
  // Float ops take f32, f16 and bf16; every operand of one dtype.
  for (DType dtype : {F32, F16, BF16}) {
    SCOPED_TRACE(dsp::format::dtypeName(dtype));
    EXPECT_EQ(validateDtypes("exp", {{dtype, v}}, {dtype, v}), "");
    EXPECT_EQ(validateDtypes("isnan", {{dtype, v}}, {BOOL, v}), "");
    EXPECT_EQ(validateDtypes("matmul", {{dtype, v}, {dtype, v}}, {dtype, v}),
              "");
    EXPECT_EQ(validateDtypes("less", {{dtype, v}, {dtype, v}}, {BOOL, v}), "");
    EXPECT_EQ(validateDtypes("softmax", {{dtype, v}}, {dtype, v}, axis(1)), "");
    EXPECT_EQ(validateDtypes("reduce_mean", {{dtype, v}}, {dtype, {2}}, reduce),
              "");
    EXPECT_EQ(validateDtypes("attention",
                             {{dtype, {1, 1, 2, 4}},
                              {dtype, {1, 1, 3, 4}},
                              {dtype, {1, 1, 3, 4}},
                              {dtype, {2, 3}}},
                             {dtype, {1, 1, 2, 4}}, {floats("scale", {1.0})}),
              "");
  }
  // Integer arithmetic, comparison, sums and maxima take i64 and i32.
  for (DType dtype : {I64, I32}) {
    SCOPED_TRACE(dsp::format::dtypeName(dtype));
    EXPECT_EQ(validateDtypes("add", {{dtype, v}, {dtype, {2}}}, {dtype, v}),
              "");
    EXPECT_EQ(validateDtypes("greater", {{dtype, v}, {dtype, v}}, {BOOL, v}),
              "");
    EXPECT_EQ(validateDtypes("reduce_sum", {{dtype, v}}, {dtype, {2}}, reduce),
              "");
    EXPECT_EQ(validateDtypes("reduce_max", {{dtype, v}}, {dtype, {2}}, reduce),
              "");
    EXPECT_EQ(validateDtypes("gather", {{BF16, {3, 2}}, {dtype, {4}}},
                             {BF16, {4, 2}}, axis(0)),
              "");
  }
  // Cast between any two of the six.
  for (DType from : {F32, F16, BF16, I64, I32, BOOL})
    for (DType to : {F32, F16, BF16, I64, I32, BOOL})
      EXPECT_EQ(validateDtypes("cast", {{from, v}}, {to, v}), "");

  EXPECT_EQ(validateDtypes("exp", {{I32, v}}, {I32, v}),
            "instruction 0 (exp at 'node_1'): input 0 has dtype i32, expected "
            "f32 or f16 or bf16");
  EXPECT_EQ(validateDtypes("reduce_mean", {{I64, v}}, {I64, {2}}, reduce),
            "instruction 0 (reduce_mean at 'node_1'): input 0 has dtype i64, "
            "expected f32 or f16 or bf16");
  EXPECT_EQ(validateDtypes("add", {{F16, v}, {BF16, v}}, {F16, v}),
            "instruction 0 (add at 'node_1'): input 1 has dtype bf16, "
            "expected f16 like input 0");
  EXPECT_EQ(validateDtypes("matmul", {{BF16, v}, {BF16, v}}, {F32, v}),
            "instruction 0 (matmul at 'node_1'): output has dtype f32, "
            "expected bf16 like input 0");
  EXPECT_EQ(validateDtypes("layer_norm", {{F16, v}, {F32, {2}}}, {F16, v},
                           {ints("axis", {1}), floats("epsilon", {1e-5})}),
            "instruction 0 (layer_norm at 'node_1'): input 1 has dtype f32, "
            "expected f16 like input 0");
  EXPECT_EQ(validateDtypes("isnan", {{BF16, v}}, {BF16, v}),
            "instruction 0 (isnan at 'node_1'): output has dtype bf16, "
            "expected bool");
  EXPECT_EQ(validateDtypes("gather", {{F32, {3, 2}}, {F32, {4}}}, {F32, {4, 2}},
                           axis(0)),
            "instruction 0 (gather at 'node_1'): input 1 has dtype f32, "
            "expected i64 or i32");
  EXPECT_EQ(validateDtypes("and", {{BOOL, v}, {BF16, v}}, {BOOL, v}),
            "instruction 0 (and at 'node_1'): input 1 has dtype bf16, "
            "expected bool");
}

TEST(FormatTest, ValidatorChecksRingAttention) {
  auto ring = [](int64_t keyCount) {
    return validateDtypes(
        "ring_attention",
        {{F32, {1, 2, 3, 4}}, {F32, {1, 2, 3, 4}}, {F32, {1, 2, 3, 8}}},
        {F32, {1, 2, 3, 8}},
        {floats("scale", {0.5}), ints("key_count", {keyCount})});
  };
  EXPECT_EQ(ring(3), "");
  EXPECT_NE(ring(4).find("attribute 'key_count' is 4, expected a value in "
                         "[1, 3] (1 blocks of 3 keys)"),
            std::string::npos);
  EXPECT_NE(ring(0).find("'key_count'"), std::string::npos);
  EXPECT_NE(validateDtypes(
                "ring_attention",
                {{F32, {1, 2, 3, 4}}, {F32, {1, 2, 3, 4}}, {F32, {1, 2, 3, 8}}},
                {F32, {1, 2, 3, 8}}, {floats("scale", {0.5})})
                .find("'key_count'"),
            std::string::npos);
}

TEST(FormatTest, ValidatorChecksAttentionPerms) {
  // Query [B, Lq, H, D], key [H, B, Lk, D], value contiguous, result
  // [B, Lq, H, Dv]: B 1, H 2, Lq 3, Lk 5, D 4, Dv 8.
  auto attention = [](const Shape &keyPerm, const Shape &result) {
    return validateDtypes(
        "attention",
        {{F32, {1, 3, 2, 4}}, {F32, {2, 1, 5, 4}}, {F32, {1, 2, 5, 8}}},
        {F32, result},
        {floats("scale", {0.5}), ints("query_perm", {0, 2, 1, 3}),
         ints("key_perm", keyPerm), ints("output_perm", {0, 2, 1, 3})});
  };
  EXPECT_EQ(attention({1, 0, 2, 3}, {1, 3, 2, 8}), "");
  EXPECT_NE(attention({1, 0, 3, 2}, {1, 3, 2, 8})
                .find("attribute 'key_perm' [1,0,3,2] moves the head dim, "
                      "which must stay last"),
            std::string::npos);
  EXPECT_NE(attention({1, 1, 2, 3}, {1, 3, 2, 8})
                .find("attribute 'key_perm' [1,1,2,3] is not a permutation "
                      "of 4 dims"),
            std::string::npos);
  EXPECT_NE(attention({0, 1, 2, 3}, {1, 3, 2, 8})
                .find("input 1 (keys) is attended as [2,1,5,4], expected "
                      "[1,2,Lk,4]"),
            std::string::npos);
  EXPECT_NE(attention({1, 0, 2, 3}, {1, 2, 3, 8}).find("output"),
            std::string::npos);
  // Value read at index 1 of dim 2 of a [B, H, 3, Lk, Dv] tensor.
  auto selected = [](const Shape &value, const Shape &select) {
    return validateDtypes(
        "attention", {{F32, {1, 2, 3, 4}}, {F32, {1, 2, 5, 4}}, {F32, value}},
        {F32, {1, 2, 3, 8}},
        {floats("scale", {0.5}), ints("value_select", select)});
  };
  EXPECT_EQ(selected({1, 2, 3, 5, 8}, {2, 1}), "");
  EXPECT_NE(selected({1, 2, 3, 5, 8}, {2, 3})
                .find("attribute 'value_select' [2,3] is not [dim, index] of "
                      "a dim of input 2 [1,2,3,5,8]"),
            std::string::npos);
  EXPECT_NE(selected({1, 2, 3, 5, 8}, {5, 0}).find("'value_select' [5,0]"),
            std::string::npos);
  EXPECT_NE(selected({1, 2, 3, 5, 8}, {-1, 0}).find("'value_select' [-1,0]"),
            std::string::npos);
  EXPECT_NE(selected({1, 2, 5, 8}, {2, 1}).find("expected rank 5"),
            std::string::npos);
  EXPECT_NE(selected({1, 2, 3, 5, 8}, {2}).find("'value_select'"),
            std::string::npos);
  EXPECT_NE(selected({1, 2, 3, 5, 8}, {1, 1}).find("input 2 (values)"),
            std::string::npos);
  // A ring passes contiguous blocks: it takes no perms.
  EXPECT_NE(validateDtypes(
                "ring_attention",
                {{F32, {1, 2, 3, 4}}, {F32, {1, 2, 3, 4}}, {F32, {1, 2, 3, 8}}},
                {F32, {1, 2, 3, 8}},
                {floats("scale", {0.5}), ints("key_count", {3}),
                 ints("query_perm", {0, 1, 2, 3})})
                .find("unknown attribute 'query_perm'"),
            std::string::npos);
}

TEST(FormatTest, ValidatorRejectsHostileNumbers) {
  ProgramBuilder builder;
  uint32_t x = builder.input("x", F32, {4});
  builder.output(builder.op("relu", {x}, F32, {4}));
  builder.program.set_format_version(1);
  ASSERT_EQ(validate(builder.program), "");

  // An arena whose rounded-up size wraps to zero.
  for (uint64_t arena : {UINT64_MAX, UINT64_MAX - 62, uint64_t(1) << 57}) {
    dsp::program::Program program = builder.program;
    program.set_arena_bytes(arena);
    EXPECT_EQ(validate(program), "arena_bytes is " + std::to_string(arena) +
                                     ", more than the limit of 2^56");
  }
  // Rank counts that are negative as an int, or too many.
  for (uint32_t ranks : {0u, 65537u, 100000u, 1u << 31, UINT32_MAX}) {
    dsp::program::Program program = builder.program;
    program.set_ranks(ranks);
    EXPECT_EQ(validate(program), "program ranks is " + std::to_string(ranks) +
                                     ", expected 1 to 65536");
  }
  dsp::program::Program most = builder.program;
  most.set_ranks(65536);
  EXPECT_EQ(validate(most), "");

  // Attributes whose arithmetic overflows int64.
  const int64_t big = INT64_MAX;
  auto slice = [&](int64_t start, int64_t limit, int64_t stride) {
    return validateOp("slice", F32, {8}, {1},
                      {ints("starts", {start}), ints("limits", {limit}),
                       ints("strides", {stride})});
  };
  EXPECT_NE(slice(-2, big, 1).find("are too far apart"), std::string::npos);
  EXPECT_NE(
      slice(0, big, 3).find("elements 0..9223372036854775806 lie outside"),
      std::string::npos);
  EXPECT_NE(slice(7, -big + 7, -1).find("lie outside [0, 8)"),
            std::string::npos);
  EXPECT_NE(validateOp("tile", F32, {2}, {2}, {ints("repeats", {big / 2 + 1})})
                .find("negative or too large"),
            std::string::npos);
  EXPECT_NE(validateOp("concat", dsp::program::BOOL, {int64_t(1) << 48},
                       {int64_t(1) << 48}, {ints("axis", {0})}, 32769)
                .find("add up to more than 2^63"),
            std::string::npos);
  ProgramBuilder conv;
  uint32_t image = conv.input("image", F32, {1, 1, 4});
  uint32_t kernel = conv.input("kernel", F32, {1, 1, 3});
  conv.output(conv.op("conv", {image, kernel}, F32, {1, 1, 2},
                      {ints("strides", {1}), ints("dilations", {big}),
                       ints("pads", {0, 0}), ints("group", {1})}));
  conv.program.set_format_version(1);
  EXPECT_NE(validate(conv.program).find("pads or dilations are too large"),
            std::string::npos);
}

TEST(FormatTest, LivenessCheck) {
  // a -> b -> c: a is dead once b exists, so c may reuse a's bytes but b
  // may not.
  ProgramBuilder builder;
  uint32_t a = builder.input("a", F32, {16});
  uint32_t b = builder.op("neg", {a}, F32, {16});
  uint32_t c = builder.op("exp", {b}, F32, {16});
  builder.output(c);
  builder.program.set_format_version(1);
  dsp::program::Program program = builder.program;
  program.mutable_tensors(c)->set_offset(program.tensors(a).offset());
  EXPECT_EQ(validate(program), "");

  program = builder.program;
  program.mutable_tensors(b)->set_offset(program.tensors(a).offset() + 8);
  std::string error = validate(program);
  EXPECT_NE(error.find("overlap in the arena while both are live"),
            std::string::npos)
      << error;

  // Outputs stay live to the end: nothing may reuse them.
  ProgramBuilder longer;
  uint32_t x = longer.input("x", F32, {16});
  uint32_t y = longer.op("neg", {x}, F32, {16});
  uint32_t z = longer.op("exp", {x}, F32, {16});
  longer.output(y);
  longer.output(z);
  longer.program.set_format_version(1);
  longer.program.mutable_tensors(z)->set_offset(
      longer.program.tensors(y).offset());
  EXPECT_NE(validate(longer.program).find("overlap"), std::string::npos);

  // A reshape's output may take exactly its input's bytes, even while the
  // input is read later, and a chain of reshapes may share them too; any
  // other overlap with them stays an error.
  ProgramBuilder views;
  uint32_t v0 = views.input("v0", F32, {2, 8});
  uint32_t v1 = views.op("reshape", {v0}, F32, {16});
  uint32_t v2 = views.op("reshape", {v1}, F32, {2, 8});
  uint32_t v3 = views.op("add", {v2, v0}, F32, {2, 8});
  views.output(v3);
  views.program.set_format_version(1);
  program = views.program;
  program.mutable_tensors(v1)->set_offset(program.tensors(v0).offset());
  program.mutable_tensors(v2)->set_offset(program.tensors(v0).offset());
  EXPECT_EQ(validate(program), "");
  program.mutable_tensors(v3)->set_offset(program.tensors(v0).offset());
  EXPECT_NE(validate(program).find("overlap"), std::string::npos);
  program = views.program;
  program.mutable_tensors(v1)->set_offset(program.tensors(v0).offset() + 8);
  EXPECT_NE(validate(program).find("overlap"), std::string::npos);

  // A tensor read before it is written.
  program = builder.program;
  std::swap(*program.mutable_instructions(0), *program.mutable_instructions(1));
  EXPECT_NE(validate(program).find("before any instruction writes it"),
            std::string::npos);
}

TEST(FormatTest, FuzzedFilesNeverCrash) {
  ProgramBuilder builder = smallModel();
  std::string path = temporaryPath("fuzz_source.dspx");
  ASSERT_EQ(builder.write(path), "");
  const std::vector<char> good = readBytes(path);
  std::string fuzzed = temporaryPath("fuzzed.dspx");
  std::mt19937 generator(1234);
  int loaded = 0, rejected = 0;
  std::vector<float> x = randomFloats(6, 9);
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::vector<char> bytes = good;
    switch (iteration % 3) {
    case 0: // truncate
      bytes.resize(generator() % bytes.size());
      break;
    case 1: // flip bits in the header or the program message
      for (int flips = 1 + generator() % 4; flips > 0; --flips)
        bytes[generator() % std::min<size_t>(bytes.size(), 400)] ^=
            static_cast<char>(1 << (generator() % 8));
      break;
    default: // random bytes anywhere
      for (int flips = 1 + generator() % 8; flips > 0; --flips)
        bytes[generator() % bytes.size()] = static_cast<char>(generator());
      break;
    }
    writeBytes(fuzzed, bytes);
    std::string error;
    std::shared_ptr<const ProgramFile> file = ProgramFile::open(fuzzed, error);
    if (!file) {
      EXPECT_EQ(error.rfind(fuzzed + ": ", 0), 0u) << error;
      ++rejected;
      continue;
    }
    // Whatever passes validation must run without crashing.
    ++loaded;
    dsp::runtime::SessionOptions options;
    options.threads = 2;
    auto session = dsp::runtime::Session::create(file, options, error);
    if (file->program().ranks() != 1) {
      // A multi-rank program needs a communicator of its size.
      EXPECT_FALSE(session);
      EXPECT_NE(error.find("give the session a communicator"),
                std::string::npos)
          << error;
      continue;
    }
    ASSERT_TRUE(session) << error;
    for (size_t i = 0; i < session->numInputs(); ++i) {
      const dsp::runtime::TensorInfo &info = session->inputInfo(i);
      std::vector<uint8_t> zeros(info.bytes);
      ASSERT_TRUE(
          session
              ->bindInput(i, info.dtype, info.shape, zeros.data(), info.bytes)
              .ok());
    }
    (void)session->run();
  }
  EXPECT_GT(rejected, 1000);
  EXPECT_GT(loaded, 0);
}

TEST(FormatTest, WeightsBeyondTwoGiB) {
  // 2.1 GiB of zero weights written as a hole, then a small weight placed
  // past 2^31 in the blob; the run only touches a few elements of each.
  const int64_t bigCount = (int64_t(21) << 30) / 10 / 4;
  ProgramBuilder builder;
  uint32_t big = builder.zeroWeight("big", F32, {bigCount});
  uint32_t tail = builder.weight("tail", f32({4}, {10, 11, 12, 13}));
  uint32_t indices = builder.input("indices", I64, {3});
  uint32_t picked =
      builder.op("gather", {tail, indices}, F32, {3}, {ints("axis", {0})});
  uint32_t end = builder.op("slice", {big}, F32, {2},
                            {ints("starts", {bigCount - 2}),
                             ints("limits", {bigCount}), ints("strides", {1})});
  uint32_t sum = builder.op(
      "add",
      {picked, builder.op("reduce_sum", {end}, F32, {1},
                          {ints("axes", {0}), ints("keepdims", {1})})},
      F32, {3});
  builder.output(sum);
  std::string path = temporaryPath("huge.dspx");
  ASSERT_EQ(builder.write(path), "");

  std::string error;
  std::shared_ptr<const ProgramFile> file = ProgramFile::open(path, error);
  ASSERT_TRUE(file) << error;
  EXPECT_GT(file->program().tensors(tail).offset(), uint64_t(1) << 31);
  auto session = dsp::runtime::Session::create(file, {}, error);
  ASSERT_TRUE(session) << error;
  std::vector<int64_t> chosen = {3, 0, -2};
  ASSERT_TRUE(session->bindInput("indices", I64, {3}, chosen.data(), 24).ok());
  ASSERT_TRUE(session->run().ok());
  std::vector<float> result(3);
  ASSERT_TRUE(session->readOutput(0, result.data(), 12).ok());
  EXPECT_EQ(result, (std::vector<float>{13, 10, 12}));
  session.reset();
  file.reset();
  std::remove(path.c_str());
}

} // namespace

TEST(FormatTest, CollectiveStaging) {
  using dsp::format::allGatherStagingSlots;
  using dsp::format::collectiveStagingBytes;
  using dsp::format::Layout;
  using dsp::format::Op;
  // [8, 6] f32 on 4 ranks, from rows (dim 0) to columns padded to 8 (dim 1).
  Layout rows, columns;
  rows.kind = columns.kind = Layout::Split;
  rows.dim = 0;
  rows.size = 8;
  columns.dim = 1;
  columns.size = 6;
  columns.pad = 2;
  std::vector<int64_t> global = {8, 6};
  // A chunk is 2 rows of 2 columns; a pack to send and one to receive.
  EXPECT_EQ(
      collectiveStagingBytes(Op::AllToAll, global, 4, rows, columns, 4, 0),
      2u * 4 * 4 * 4);
  // Blocks of whole rows land in place in the gathered tensor: no staging.
  EXPECT_EQ(
      collectiveStagingBytes(Op::AllGather, global, 4, rows, Layout(), 4, 1),
      0u);
  EXPECT_EQ(allGatherStagingSlots(global, 4, rows, 4, 1),
            std::vector<int64_t>({-1, -1, -1, -1}));
  // Blocks of columns do not: each other member's 8 x 2 block is staged,
  // in slots numbered past the gathering member.
  EXPECT_EQ(allGatherStagingSlots(global, 4, columns, 4, 1),
            std::vector<int64_t>({0, -1, 1, 2}));
  EXPECT_EQ(
      collectiveStagingBytes(Op::AllGather, global, 4, columns, Layout(), 4, 1),
      3u * 16 * 4);
  EXPECT_EQ(collectiveStagingBytes(Op::AllGather, global, 4, columns, Layout(),
                                   4, -1),
            3u * 16 * 4);
  // 48 elements in chunks of 12, twice.
  EXPECT_EQ(collectiveStagingBytes(Op::AllReduce, global, 4, Layout(), Layout(),
                                   4, 0),
            2u * 4 * 12 * 4);
  EXPECT_EQ(
      collectiveStagingBytes(Op::LocalSlice, global, 4, Layout(), rows, 4, 0),
      0u);
  // A size past size_t saturates, so that the session refuses it.
  std::vector<int64_t> huge = {int64_t(1) << 24, int64_t(1) << 40};
  Layout hugeColumns = columns;
  hugeColumns.size = huge[1];
  hugeColumns.pad = 0;
  EXPECT_EQ(collectiveStagingBytes(Op::AllGather, huge, 8, hugeColumns,
                                   Layout(), 2, 0),
            SIZE_MAX);
}
