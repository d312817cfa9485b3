//===- FusedKernelTest.cpp - Fused bodies: validation and kernels ---------===//
//
// A `fused` instruction against the same computation in double precision:
// on the cpu backend's one-pass kernel, at several thread counts, in f32 and
// bf16; and as the kernels of its steps, the way the cuda backend runs a
// cpu program's bodies, there on the cpu backend's kernels.
//
//===----------------------------------------------------------------------===//

#include "FusedSteps.h"
#include "TestUtil.h"

#include "dsp/Runtime/Communicator.h"

#include <cmath>
#include <limits>

namespace dsp {
namespace test {
namespace {

using program::BF16;
using program::BOOL;
using program::F32;
using program::I64;

const float kInfinity = std::numeric_limits<float>::infinity();

/// Builds a program of one `fused` instruction: its inputs are graph
/// inputs, its results graph outputs.
class FusedBuilder {
public:
  /// A graph input and the body value that stands for it.
  uint32_t input(const HostTensor &tensor) {
    inputs.push_back(tensor);
    operands.push_back(builder.input("in" + std::to_string(operands.size()),
                                     tensor.dtype, tensor.shape));
    return addValue(tensor.dtype, tensor.shape, dsp::program::INPUT);
  }

  /// A splat constant of the body: call after the inputs, before the steps.
  uint32_t constant(float element, DType dtype = F32, const Shape &shape = {}) {
    uint32_t index = addValue(dtype, shape, dsp::program::WEIGHT);
    HostTensor value =
        dtype == F32 ? f32({}, {element}) : float16(dtype, {}, {element});
    body.mutable_values(index)->mutable_splat()->set_element(
        std::string(value.bytes.begin(), value.bytes.end()));
    return index;
  }

  uint32_t step(const std::string &op, const std::vector<uint32_t> &reads,
                DType dtype, const Shape &shape,
                const std::vector<program::Attribute> &attributes = {}) {
    uint32_t index = addValue(dtype, shape, dsp::program::INTERMEDIATE);
    program::Instruction &step = *body.add_steps();
    step.set_op(op);
    for (uint32_t read : reads)
      step.add_inputs(read);
    step.add_outputs(index);
    for (const program::Attribute &attribute : attributes)
      *step.add_attributes() = attribute;
    return index;
  }

  /// The instruction, with `results` as its outputs; the program is valid
  /// unless the body is not.
  program::Program finish(const std::vector<uint32_t> &results) {
    program::Instruction &fused = *builder.program.add_instructions();
    fused.set_op("fused");
    fused.set_location("node_fused");
    for (uint32_t operand : operands)
      fused.add_inputs(operand);
    for (uint32_t result : results) {
      const program::Tensor &value = body.values(result);
      uint32_t output =
          builder.tensor("out" + std::to_string(result), value.dtype(),
                         format::tensorShape(value), program::OUTPUT);
      fused.add_outputs(output);
      builder.program.add_outputs(output);
      body.add_results(result);
    }
    *fused.mutable_body() = body;
    builder.program.set_format_version(format::kMajorVersion);
    return builder.program;
  }

  std::vector<HostTensor> inputs;

private:
  uint32_t addValue(DType dtype, const Shape &shape,
                    dsp::program::TensorKind kind) {
    program::Tensor &value = *body.add_values();
    value.set_dtype(dtype);
    for (int64_t d : shape)
      value.add_shape(d);
    value.set_kind(kind);
    return body.values_size() - 1;
  }

  ProgramBuilder builder;
  std::vector<uint32_t> operands;
  program::FusedBody body;
};

/// Runs `program` with `inputs` on `threads` threads; its outputs as f32.
std::vector<std::vector<float>> run(const program::Program &program,
                                    const std::vector<HostTensor> &inputs,
                                    unsigned threads) {
  std::string path = temporaryPath("fused.dspx");
  std::string error = format::writeProgramFile(
      path, const_cast<program::Program &>(program), {});
  EXPECT_EQ(error, "");
  std::vector<std::vector<float>> outputs;
  for (const HostTensor &output : runProgramFile(path, inputs, threads))
    outputs.push_back(output.floats());
  return outputs;
}

/// Runs `program`'s fused instruction as the kernels of its steps, on the
/// cpu backend's kernels; its outputs as f32.
std::vector<std::vector<float>>
runSteps(const program::Program &program,
         const std::vector<HostTensor> &inputs) {
  std::vector<std::shared_ptr<runtime::Communicator>> group;
  EXPECT_TRUE(runtime::createLocalCommunicators(1, {}, group).ok());
  runtime::BackendOptions options;
  options.communicator = group[0].get();
  options.threads = 2;
  std::unique_ptr<runtime::Backend> backend;
  EXPECT_TRUE(runtime::createBackend("cpu", options, backend).ok());
  const program::Instruction &fused = program.instructions(0);
  std::unique_ptr<runtime::Kernel> kernel;
  runtime::Status status =
      runtime::createFusedStepsKernel(*backend, program, fused, kernel);
  EXPECT_TRUE(status.ok()) << status.message();
  if (!kernel)
    return {};
  std::vector<const void *> in;
  for (const HostTensor &tensor : inputs)
    in.push_back(tensor.bytes.data());
  std::vector<HostTensor> results;
  for (uint32_t output : fused.outputs()) {
    const program::Tensor &tensor = program.tensors(output);
    results.push_back({tensor.dtype(), format::tensorShape(tensor),
                       std::vector<uint8_t>(tensor.bytes())});
  }
  std::vector<void *> out;
  for (HostTensor &result : results)
    out.push_back(result.bytes.data());
  std::vector<uint8_t> workspace(kernel->workspaceBytes() + 1);
  status = kernel->run({in.data(), out[0], out.data(), workspace.data()});
  EXPECT_TRUE(status.ok()) << status.message();
  std::vector<std::vector<float>> floats;
  for (const HostTensor &result : results)
    floats.push_back(result.floats());
  return floats;
}

double gelu(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }

/// t = x + bias, y = gelu(t) * (1 + scale) + r over [B, L, C], the scale
/// [B, 1, C], the bias [C]: both t (read after the group) and y are
/// results. With C = 5 a chunk holds several runs, with C = 70 a piece of
/// one.
program::Program modulation(DType dtype, const Shape &space,
                            std::vector<HostTensor> &inputs,
                            std::vector<std::vector<double>> &expected) {
  const int64_t b = space[0], l = space[1], c = space[2];
  auto values = [&](const Shape &shape, unsigned seed) {
    std::vector<float> v = randomFloats(count(shape), seed);
    return dtype == F32 ? f32(shape, v) : float16(dtype, shape, v);
  };
  FusedBuilder fused;
  uint32_t x = fused.input(values(space, 1));
  uint32_t bias = fused.input(values({c}, 2));
  uint32_t scale = fused.input(values({b, 1, c}, 3));
  uint32_t r = fused.input(values(space, 4));
  uint32_t one = fused.constant(1.0f, dtype);
  uint32_t t = fused.step("add", {x, bias}, dtype, space);
  uint32_t g =
      fused.step("gelu", {t}, dtype, space, {str("approximate", "none")});
  uint32_t s1 = fused.step("add", {one, scale}, dtype, {b, 1, c});
  uint32_t m = fused.step("mul", {g, s1}, dtype, space);
  uint32_t y = fused.step("add", {m, r}, dtype, space);
  program::Program program = fused.finish({t, y});
  inputs = fused.inputs;

  std::vector<float> xs = inputs[0].floats(), biases = inputs[1].floats(),
                     scales = inputs[2].floats(), rs = inputs[3].floats();
  expected.assign(2, std::vector<double>(count(space)));
  for (int64_t i = 0; i < count(space); ++i) {
    int64_t bi = i / (l * c), ci = i % c;
    double tv = double(xs[i]) + biases[ci];
    expected[0][i] = tv;
    expected[1][i] = gelu(tv) * (1 + double(scales[bi * c + ci])) + rs[i];
  }
  return program;
}

void expectClose(const std::vector<float> &got,
                 const std::vector<double> &expected, double tolerance) {
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], expected[i],
                tolerance * std::max(1.0, std::fabs(expected[i])))
        << "at element " << i;
}

TEST(FusedKernelTest, ElementwiseChainWithBroadcasts) {
  for (DType dtype : {F32, BF16})
    for (Shape space : {Shape{2, 37, 5}, Shape{2, 37, 70}, Shape{1, 3, 2500}})
      for (unsigned threads : {1u, 3u}) {
        SCOPED_TRACE(std::string(format::dtypeName(dtype)) + " " +
                     format::shapeString(space) + " threads " +
                     std::to_string(threads));
        std::vector<HostTensor> inputs;
        std::vector<std::vector<double>> expected;
        program::Program program = modulation(dtype, space, inputs, expected);
        ASSERT_EQ(format::validateProgram(program, 0), "");
        std::vector<std::vector<float>> got = run(program, inputs, threads);
        ASSERT_EQ(got.size(), 2u);
        // bf16 results are rounded once, from the f32 computation.
        double tolerance = dtype == F32 ? 1e-5 : 1.0 / 128;
        expectClose(got[0], expected[0], tolerance);
        expectClose(got[1], expected[1], tolerance);
        if (dtype == F32) {
          got = runSteps(program, inputs);
          ASSERT_EQ(got.size(), 2u);
          expectClose(got[0], expected[0], tolerance);
          expectClose(got[1], expected[1], tolerance);
        }
      }
}

/// h = x + r, n = layer_norm(h) over C, y = n * (1 + scale) + shift: the
/// residual stream, a norm and the adaLN modulation of a DiT block; h and
/// y are results, the norm's bias a splat constant.
TEST(FusedKernelTest, LayerNormBetweenElementwiseOps) {
  const int64_t b = 2, l = 9, c = 48;
  const Shape space = {b, l, c};
  for (DType dtype : {F32, BF16}) {
    SCOPED_TRACE(format::dtypeName(dtype));
    auto values = [&](const Shape &shape, unsigned seed, float low = -1,
                      float high = 1) {
      std::vector<float> v = randomFloats(count(shape), seed, low, high);
      return dtype == F32 ? f32(shape, v) : float16(dtype, shape, v);
    };
    FusedBuilder fused;
    uint32_t x = fused.input(values(space, 5, 2, 4));
    uint32_t r = fused.input(values(space, 6));
    uint32_t weight = fused.input(values({c}, 7, 0.5, 1.5));
    uint32_t scale = fused.input(values({b, 1, c}, 8));
    uint32_t shift = fused.input(values({b, 1, c}, 9));
    // A constant bias, which the kernel expands to a row.
    uint32_t bias = fused.constant(0.25f, dtype, {c});
    uint32_t h = fused.step("add", {x, r}, dtype, space);
    uint32_t n = fused.step("layer_norm", {h, weight, bias}, dtype, space,
                            {ints("axis", {2}), floats("epsilon", {1e-5})});
    uint32_t s1 = fused.step("mul", {n, scale}, dtype, space);
    uint32_t m = fused.step("add", {s1, n}, dtype, space);
    uint32_t y = fused.step("add", {m, shift}, dtype, space);
    program::Program program = fused.finish({h, y});
    ASSERT_EQ(format::validateProgram(program, 0), "");

    std::vector<float> xs = fused.inputs[0].floats(),
                       rs = fused.inputs[1].floats(),
                       ws = fused.inputs[2].floats(),
                       scales = fused.inputs[3].floats(),
                       shifts = fused.inputs[4].floats();
    std::vector<std::vector<double>> expected(
        2, std::vector<double>(count(space)));
    for (int64_t row = 0; row < b * l; ++row) {
      double mean = 0, squares = 0;
      for (int64_t j = 0; j < c; ++j)
        mean += double(xs[row * c + j]) + rs[row * c + j];
      mean /= c;
      for (int64_t j = 0; j < c; ++j) {
        double d = double(xs[row * c + j]) + rs[row * c + j] - mean;
        squares += d * d;
      }
      double inverse = 1 / std::sqrt(squares / c + 1e-5);
      for (int64_t j = 0; j < c; ++j) {
        int64_t i = row * c + j, bj = (row / l) * c + j;
        double hv = double(xs[i]) + rs[i];
        double nv = (hv - mean) * inverse * ws[j] + 0.25;
        expected[0][i] = hv;
        expected[1][i] = nv * scales[bj] + nv + shifts[bj];
      }
    }
    double tolerance = dtype == F32 ? 1e-4 : 1.0 / 64;
    std::vector<std::vector<float>> got;
    for (unsigned threads : {1u, 2u}) {
      got = run(program, fused.inputs, threads);
      ASSERT_EQ(got.size(), 2u);
      expectClose(got[0], expected[0], tolerance);
      expectClose(got[1], expected[1], tolerance);
    }
    got = runSteps(program, fused.inputs);
    ASSERT_EQ(got.size(), 2u);
    // Step by step, bf16 rounds after each step.
    expectClose(got[1], expected[1], dtype == F32 ? 1e-4 : 1.0 / 16);
  }
}

/// softmax(x * scale + mask) over the last dim, a mask row [L] shared by
/// every row, with one row masked out entirely: zeros.
TEST(FusedKernelTest, SoftmaxOfAScaledMaskedRow) {
  const int64_t rows = 6, l = 11;
  std::vector<float> mask(l, 0.0f);
  mask[3] = -kInfinity;
  std::vector<float> xs = randomFloats(rows * l, 10, -3, 3);
  // Row 2 is masked out: every score -inf.
  for (int64_t j = 0; j < l; ++j)
    xs[2 * l + j] = -kInfinity;
  FusedBuilder fused;
  uint32_t x = fused.input(f32({rows, l}, xs));
  uint32_t m = fused.input(f32({l}, mask));
  uint32_t half = fused.constant(0.5f);
  uint32_t scaled = fused.step("mul", {x, half}, F32, {rows, l});
  uint32_t masked = fused.step("add", {scaled, m}, F32, {rows, l});
  uint32_t p =
      fused.step("softmax", {masked}, F32, {rows, l}, {ints("axis", {1})});
  program::Program program = fused.finish({p});
  ASSERT_EQ(format::validateProgram(program, 0), "");
  std::vector<double> expected(rows * l, 0.0);
  for (int64_t row = 0; row < rows; ++row) {
    if (row == 2)
      continue;
    double maximum = -1e300, sum = 0;
    for (int64_t j = 0; j < l; ++j)
      if (j != 3)
        maximum = std::max(maximum, 0.5 * xs[row * l + j]);
    for (int64_t j = 0; j < l; ++j)
      if (j != 3)
        sum += std::exp(0.5 * xs[row * l + j] - maximum);
    for (int64_t j = 0; j < l; ++j)
      expected[row * l + j] =
          j == 3 ? 0.0 : std::exp(0.5 * xs[row * l + j] - maximum) / sum;
  }
  std::vector<std::vector<float>> got = run(program, fused.inputs, 2);
  ASSERT_EQ(got.size(), 1u);
  expectClose(got[0], expected, 1e-6);
}

/// Integer and boolean values in one body: where(i > k, x, -x) with i
/// an i64 [N, 1] index column and k an i64 [M] row, cast to f32 after.
TEST(FusedKernelTest, IntegerAndBooleanValues) {
  const int64_t n = 7, m = 9;
  std::vector<int64_t> column(n), row(m);
  for (int64_t i = 0; i < n; ++i)
    column[i] = i * 3 - 5;
  for (int64_t j = 0; j < m; ++j)
    row[j] = 2 * j - 6;
  std::vector<float> xs = randomFloats(n * m, 11);
  FusedBuilder fused;
  uint32_t i = fused.input(i64({n, 1}, column));
  uint32_t k = fused.input(i64({m}, row));
  uint32_t x = fused.input(f32({n, m}, xs));
  uint32_t greater = fused.step("greater", {i, k}, BOOL, {n, m});
  uint32_t negated = fused.step("neg", {x}, F32, {n, m});
  uint32_t chosen = fused.step("where", {greater, x, negated}, F32, {n, m});
  uint32_t product = fused.step("mul", {i, k}, I64, {n, m});
  uint32_t widened = fused.step("cast", {product}, F32, {n, m});
  uint32_t sum = fused.step("add", {chosen, widened}, F32, {n, m});
  program::Program program = fused.finish({sum});
  ASSERT_EQ(format::validateProgram(program, 0), "");
  std::vector<double> expected(n * m);
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < m; ++b)
      expected[a * m + b] =
          (column[a] > row[b] ? xs[a * m + b] : -xs[a * m + b]) +
          double(column[a] * row[b]);
  std::vector<std::vector<float>> got = run(program, fused.inputs, 2);
  ASSERT_EQ(got.size(), 1u);
  expectClose(got[0], expected, 1e-6);
  got = runSteps(program, fused.inputs);
  ASSERT_EQ(got.size(), 1u);
  expectClose(got[0], expected, 1e-6);
}

TEST(FusedKernelTest, ValidatorChecksTheBody) {
  std::vector<HostTensor> inputs;
  std::vector<std::vector<double>> expected;
  const program::Program valid = modulation(F32, {2, 3, 4}, inputs, expected);
  ASSERT_EQ(format::validateProgram(valid, 0), "");
  auto problem = [&](auto mutate) {
    program::Program program = valid;
    mutate(*program.mutable_instructions(0));
    return format::validateProgram(program, 0);
  };
  auto expectProblem = [&](auto mutate, const std::string &expected) {
    std::string found = problem(mutate);
    EXPECT_NE(found.find(expected), std::string::npos) << found;
    EXPECT_EQ(found.rfind("instruction 0 (fused at 'node_fused'): ", 0), 0u)
        << found;
  };
  using Instruction = program::Instruction;
  expectProblem([](Instruction &i) { i.clear_body(); }, "has no body");
  expectProblem([](Instruction &i) { i.mutable_body()->clear_steps(); },
                "expected at least 1 step");
  expectProblem(
      [](Instruction &i) {
        i.mutable_body()->mutable_values(0)->set_dtype(BF16);
      },
      "body value 0 is bf16 [2,3,4], but input 0 is f32 [2,3,4]");
  expectProblem(
      [](Instruction &i) { i.mutable_body()->mutable_values(1)->add_shape(9); },
      "body value 1 has shape [4,9], which does not broadcast to the "
      "outputs' [2,3,4]");
  expectProblem(
      [](Instruction &i) {
        i.mutable_body()->mutable_values(4)->clear_splat();
      },
      "body value 4 is a constant without a splat element");
  expectProblem(
      [](Instruction &i) {
        i.mutable_body()->mutable_values(4)->mutable_splat()->set_element("x");
      },
      "body value 4: a splat weight's element has 1 bytes, expected 4");
  expectProblem(
      [](Instruction &i) {
        i.mutable_body()->mutable_steps(1)->set_inputs(0, 7);
      },
      "body step 1 (gelu): reads value 7, which no earlier step or input "
      "holds");
  expectProblem(
      [](Instruction &i) {
        i.mutable_body()->mutable_steps(0)->set_outputs(0, 6);
      },
      "body step 0 (add): has 2 inputs and 1 outputs, expected one output, "
      "value 5");
  expectProblem(
      [](Instruction &i) {
        i.mutable_body()->mutable_steps(0)->set_op("matmul");
      },
      "body step 0 (matmul): is not an element-wise op, layer_norm or "
      "softmax");
  expectProblem(
      [](Instruction &i) {
        *i.mutable_body()->mutable_steps(0)->mutable_body() =
            program::FusedBody();
      },
      "body step 0 (add): has a body of its own");
  expectProblem(
      [](Instruction &i) {
        i.mutable_body()->mutable_steps(1)->clear_attributes();
        *i.mutable_body()->mutable_steps(1)->add_attributes() =
            str("approximate", "cubic");
      },
      "body step 1 (gelu): ");
  expectProblem(
      [](Instruction &i) {
        i.mutable_body()->mutable_values(8)->set_dtype(BF16);
      },
      "body step 3 (mul): ");
  expectProblem([](Instruction &i) { i.mutable_body()->set_results(1, 5); },
                "body result 1 is value 5, expected a step output not "
                "yielded before");
  expectProblem([](Instruction &i) { i.mutable_body()->set_results(1, 0); },
                "body result 1 is value 0");
  expectProblem([](Instruction &i) { i.mutable_body()->add_results(9); },
                "body has 3 results for 2 outputs");
  // A body on another op is refused.
  ProgramBuilder builder;
  uint32_t x = builder.input("x", F32, {4});
  builder.output(builder.op("relu", {x}, F32, {4}));
  builder.program.set_format_version(format::kMajorVersion);
  *builder.program.mutable_instructions(0)->mutable_body() =
      valid.instructions(0).body();
  EXPECT_EQ(format::validateProgram(builder.program, 0),
            "instruction 0 (relu at 'node_1'): has a body, which only a "
            "fused instruction has");
}

/// A row op reduces the last dim alone, and a body has at most one.
TEST(FusedKernelTest, ValidatorChecksTheRowOp) {
  auto softmaxes = [](int64_t axis, int count) {
    FusedBuilder fused;
    uint32_t x = fused.input(f32({3, 4}, randomFloats(12, 1)));
    for (int i = 0; i < count; ++i)
      x = fused.step("softmax", {x}, F32, {3, 4}, {ints("axis", {axis})});
    return format::validateProgram(fused.finish({x}), 0);
  };
  EXPECT_EQ(softmaxes(1, 1), "");
  EXPECT_NE(softmaxes(0, 1).find("body step 0 (softmax): reduces axis 0 of "
                                 "[3,4], expected the last dim of the "
                                 "outputs' [3,4]"),
            std::string::npos);
  EXPECT_NE(softmaxes(1, 2).find("body step 1 (softmax): is a second row op; "
                                 "a body has at most one"),
            std::string::npos);
}

} // namespace
} // namespace test
} // namespace dsp
