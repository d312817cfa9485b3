//===- DtypeKernelTest.cpp - CPU kernels at f16, bf16 and i32 -------------===//

#include "TestUtil.h"

#include <cmath>
#include <limits>

using namespace dsp::test;
using dsp::program::BF16;
using dsp::program::BOOL;
using dsp::program::F16;
using dsp::program::F32;
using dsp::program::I32;
using dsp::program::I64;

namespace {

HostTensor uniform(Shape shape, unsigned seed, float low = -1, float high = 1) {
  std::vector<float> values = randomFloats(count(shape), seed, low, high);
  return f32(std::move(shape), values);
}

HostTensor i32(Shape shape, const std::vector<int32_t> &values) {
  return makeTensor(I32, std::move(shape), values);
}

/// One instruction of a float op: its f32 inputs (other inputs stay as they
/// are), result shape and attributes, and whether the result is bool.
struct FloatCase {
  std::string op;
  std::vector<HostTensor> inputs;
  Shape shape;
  std::vector<dsp::program::Attribute> attributes;
  bool boolResult = false;
};

/// A case of each kernel family.
std::vector<FloatCase> floatCases() {
  using dsp::program::Attribute;
  std::vector<Attribute> conv = {
      ints("strides", {1, 1}), ints("dilations", {1, 1}),
      ints("pads", {1, 0, 0, 1}), ints("group", {1})};
  std::vector<Attribute> middle = {ints("axes", {1}), ints("keepdims", {0})};
  const float inf = std::numeric_limits<float>::infinity();
  return {
      {"exp", {uniform({3, 5}, 1, -3, 3)}, {3, 5}},
      {"tanh", {uniform({3, 5}, 2, -3, 3)}, {3, 5}},
      {"silu", {uniform({3, 5}, 3, -3, 3)}, {3, 5}},
      {"gelu", {uniform({40}, 4, -4, 4)}, {40}, {str("approximate", "tanh")}},
      {"isnan", {f32({5}, {1.5f, NAN, inf, -0.0f, -inf})}, {5}, {}, true},
      {"add", {uniform({2, 3, 4}, 5), uniform({3, 1}, 6)}, {2, 3, 4}},
      {"div", {uniform({2, 3}, 7), uniform({3}, 8, 0.5f, 2)}, {2, 3}},
      {"pow", {uniform({6}, 9, 0.5f, 2), uniform({6}, 10)}, {6}},
      {"less", {uniform({2, 3}, 11), uniform({2, 3}, 12)}, {2, 3}, {}, true},
      {"matmul", {uniform({2, 4, 8}, 13), uniform({8, 5}, 14)}, {2, 4, 5}},
      {"matmul",
       {uniform({2, 4, 8}, 29), uniform({8, 5}, 30), uniform({5}, 31),
        uniform({2, 4, 5}, 32)},
       {2, 4, 5},
       {str("activation", "gelu")}},
      {"layer_norm",
       {uniform({3, 16}, 15, -4, 4), uniform({16}, 16), uniform({16}, 17)},
       {3, 16},
       {ints("axis", {1}), floats("epsilon", {1e-5})}},
      {"softmax",
       {uniform({2, 7, 3}, 18, -5, 5)},
       {2, 7, 3},
       {ints("axis", {1})}},
      {"attention",
       {uniform({1, 2, 5, 4}, 19), uniform({1, 2, 6, 4}, 20),
        uniform({1, 2, 6, 3}, 21), uniform({1, 1, 5, 6}, 22)},
       {1, 2, 5, 3},
       {floats("scale", {0.5})}},
      {"conv",
       {uniform({1, 2, 5, 5}, 23), uniform({3, 2, 2, 2}, 24), uniform({3}, 25)},
       {1, 3, 5, 5},
       conv},
      {"reduce_sum", {uniform({3, 4, 5}, 26)}, {3, 5}, middle},
      {"reduce_mean", {uniform({3, 4, 5}, 27)}, {3, 5}, middle},
      {"reduce_max", {uniform({3, 4, 5}, 28)}, {3, 5}, middle},
  };
}

// An f16 or bf16 instruction computes what its f32 kernel computes on the
// inputs rounded to 16 bits, rounded once: bit for bit. It is also near the
// f32 result on the exact inputs, to 16-bit precision.
TEST(DtypeKernelTest, Float16IsTheRoundedF32Result) {
  for (dsp::program::DType dtype : {F16, BF16})
    for (const FloatCase &c : floatCases()) {
      SCOPED_TRACE(std::string(dsp::format::dtypeName(dtype)) + " " + c.op);
      std::vector<HostTensor> narrow, rounded;
      for (const HostTensor &input : c.inputs) {
        narrow.push_back(input.dtype == F32
                             ? float16(dtype, input.shape, input.floats())
                             : input);
        rounded.push_back(input.dtype == F32
                              ? f32(input.shape, narrow.back().floats())
                              : input);
      }
      dsp::program::DType result = c.boolResult ? BOOL : dtype;
      HostTensor got = runOp(c.op, narrow, result, c.shape, c.attributes);
      HostTensor reference = runOp(c.op, rounded, c.boolResult ? BOOL : F32,
                                   c.shape, c.attributes);
      if (c.boolResult) {
        EXPECT_EQ(got.bytes, reference.bytes);
        continue;
      }
      EXPECT_EQ(got.bytes, float16(dtype, c.shape, reference.floats()).bytes);
      // bf16 keeps 8 significant bits, f16 11.
      expectNear(got.floats(),
                 runOp(c.op, c.inputs, F32, c.shape, c.attributes).floats(),
                 dtype == BF16 ? 0.05f : 0.006f);
    }
}

TEST(DtypeKernelTest, Float16DataMovementAndWhere) {
  std::vector<float> x = randomFloats(24, 30);
  for (dsp::program::DType dtype : {F16, BF16}) {
    HostTensor t = float16(dtype, {2, 3, 4}, x);
    std::vector<float> values = t.floats();
    std::vector<float> transposed;
    for (int64_t c = 0; c < 4; ++c)
      for (int64_t a = 0; a < 2; ++a)
        for (int64_t b = 0; b < 3; ++b)
          transposed.push_back(values[(a * 3 + b) * 4 + c]);
    EXPECT_EQ(
        runOp("transpose", {t}, dtype, {4, 2, 3}, {ints("perm", {2, 0, 1})})
            .floats(),
        transposed);
    // Indices of either width, negative ones counting from the end.
    for (const HostTensor &indices : {i64({2}, {2, -3}), i32({2}, {2, -3})}) {
      std::vector<float> gathered(values.begin() + 8, values.begin() + 12);
      gathered.insert(gathered.end(), values.begin(), values.begin() + 4);
      gathered.insert(gathered.end(), values.begin() + 20, values.end());
      gathered.insert(gathered.end(), values.begin() + 12, values.begin() + 16);
      EXPECT_EQ(
          runOp("gather", {t, indices}, dtype, {2, 2, 4}, {ints("axis", {1})})
              .floats(),
          gathered);
    }
    HostTensor other = float16(dtype, {4}, {-1, -2, -3, -4});
    HostTensor selected = runOp("where", {boolean({4}, {1, 0, 0, 1}), t, other},
                                dtype, {2, 3, 4});
    std::vector<float> expected = values;
    for (size_t i = 0; i < expected.size(); ++i)
      if (i % 4 == 1 || i % 4 == 2)
        expected[i] = -1.0f - static_cast<float>(i % 4);
    EXPECT_EQ(selected.floats(), expected);
  }
}

/// A tensor of `dtype` and `shape` (default: a vector) holding `values`,
/// each exact in every dtype (an integer dtype truncates, bool is
/// value != 0).
HostTensor tensorOf(dsp::program::DType dtype,
                    const std::vector<double> &values, Shape shape = {}) {
  if (shape.empty())
    shape = {static_cast<int64_t>(values.size())};
  std::vector<float> floats(values.begin(), values.end());
  switch (dtype) {
  case F32:
    return f32(shape, floats);
  case F16:
  case BF16:
    return float16(dtype, shape, floats);
  case I64:
    return i64(shape, std::vector<int64_t>(values.begin(), values.end()));
  case I32:
    return i32(shape, std::vector<int32_t>(values.begin(), values.end()));
  default: {
    std::vector<uint8_t> flags;
    for (double value : values)
      flags.push_back(value != 0);
    return boolean(shape, flags);
  }
  }
}

/// The values of a tensor of any dtype.
std::vector<double> valuesOf(const HostTensor &tensor) {
  std::vector<double> values;
  size_t n = count(tensor.shape);
  if (tensor.dtype == I64)
    values.assign(tensor.as<int64_t>(), tensor.as<int64_t>() + n);
  else if (tensor.dtype == I32)
    values.assign(tensor.as<int32_t>(), tensor.as<int32_t>() + n);
  else if (tensor.dtype == BOOL)
    values.assign(tensor.bytes.begin(), tensor.bytes.end());
  else
    for (float value : tensor.floats())
      values.push_back(value);
  return values;
}

const dsp::program::DType kAllDtypes[] = {F32, F16, BF16, I64, I32, BOOL};

TEST(DtypeKernelTest, CastBetweenEveryPair) {
  const std::vector<double> values = {-3.75, -1, 0, 0.5, 1.5, 2.5, 255, 1000};
  for (dsp::program::DType from : kAllDtypes)
    for (dsp::program::DType to : kAllDtypes) {
      SCOPED_TRACE(std::string(dsp::format::dtypeName(from)) + " to " +
                   dsp::format::dtypeName(to));
      HostTensor input = tensorOf(from, values);
      EXPECT_EQ(runOp("cast", {input}, to, input.shape).bytes,
                tensorOf(to, valuesOf(input)).bytes);
    }
}

TEST(DtypeKernelTest, CastEdges) {
  const float inf = std::numeric_limits<float>::infinity();
  const int32_t max32 = std::numeric_limits<int32_t>::max(),
                min32 = std::numeric_limits<int32_t>::min();
  // Floats to int32 truncate and saturate; NaN gives 0.
  HostTensor floats = f32({6}, {1e10f, -1e10f, NAN, 2.9f, -2.9f, 2147483520.f});
  EXPECT_EQ(valuesOf(runOp("cast", {floats}, I32, {6})),
            (std::vector<double>{max32, min32, 0, 2, -2, 2147483520.0}));
  // f16's infinities saturate too.
  HostTensor halves = float16(F16, {3}, {inf, -inf, NAN});
  EXPECT_EQ(
      valuesOf(runOp("cast", {halves}, I64, {3})),
      (std::vector<double>{9223372036854775807.0, -9223372036854775808.0, 0}));
  // Narrowing integers keeps the low bits; widening extends the sign.
  HostTensor wide = i64({3}, {(int64_t(1) << 32) + 5, -1, int64_t(1) << 31});
  EXPECT_EQ(valuesOf(runOp("cast", {wide}, I32, {3})),
            (std::vector<double>{5, -1, min32}));
  EXPECT_EQ(valuesOf(runOp("cast", {i32({2}, {-1, min32})}, I64, {2})),
            (std::vector<double>{-1, min32}));
  // f32 to 16 bits rounds to nearest even; past the largest f16, infinity.
  HostTensor rounding = f32({3}, {65520.0f, 1.0f / 3, 1.00390625f});
  EXPECT_EQ(runOp("cast", {rounding}, F16, {3}).bytes,
            float16(F16, {3}, {inf, 1.0f / 3, 1.00390625f}).bytes);
  EXPECT_EQ(runOp("cast", {rounding}, BF16, {3}).floats(),
            (std::vector<float>{65536.0f, 0.333984375f, 1.0f}));
  // bf16 to f16 rounds once, from the exact value.
  HostTensor brain = float16(BF16, {2}, {1e6f, 3.0e-8f});
  EXPECT_EQ(runOp("cast", {brain}, F16, {2}).bytes,
            float16(F16, {2}, brain.floats()).bytes);
}

TEST(DtypeKernelTest, Int32MatchesInt64) {
  HostTensor a = i64({2, 3}, {7, -7, 9, 2, 0, -5});
  HostTensor b = i64({3}, {2, 2, -4});
  HostTensor a32 = tensorOf(I32, valuesOf(a), a.shape),
             b32 = tensorOf(I32, valuesOf(b), b.shape);
  for (const char *op : {"add", "sub", "mul", "div", "max", "min"}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(valuesOf(runOp(op, {a32, b32}, I32, {2, 3})),
              valuesOf(runOp(op, {a, b}, I64, {2, 3})));
  }
  EXPECT_EQ(valuesOf(runOp("pow", {a32, i32({1}, {3})}, I32, {2, 3})),
            valuesOf(runOp("pow", {a, i64({1}, {3})}, I64, {2, 3})));
  for (const char *op : {"equal", "less", "greater_equal"}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(runOp(op, {a32, b32}, BOOL, {2, 3}).bytes,
              runOp(op, {a, b}, BOOL, {2, 3}).bytes);
  }
  std::vector<dsp::program::Attribute> rows = {ints("axes", {1}),
                                               ints("keepdims", {1})};
  for (const char *op : {"reduce_sum", "reduce_max"}) {
    SCOPED_TRACE(op);
    EXPECT_EQ(valuesOf(runOp(op, {a32}, I32, {2, 1}, rows)),
              valuesOf(runOp(op, {a}, I64, {2, 1}, rows)));
  }
  EXPECT_EQ(valuesOf(runOp("reduce_sum", {a}, I64, {2, 1}, rows)),
            (std::vector<double>{9, -3}));
  EXPECT_EQ(valuesOf(runOp("reduce_max", {a}, I64, {2, 1}, rows)),
            (std::vector<double>{9, 2}));
}

// int32 arithmetic wraps around at 32 bits, as numpy's does.
TEST(DtypeKernelTest, Int32EdgesAreDefined) {
  const int32_t max = std::numeric_limits<int32_t>::max(),
                min = std::numeric_limits<int32_t>::min();
  HostTensor a = i32({4}, {max, min, min, 3}), b = i32({4}, {1, -1, -1, 0});
  EXPECT_EQ(valuesOf(runOp("add", {a, b}, I32, {4})),
            (std::vector<double>{min, max, max, 3}));
  EXPECT_EQ(valuesOf(runOp("mul", {a, a}, I32, {4})),
            (std::vector<double>{1, 0, 0, 9}));
  EXPECT_EQ(valuesOf(runOp("div", {a, b}, I32, {4})),
            (std::vector<double>{max, min, min, 0}));
  EXPECT_EQ(
      valuesOf(runOp("pow", {i32({2}, {2, 3}), i32({2}, {31, -1})}, I32, {2})),
      (std::vector<double>{min, 0}));
  EXPECT_EQ(valuesOf(runOp("reduce_sum", {i32({2}, {max, 1})}, I32, {},
                           {ints("axes", {0}), ints("keepdims", {0})})),
            (std::vector<double>{min}));
}

} // namespace
