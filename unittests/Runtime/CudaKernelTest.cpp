//===- CudaKernelTest.cpp - The cuda backend against the cpu backend ------===//
//
// Each kernel family runs the same small program on both backends: f32
// within 1e-5 (relative, or absolute below 1), f16 and bf16 within 2e-2 of
// the cpu's f32 result on the same rounded inputs. Programs the validator
// does not take in f16 and bf16 yet go to the backend directly. Without a
// GPU these tests skip; the `kernel` op's validation runs everywhere.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "dsp/Format/Checked.h"
#include "dsp/Runtime/Backend.h"
#include "dsp/Runtime/Communicator.h"

#include <cmath>

using namespace dsp::test;
using dsp::program::BF16;
using dsp::program::BOOL;
using dsp::program::F16;
using dsp::program::F32;
using dsp::program::I64;

namespace {

#define REQUIRE_CUDA()                                                         \
  do {                                                                         \
    if (!hasCudaDevice())                                                      \
      GTEST_SKIP() << "no CUDA device";                                        \
  } while (false)

/// Runs the op on both backends and compares the results.
void expectSameOnCuda(
    const std::string &op, const std::vector<HostTensor> &inputs, DType dtype,
    const Shape &shape,
    const std::vector<dsp::program::Attribute> &attributes = {}) {
  SCOPED_TRACE(op);
  HostTensor cpu = runOp(op, inputs, dtype, shape, attributes, 1, "cpu");
  HostTensor cuda = runOp(op, inputs, dtype, shape, attributes, 1, "cuda");
  if (dtype == F32)
    expectNear(cuda.floats(), cpu.floats());
  else
    EXPECT_EQ(cuda.bytes, cpu.bytes);
}

TEST(CudaKernelTest, Unary) {
  REQUIRE_CUDA();
  HostTensor x = f32({3, 5}, randomFloats(15, 1, -3, 3));
  HostTensor positive = f32({3, 5}, randomFloats(15, 2, 0.1f, 4));
  for (const char *op : {"neg", "exp", "abs", "erf", "tanh", "sigmoid", "relu",
                         "sin", "cos", "silu", "reciprocal"})
    expectSameOnCuda(op, {x}, F32, {3, 5});
  for (const char *op : {"log", "sqrt"})
    expectSameOnCuda(op, {positive}, F32, {3, 5});
  for (const char *form : {"none", "tanh"})
    expectSameOnCuda("gelu", {x}, F32, {3, 5}, {str("approximate", form)});
  HostTensor special = f32({4}, {NAN, 1.0f, -INFINITY, 0.0f});
  expectSameOnCuda("isnan", {special}, BOOL, {4});
  expectSameOnCuda("not", {boolean({3}, {0, 1, 1})}, BOOL, {3});
}

TEST(CudaKernelTest, Cast) {
  REQUIRE_CUDA();
  HostTensor floats = f32({6}, {-2.7f, 0.0f, 3.5f, NAN, 1e30f, -1e30f});
  HostTensor integers = i64({4}, {-5, 0, 7, int64_t(1) << 40});
  HostTensor bools = boolean({2}, {0, 1});
  for (const HostTensor &in : {floats, integers, bools})
    for (DType out : {F32, I64, BOOL})
      expectSameOnCuda("cast", {in}, out, in.shape);
}

TEST(CudaKernelTest, BinaryWithBroadcasting) {
  REQUIRE_CUDA();
  HostTensor a = f32({2, 3, 4}, randomFloats(24, 3, 0.5f, 2));
  HostTensor b = f32({3, 1}, randomFloats(3, 4, 0.5f, 2));
  for (const char *op : {"add", "sub", "mul", "div", "pow", "max", "min"})
    expectSameOnCuda(op, {a, b}, F32, {2, 3, 4});
  for (const char *op :
       {"equal", "less", "less_equal", "greater", "greater_equal"})
    expectSameOnCuda(op, {a, b}, BOOL, {2, 3, 4});
  HostTensor m = i64({2, 3}, {7, -7, INT64_MAX, INT64_MIN, 0, 9});
  HostTensor n = i64({3}, {2, -1, 0});
  for (const char *op : {"add", "sub", "mul", "div", "pow", "max", "min"})
    expectSameOnCuda(op, {m, n}, I64, {2, 3});
  // Both remainders, with divisors of both signs; integer divisors 0 and -1
  // give 0.
  HostTensor dividends = f32({2, 3, 4}, randomFloats(24, 13, -4, 4));
  HostTensor divisors = f32({3, 1}, {1.5f, -0.75f, 2.0f});
  for (int64_t fmod : {0, 1}) {
    expectSameOnCuda("mod", {dividends, divisors}, F32, {2, 3, 4},
                     {ints("fmod", {fmod})});
    expectSameOnCuda("mod", {m, n}, I64, {2, 3}, {ints("fmod", {fmod})});
  }
  HostTensor p = boolean({2, 2}, {0, 1, 1, 0}), q = boolean({2}, {1, 0});
  for (const char *op : {"and", "or", "xor"})
    expectSameOnCuda(op, {p, q}, BOOL, {2, 2});
  expectSameOnCuda("where", {boolean({3, 1}, {1, 0, 1}), a, b}, F32, {2, 3, 4});
}

TEST(CudaKernelTest, Matmul) {
  REQUIRE_CUDA();
  expectSameOnCuda(
      "matmul",
      {f32({5, 7}, randomFloats(35, 5)), f32({7, 3}, randomFloats(21, 6))}, F32,
      {5, 3});
  // Broadcast batch dims: [2,1,4,6] x [3,6,5].
  expectSameOnCuda("matmul",
                   {f32({2, 1, 4, 6}, randomFloats(48, 7)),
                    f32({3, 6, 5}, randomFloats(90, 8))},
                   F32, {2, 3, 4, 5});
  expectSameOnCuda("matmul", {f32({2, 3, 0}, {}), f32({2, 0, 4}, {})}, F32,
                   {2, 3, 4});
  // One weight for batches of whole rows: one GEMM over all of them.
  expectSameOnCuda("matmul",
                   {f32({2, 3, 5, 7}, randomFloats(210, 9)),
                    f32({1, 7, 4}, randomFloats(28, 10))},
                   F32, {2, 3, 5, 4});
}

// Every split of the epilogue between cuBLASLt and the epilogue kernel:
// bias alone, cuBLASLt's tanh GELU, the kernel's erf GELU and SiLU, the
// residual as C or after an activation; batched, broadcast and with no
// sum. cuBLASLt's GELU is its own approximation of the tanh form.
TEST(CudaKernelTest, MatmulEpilogue) {
  REQUIRE_CUDA();
  struct Case {
    Shape a, b, out;
  };
  const Case cases[] = {{{5, 7}, {7, 3}, {5, 3}},
                        {{2, 1, 4, 6}, {3, 6, 5}, {2, 3, 4, 5}},
                        {{2, 16, 24}, {24, 32}, {2, 16, 32}},
                        {{2, 3, 0}, {2, 0, 4}, {2, 3, 4}}};
  unsigned seed = 50;
  for (const Case &c : cases) {
    HostTensor a = f32(c.a, randomFloats(count(c.a), seed++)),
               b = f32(c.b, randomFloats(count(c.b), seed++)),
               bias = f32({c.out.back()},
                          randomFloats(c.out.back(), seed++, -2, 2)),
               residual = f32(c.out, randomFloats(count(c.out), seed++));
    for (const char *activation : {"none", "gelu", "gelu_tanh", "silu"})
      for (bool withResidual : {false, true}) {
        SCOPED_TRACE(std::string(activation) +
                     (withResidual ? " with residual" : ""));
        std::vector<HostTensor> inputs = {a, b, bias};
        if (withResidual)
          inputs.push_back(residual);
        std::vector<dsp::program::Attribute> attributes = {
            str("activation", activation)};
        expectNear(
            runOp("matmul", inputs, F32, c.out, attributes, 1, "cuda").floats(),
            runOp("matmul", inputs, F32, c.out, attributes, 1, "cpu").floats(),
            1e-4f);
      }
  }
}

TEST(CudaKernelTest, Attention) {
  REQUIRE_CUDA();
  HostTensor q = f32({2, 3, 37, 16}, randomFloats(2 * 3 * 37 * 16, 9));
  HostTensor k = f32({2, 3, 45, 16}, randomFloats(2 * 3 * 45 * 16, 10));
  HostTensor v = f32({2, 3, 45, 40}, randomFloats(2 * 3 * 45 * 40, 11));
  auto scale = floats("scale", {0.25});
  expectSameOnCuda("attention", {q, k, v}, F32, {2, 3, 37, 40}, {scale});
  // A mask broadcast over batch and heads, with fully masked rows.
  std::vector<float> mask = randomFloats(37 * 45, 12, -2, 2);
  for (int key = 0; key < 45; ++key)
    mask[5 * 45 + key] = -INFINITY;
  expectSameOnCuda("attention", {q, k, v, f32({37, 45}, mask)}, F32,
                   {2, 3, 37, 40}, {scale});
}

// A program compiled for the cpu reads attention's operands and writes its
// result through transposes: the cuda backend copies them contiguous.
TEST(CudaKernelTest, AttentionThroughTransposes) {
  REQUIRE_CUDA();
  HostTensor q = f32({2, 37, 3, 16}, randomFloats(2 * 37 * 3 * 16, 13));
  HostTensor k = f32({3, 2, 45, 16}, randomFloats(3 * 2 * 45 * 16, 14));
  HostTensor v = f32({2, 3, 45, 40}, randomFloats(2 * 3 * 45 * 40, 15));
  expectSameOnCuda("attention", {q, k, v}, F32, {2, 37, 3, 40},
                   {floats("scale", {0.25}), ints("query_perm", {0, 2, 1, 3}),
                    ints("key_perm", {1, 0, 2, 3}),
                    ints("output_perm", {0, 2, 1, 3})});
}

/// f32 attention of the given sizes with a per-head mask, against the cpu.
/// Row 3 is masked in its first 70 keys only, so its maximum starts at -inf
/// and is found in a later key tile; row 4 is masked entirely.
void expectMaskedAttentionOnCuda(int64_t heads, int64_t queries, int64_t keys,
                                 int64_t depth, int64_t valueDepth,
                                 uint32_t seed) {
  SCOPED_TRACE("L " + std::to_string(queries) + "x" + std::to_string(keys) +
               ", D " + std::to_string(depth) + "/" +
               std::to_string(valueDepth));
  HostTensor q = f32({1, heads, queries, depth},
                     randomFloats(heads * queries * depth, seed));
  HostTensor k = f32({1, heads, keys, depth},
                     randomFloats(heads * keys * depth, seed + 1));
  HostTensor v = f32({1, heads, keys, valueDepth},
                     randomFloats(heads * keys * valueDepth, seed + 2));
  std::vector<float> mask =
      randomFloats(heads * queries * keys, seed + 3, -2, 2);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t key = 0; key < keys; ++key) {
      if (key < 70)
        mask[(h * queries + 3) * keys + key] = -INFINITY;
      mask[(h * queries + 4) * keys + key] = -INFINITY;
    }
  auto scale = floats("scale", {1 / std::sqrt(static_cast<float>(depth))});
  expectSameOnCuda("attention", {q, k, v, f32({heads, queries, keys}, mask)},
                   F32, {1, heads, queries, valueDepth}, {scale});
}

TEST(CudaKernelTest, TiledAttention) {
  REQUIRE_CUDA();
  // Query and key tiles of 64 with partial last tiles, at the head dims of
  // the common models and at the largest (256: the tiles take 197 KiB of
  // shared memory); keys up to 32 take the per-row kernel.
  expectMaskedAttentionOnCuda(2, 130, 150, 72, 72, 70);
  expectMaskedAttentionOnCuda(1, 64, 200, 64, 64, 74);
  expectMaskedAttentionOnCuda(1, 90, 100, 128, 100, 78);
  expectMaskedAttentionOnCuda(1, 70, 80, 256, 256, 82);
  expectMaskedAttentionOnCuda(3, 20, 16, 72, 72, 86);
}

TEST(CudaKernelTest, Normalization) {
  REQUIRE_CUDA();
  HostTensor x = f32({4, 3, 50}, randomFloats(600, 13, -2, 5));
  HostTensor scale = f32({3, 50}, randomFloats(150, 14));
  HostTensor bias = f32({3, 50}, randomFloats(150, 15));
  auto axis = ints("axis", {1});
  auto epsilon = floats("epsilon", {1e-5});
  expectSameOnCuda("layer_norm", {x, scale, bias}, F32, {4, 3, 50},
                   {axis, epsilon});
  expectSameOnCuda("layer_norm", {x, scale}, F32, {4, 3, 50}, {axis, epsilon});
  expectSameOnCuda("softmax", {x}, F32, {4, 3, 50}, {ints("axis", {1})});
  expectSameOnCuda("softmax", {x}, F32, {4, 3, 50}, {ints("axis", {2})});
  for (const char *op : {"reduce_sum", "reduce_mean", "reduce_max"}) {
    expectSameOnCuda(op, {x}, F32, {1, 3, 1},
                     {ints("axes", {0, 2}), ints("keepdims", {1})});
    expectSameOnCuda(op, {x}, F32, {4, 50},
                     {ints("axes", {1}), ints("keepdims", {0})});
  }
}

TEST(CudaKernelTest, DataMovement) {
  REQUIRE_CUDA();
  HostTensor x = f32({2, 3, 4}, randomFloats(24, 16));
  expectSameOnCuda("reshape", {x}, F32, {6, 4});
  expectSameOnCuda("transpose", {x}, F32, {4, 2, 3}, {ints("perm", {2, 0, 1})});
  // Source and target contiguous along different dims of a tile (32) or
  // more: the tiled transpose, with partial tiles and a batch dim.
  HostTensor wide = f32({3, 40, 67}, randomFloats(3 * 40 * 67, 30));
  expectSameOnCuda("transpose", {wide}, F32, {3, 67, 40},
                   {ints("perm", {0, 2, 1})});
  expectSameOnCuda("transpose", {wide}, F32, {67, 40, 3},
                   {ints("perm", {2, 1, 0})});
  std::vector<int64_t> counting(33 * 70);
  for (size_t i = 0; i < counting.size(); ++i)
    counting[i] = static_cast<int64_t>(i) - 1000;
  expectSameOnCuda("transpose", {i64({33, 70}, counting)}, I64, {70, 33},
                   {ints("perm", {1, 0})});
  expectSameOnCuda("slice", {x}, F32, {2, 2, 2},
                   {ints("starts", {0, 2, 3}), ints("limits", {2, 0, 0}),
                    ints("strides", {1, -1, -2})});
  expectSameOnCuda("concat", {x, f32({2, 1, 4}, randomFloats(8, 17)), x}, F32,
                   {2, 7, 4}, {ints("axis", {1})});
  expectSameOnCuda("gather", {x, i64({2, 2}, {2, -1, 0, 1})}, F32, {2, 2, 2, 4},
                   {ints("axis", {1})});
  expectSameOnCuda("expand", {f32({3, 1}, randomFloats(3, 18))}, F32,
                   {2, 3, 5});
  expectSameOnCuda("tile", {x}, F32, {4, 3, 8}, {ints("repeats", {2, 1, 2})});
  expectSameOnCuda("tile", {i64({2}, {4, 5})}, I64, {6},
                   {ints("repeats", {3})});
  for (const char *mode : {"constant", "reflect", "edge"})
    expectSameOnCuda("pad", {x}, F32, {3, 5, 7},
                     {ints("pads", {1, 0, 2, 0, 2, 1}), str("mode", mode)});
  expectSameOnCuda("pad", {x, f32({}, {2.5f})}, F32, {2, 3, 6},
                   {ints("pads", {0, 0, 1, 0, 0, 1}), str("mode", "constant")});
  expectSameOnCuda("pad", {i64({2}, {4, 5})}, I64, {5},
                   {ints("pads", {2, 1}), str("mode", "edge")});
  // Duplicate indices: the last update wins, or all add up.
  HostTensor indices = i64({2, 2}, {1, 1, -1, 0});
  HostTensor updates = f32({2, 2}, {1, 2, 3, 4});
  expectSameOnCuda("scatter_elements",
                   {f32({3, 2}, randomFloats(6, 19)), indices, updates}, F32,
                   {3, 2}, {ints("axis", {0}), str("reduction", "none")});
  expectSameOnCuda("scatter_elements",
                   {f32({3, 2}, randomFloats(6, 20)), indices, updates}, F32,
                   {3, 2}, {ints("axis", {0}), str("reduction", "add")});
  expectSameOnCuda("scatter_elements",
                   {i64({2, 3}, {1, 2, 3, 4, 5, 6}), i64({1, 2}, {2, 2}),
                    i64({1, 2}, {7, 8})},
                   I64, {2, 3}, {ints("axis", {1}), str("reduction", "add")});
}

TEST(CudaKernelTest, GatherIndexOutOfRangeIsAnError) {
  REQUIRE_CUDA();
  ProgramBuilder builder;
  uint32_t data = builder.input("data", F32, {3, 2});
  uint32_t indices = builder.input("indices", I64, {2});
  builder.output(
      builder.op("gather", {data, indices}, F32, {2, 2}, {ints("axis", {0})}));
  std::string path = temporaryPath("cuda_gather.dspx"), error;
  ASSERT_EQ(builder.write(path), "");
  dsp::runtime::SessionOptions options;
  options.backend = "cuda";
  auto session = dsp::runtime::Session::open(path, options, error);
  ASSERT_TRUE(session) << error;
  std::vector<float> values(6, 1.0f);
  std::vector<int64_t> bad = {1, 3};
  ASSERT_TRUE(session->bindInput(0, F32, {3, 2}, values.data(), 24).ok());
  ASSERT_TRUE(session->bindInput(1, I64, {2}, bad.data(), 16).ok());
  dsp::runtime::Status status = session->run();
  EXPECT_EQ(status.message(),
            "index 3 at position 1 is out of range for axis 0 of size 3");
}

TEST(CudaKernelTest, Conv) {
  REQUIRE_CUDA();
  HostTensor x = f32({2, 4, 9, 8}, randomFloats(2 * 4 * 9 * 8, 19));
  HostTensor w = f32({6, 2, 3, 3}, randomFloats(6 * 2 * 9, 20));
  HostTensor bias = f32({6}, randomFloats(6, 21));
  expectSameOnCuda("conv", {x, w, bias}, F32, {2, 6, 4, 3},
                   {ints("strides", {2, 2}), ints("dilations", {1, 2}),
                    ints("pads", {1, 0, 0, 1}), ints("group", {2})});
  expectSameOnCuda("conv",
                   {f32({1, 3, 10}, randomFloats(30, 22)),
                    f32({4, 3, 1}, randomFloats(12, 23))},
                   F32, {1, 4, 10},
                   {ints("strides", {1}), ints("dilations", {1}),
                    ints("pads", {0, 0}), ints("group", {1})});
}

/// Later runs replay a CUDA graph; they must follow the bound inputs.
TEST(CudaKernelTest, RepeatedRunsFollowTheInputs) {
  REQUIRE_CUDA();
  ProgramBuilder builder;
  uint32_t a = builder.input("a", F32, {4, 8});
  uint32_t b = builder.weight("b", f32({8, 3}, randomFloats(24, 24)));
  uint32_t product = builder.op("matmul", {a, b}, F32, {4, 3});
  builder.output(builder.op("tanh", {product}, F32, {4, 3}));
  std::string path = temporaryPath("cuda_repeat.dspx"), error;
  ASSERT_EQ(builder.write(path), "");
  dsp::runtime::SessionOptions cpuOptions, cudaOptions;
  cudaOptions.backend = "cuda";
  auto cpu = dsp::runtime::Session::open(path, cpuOptions, error);
  auto cuda = dsp::runtime::Session::open(path, cudaOptions, error);
  ASSERT_TRUE(cpu && cuda) << error;
  for (unsigned run = 0; run < 4; ++run) {
    std::vector<float> input = randomFloats(32, 100 + run);
    std::vector<float> expected(12), got(12);
    for (auto *session : {cpu.get(), cuda.get()}) {
      ASSERT_TRUE(session->bindInput(0, F32, {4, 8}, input.data(), 128).ok());
      dsp::runtime::Status status = session->run();
      ASSERT_TRUE(status.ok()) << status.message();
    }
    ASSERT_TRUE(cpu->readOutput(0, expected.data(), 48).ok());
    ASSERT_TRUE(cuda->readOutput(0, got.data(), 48).ok());
    expectNear(got, expected);
  }
}

/// The cuda backend keeps bound inputs on the device and copies them into
/// the arena there at each run.
TEST(CudaKernelTest, RunsRestartFromTheBoundInputs) {
  REQUIRE_CUDA();
  expectRunsRestartFromTheBoundInputs("cuda");
}

TEST(CudaKernelTest, DeviceOutOfRangeNamesTheDeviceCount) {
  REQUIRE_CUDA();
  std::vector<std::shared_ptr<dsp::runtime::Communicator>> group;
  ASSERT_TRUE(dsp::runtime::createLocalCommunicators(1, {}, group).ok());
  dsp::runtime::BackendOptions options;
  options.communicator = group[0].get();
  options.device = 4096;
  std::unique_ptr<dsp::runtime::Backend> backend;
  dsp::runtime::Status status =
      dsp::runtime::createBackend("cuda", options, backend);
  EXPECT_NE(status.message().find("device 4096 is out of range: this machine "
                                  "has "),
            std::string::npos)
      << status.message();
}

// Reduced precision: the backend's kernels run directly, on inputs rounded
// to the storage type; the cpu runs f32 on the same values.

uint16_t toBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

float fromBf16(uint16_t value) {
  uint32_t bits = uint32_t(value) << 16;
  float result;
  std::memcpy(&result, &bits, 4);
  return result;
}

uint16_t toF16(float value) {
  _Float16 half = static_cast<_Float16>(value);
  uint16_t bits;
  std::memcpy(&bits, &half, 2);
  return bits;
}

float fromF16(uint16_t bits) {
  _Float16 half;
  std::memcpy(&half, &bits, 2);
  return static_cast<float>(half);
}

float roundTo(DType dtype, float value) {
  return dtype == BF16 ? fromBf16(toBf16(value)) : fromF16(toF16(value));
}

/// Runs the op on the cuda backend in `dtype` storage, without validation.
std::vector<float>
runReduced(const std::string &op, const std::vector<HostTensor> &inputs,
           DType dtype, const Shape &shape,
           const std::vector<dsp::program::Attribute> &attributes) {
  ProgramBuilder builder;
  std::vector<uint32_t> operands;
  for (size_t i = 0; i < inputs.size(); ++i)
    operands.push_back(
        builder.input("in" + std::to_string(i), dtype, inputs[i].shape));
  builder.output(builder.op(op, operands, dtype, shape, attributes));
  const dsp::program::Program &program = builder.program;

  std::vector<std::shared_ptr<dsp::runtime::Communicator>> group;
  EXPECT_TRUE(dsp::runtime::createLocalCommunicators(1, {}, group).ok());
  dsp::runtime::BackendOptions options;
  options.communicator = group[0].get();
  std::unique_ptr<dsp::runtime::Backend> backend;
  dsp::runtime::Status status =
      dsp::runtime::createBackend("cuda", options, backend);
  EXPECT_TRUE(status.ok()) << status.message();
  if (!backend)
    return {};
  std::unique_ptr<dsp::runtime::Kernel> kernel;
  status = backend->createKernel(program, program.instructions(0), kernel);
  EXPECT_TRUE(status.ok()) << status.message();
  if (!kernel)
    return {};
  void *arena = nullptr, *workspace = nullptr;
  EXPECT_TRUE(backend->allocate(program.arena_bytes(), &arena).ok());
  EXPECT_TRUE(
      backend
          ->allocate(std::max<size_t>(kernel->workspaceBytes(), 1), &workspace)
          .ok());
  auto address = [&](uint32_t tensor) {
    return static_cast<uint8_t *>(arena) + program.tensors(tensor).offset();
  };
  std::vector<const void *> addresses;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<float> values = inputs[i].floats();
    std::vector<uint16_t> stored;
    for (float value : values)
      stored.push_back(dtype == BF16 ? toBf16(value) : toF16(value));
    EXPECT_TRUE(backend
                    ->copyToDevice(address(operands[i]), stored.data(),
                                   stored.size() * 2)
                    .ok());
    addresses.push_back(address(operands[i]));
  }
  uint32_t result = program.instructions(0).outputs(0);
  void *output = address(result);
  dsp::runtime::KernelArgs args{addresses.data(), output, &output, workspace};
  status = kernel->run(args);
  EXPECT_TRUE(status.ok()) << status.message();
  std::vector<uint16_t> stored(count(shape));
  EXPECT_TRUE(
      backend->copyToHost(stored.data(), output, stored.size() * 2).ok());
  backend->deallocate(arena);
  backend->deallocate(workspace);
  std::vector<float> values;
  for (uint16_t value : stored)
    values.push_back(dtype == BF16 ? fromBf16(value) : fromF16(value));
  return values;
}

void expectReducedNearF32(
    const std::string &op, std::vector<HostTensor> inputs, const Shape &shape,
    const std::vector<dsp::program::Attribute> &attributes = {}) {
  for (DType dtype : {BF16, F16}) {
    SCOPED_TRACE(op + (dtype == BF16 ? " bf16" : " f16"));
    std::vector<HostTensor> rounded = inputs;
    for (HostTensor &input : rounded) {
      std::vector<float> values = input.floats();
      for (float &value : values)
        value = roundTo(dtype, value);
      input = f32(input.shape, values);
    }
    std::vector<float> expected =
        runOp(op, rounded, F32, shape, attributes, 1, "cpu").floats();
    expectNear(runReduced(op, rounded, dtype, shape, attributes), expected,
               2e-2f);
  }
}

TEST(CudaKernelTest, ReducedPrecision) {
  REQUIRE_CUDA();
  expectReducedNearF32("matmul",
                       {f32({2, 16, 24}, randomFloats(768, 30)),
                        f32({24, 8}, randomFloats(192, 31))},
                       {2, 16, 8});
  expectReducedNearF32("matmul",
                       {f32({2, 16, 24}, randomFloats(768, 42)),
                        f32({24, 8}, randomFloats(192, 43)),
                        f32({8}, randomFloats(8, 44)),
                        f32({2, 16, 8}, randomFloats(256, 45))},
                       {2, 16, 8}, {str("activation", "gelu_tanh")});
  HostTensor q = f32({1, 2, 20, 32}, randomFloats(1280, 32));
  HostTensor k = f32({1, 2, 24, 32}, randomFloats(1536, 33));
  HostTensor v = f32({1, 2, 24, 32}, randomFloats(1536, 34));
  expectReducedNearF32("attention",
                       {q, k, v, f32({20, 24}, randomFloats(480, 35))},
                       {1, 2, 20, 32}, {floats("scale", {0.18})});
  HostTensor x = f32({6, 64}, randomFloats(384, 36, -3, 3));
  expectReducedNearF32(
      "layer_norm",
      {x, f32({64}, randomFloats(64, 37)), f32({64}, randomFloats(64, 38))},
      {6, 64}, {ints("axis", {1}), floats("epsilon", {1e-5})});
  expectReducedNearF32("softmax", {x}, {6, 64}, {ints("axis", {1})});
  expectReducedNearF32("reduce_mean", {x}, {6},
                       {ints("axes", {1}), ints("keepdims", {0})});
  expectReducedNearF32("add", {x, f32({64}, randomFloats(64, 39))}, {6, 64});
  expectReducedNearF32("gelu", {x}, {6, 64}, {str("approximate", "none")});
  expectReducedNearF32("transpose", {x}, {64, 6}, {ints("perm", {1, 0})});
  expectReducedNearF32("conv",
                       {f32({1, 2, 6, 6}, randomFloats(72, 40)),
                        f32({3, 2, 3, 3}, randomFloats(54, 41))},
                       {1, 3, 4, 4},
                       {ints("strides", {1, 1}), ints("dilations", {1, 1}),
                        ints("pads", {0, 0, 0, 0}), ints("group", {1})});
}

// Attention in f16 and bf16: cuDNN's fused SDPA where the build has it, the
// own kernel otherwise or when DSP_CUDA_ATTENTION=own says so.

/// Sets DSP_CUDA_ATTENTION for its scope.
class AttentionChoice {
public:
  explicit AttentionChoice(const char *value) {
    ::setenv("DSP_CUDA_ATTENTION", value, 1);
  }
  ~AttentionChoice() { ::unsetenv("DSP_CUDA_ATTENTION"); }
};

/// Unmasked attention of the given sizes, against the cpu in f32.
void expectReducedAttentionNearF32(int64_t batch, int64_t heads,
                                   int64_t queries, int64_t keys, int64_t depth,
                                   uint32_t seed) {
  SCOPED_TRACE("L " + std::to_string(queries) + "x" + std::to_string(keys) +
               ", D " + std::to_string(depth));
  int64_t rows = batch * heads;
  expectReducedNearF32(
      "attention",
      {f32({batch, heads, queries, depth},
           randomFloats(rows * queries * depth, seed)),
       f32({batch, heads, keys, depth},
           randomFloats(rows * keys * depth, seed + 1)),
       f32({batch, heads, keys, depth},
           randomFloats(rows * keys * depth, seed + 2))},
      {batch, heads, queries, depth},
      {floats("scale", {1 / std::sqrt(static_cast<float>(depth))})});
}

void expectAttentionShapesNearF32() {
  // Sequence lengths off the 64-row tiles, head dims 64 and 72.
  expectReducedAttentionNearF32(1, 2, 100, 77, 64, 50);
  expectReducedAttentionNearF32(2, 3, 45, 130, 72, 53);
  expectReducedAttentionNearF32(1, 1, 64, 64, 64, 56);
}

TEST(CudaKernelTest, CudnnAttention) {
#ifndef DSP_HAVE_CUDNN
  GTEST_SKIP() << "built without cuDNN attention (no cudnn-frontend headers "
                  "or no cuDNN)";
#endif
  REQUIRE_CUDA();
  // Where cuDNN refuses, creating the kernel fails instead of falling back.
  AttentionChoice cudnn("cudnn");
  expectAttentionShapesNearF32();
}

TEST(CudaKernelTest, OwnAttentionKernelWhenAsked) {
  REQUIRE_CUDA();
  AttentionChoice own("own");
  expectAttentionShapesNearF32();
}

TEST(CudaKernelTest, AttentionImplementationInTheStatistics) {
  REQUIRE_CUDA();
  ProgramBuilder builder;
  std::vector<uint32_t> operands;
  for (const char *name : {"q", "k", "v"})
    operands.push_back(builder.input(name, F32, {1, 2, 20, 32}));
  builder.output(builder.op("attention", operands, F32, {1, 2, 20, 32},
                            {floats("scale", {0.18})}));
  std::string path = temporaryPath("attention.dspx");
  ASSERT_EQ(builder.write(path), "");
  dsp::runtime::SessionOptions options;
  options.backend = "cuda";
  std::string error;
  std::unique_ptr<dsp::runtime::Session> session =
      dsp::runtime::Session::open(path, options, error);
  ASSERT_TRUE(session) << error;
  const auto &implementations = session->statistics().implementations;
  ASSERT_EQ(implementations.count("attention"), 1u);
  const auto &counts = implementations.at("attention");
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts.begin()->first.rfind("own kernel: ", 0), 0u)
      << counts.begin()->first;
  EXPECT_EQ(counts.begin()->second, 1u);

  AttentionChoice unknown("fastest");
  EXPECT_FALSE(dsp::runtime::Session::open(path, options, error));
  EXPECT_NE(error.find("DSP_CUDA_ATTENTION must be auto, own or cudnn, got "
                       "'fastest'"),
            std::string::npos)
      << error;
}

// The `kernel` op: a function of a code object, here PTX the driver
// compiles (Inputs/add_one_and_double.ptx: plus = in + 1, twice = 2 in, one
// thread per element).

/// A program whose one instruction launches add_one_and_double on 8
/// elements.
ProgramBuilder kernelProgram() {
  ProgramBuilder builder;
  dsp::program::CodeObject *code = builder.program.add_code_objects();
  code->set_name("fused");
  code->set_target("sm_90");
  code->set_ptx(
      readText(std::string(DSP_TEST_INPUTS) + "/add_one_and_double.ptx"));
  uint32_t x = builder.input("x", F32, {8});
  uint32_t plus = builder.op(
      "kernel", {x}, F32, {8},
      {ints("code_object", {0}), str("function", "add_one_and_double"),
       ints("grid", {1, 1, 1}), ints("block", {8, 1, 1})});
  uint32_t twice =
      builder.tensor("twice", F32, {8}, dsp::program::INTERMEDIATE);
  builder.program.mutable_instructions(0)->add_outputs(twice);
  builder.output(plus);
  builder.output(twice);
  return builder;
}

/// What validation says of `program`, as the writer sets its version.
std::string validate(dsp::program::Program program) {
  program.set_format_version(dsp::format::kMajorVersion);
  return dsp::format::validateProgram(program, 0);
}

TEST(KernelOpTest, Validation) {
  ProgramBuilder builder = kernelProgram();
  EXPECT_EQ(validate(builder.program), "");
  dsp::program::Program program = builder.program;
  program.mutable_code_objects(0)->set_target("compute_90");
  EXPECT_EQ(validate(program), "code object 0 ('fused'): target is "
                               "'compute_90', expected sm_NN (e.g. sm_90)");
  program = builder.program;
  program.mutable_code_objects(0)->clear_ptx();
  EXPECT_EQ(validate(program),
            "code object 0 ('fused'): has neither a binary nor PTX");
  auto instruction = [](dsp::program::Program &p) {
    return p.mutable_instructions(0);
  };
  auto setInts = [&](dsp::program::Program &p, int attribute,
                     std::vector<int64_t> values) {
    auto *ints = instruction(p)->mutable_attributes(attribute)->mutable_ints();
    ints->clear_values();
    for (int64_t value : values)
      ints->add_values(value);
  };
  struct Case {
    int attribute;
    std::vector<int64_t> values;
    const char *problem;
  };
  const Case cases[] = {
      {0, {1}, "attribute 'code_object' is 1, expected a value in [0, 1)"},
      {2,
       {1, 65536, 1},
       "attribute 'grid' [1,65536,1]: dim 1 must be in [1, "
       "65535]"},
      {2,
       {0, 1, 1},
       "attribute 'grid' [0,1,1]: dim 0 must be in [1, "
       "2147483647]"},
      {3,
       {32, 64, 1},
       "attribute 'block' [32,64,1] has 2048 threads, more "
       "than 1024"},
      {3, {8, 1}, "attribute 'block' has 2 values, expected 3"},
  };
  for (const Case &c : cases) {
    program = builder.program;
    setInts(program, c.attribute, c.values);
    EXPECT_EQ(validate(program),
              std::string("instruction 0 (kernel at 'node_1'): ") + c.problem);
  }
  program = builder.program;
  instruction(program)->mutable_attributes(1)->set_str("");
  EXPECT_EQ(validate(program), "instruction 0 (kernel at 'node_1'): attribute "
                               "'function' must name the kernel's symbol");

  // Only `kernel` has several outputs.
  ProgramBuilder other;
  uint32_t x = other.input("x", F32, {8});
  uint32_t y = other.op("neg", {x}, F32, {8});
  other.program.mutable_instructions(0)->add_outputs(
      other.tensor("z", F32, {8}, dsp::program::INTERMEDIATE));
  other.output(y);
  EXPECT_EQ(validate(other.program),
            "instruction 0 (neg at 'node_1'): has 2 outputs, expected 1");
}

TEST(KernelOpTest, RunsOnCudaWithTwoOutputs) {
  REQUIRE_CUDA();
  ProgramBuilder builder = kernelProgram();
  std::string path = temporaryPath("kernel_op_cuda.dspx"), error;
  ASSERT_EQ(builder.write(path), "");
  dsp::runtime::SessionOptions options;
  options.backend = "cuda";
  auto session = dsp::runtime::Session::open(path, options, error);
  ASSERT_TRUE(session) << error;
  std::vector<float> x = randomFloats(8, 50);
  ASSERT_TRUE(session->bindInput(0, F32, {8}, x.data(), 32).ok());
  for (int run = 0; run < 3; ++run) {
    dsp::runtime::Status status = session->run();
    ASSERT_TRUE(status.ok()) << status.message();
  }
  std::vector<float> plus(8), twice(8), expectedPlus, expectedTwice;
  ASSERT_TRUE(session->readOutput(0, plus.data(), 32).ok());
  ASSERT_TRUE(session->readOutput(1, twice.data(), 32).ok());
  for (float value : x) {
    expectedPlus.push_back(value + 1);
    expectedTwice.push_back(value * 2);
  }
  expectNear(plus, expectedPlus);
  expectNear(twice, expectedTwice);
}

} // namespace
