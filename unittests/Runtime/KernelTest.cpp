//===- KernelTest.cpp - CPU kernels against reference computations --------===//

#include "TestUtil.h"

#include <cmath>
#include <limits>

using namespace dsp::test;
using dsp::program::BOOL;
using dsp::program::F32;
using dsp::program::I64;

namespace {

const float kInf = std::numeric_limits<float>::infinity();

TEST(KernelTest, UnaryF32) {
  std::vector<float> x = {-2.5f, -1.0f, -0.1f, 0.0f, 0.3f, 1.0f, 2.0f, 4.5f};
  HostTensor in = f32({2, 4}, x);
  struct Case {
    const char *op;
    float (*reference)(float);
  };
  const Case cases[] = {
      {"neg", [](float v) { return -v; }},
      {"exp", [](float v) { return std::exp(v); }},
      {"abs", [](float v) { return std::fabs(v); }},
      {"erf", [](float v) { return std::erf(v); }},
      {"tanh", [](float v) { return std::tanh(v); }},
      {"sigmoid", [](float v) { return 1 / (1 + std::exp(-v)); }},
      {"relu", [](float v) { return v > 0 ? v : 0; }},
      {"sin", [](float v) { return std::sin(v); }},
      {"cos", [](float v) { return std::cos(v); }},
      {"silu", [](float v) { return v / (1 + std::exp(-v)); }},
      {"reciprocal", [](float v) { return 1 / v; }},
  };
  for (const Case &c : cases) {
    std::vector<float> expected;
    for (float v : x)
      expected.push_back(c.reference(v));
    SCOPED_TRACE(c.op);
    expectNear(runOp(c.op, {in}, F32, {2, 4}).floats(), expected);
  }
  std::vector<float> positive = {0.5f, 1.0f, 4.0f, 9.0f};
  HostTensor p = f32({4}, positive);
  expectNear(runOp("log", {p}, F32, {4}).floats(),
             {std::log(0.5f), 0.0f, std::log(4.0f), std::log(9.0f)});
  expectNear(runOp("sqrt", {p}, F32, {4}).floats(),
             {std::sqrt(0.5f), 1.0f, 2.0f, 3.0f});
}

TEST(KernelTest, SigmoidAndSiluOverTheFloatRange) {
  // Saturated inputs stay finite and exact to float rounding.
  std::vector<float> x = randomFloats(200, 3, -20, 20);
  for (float v : {-200.0f, -90.0f, -87.5f, 87.5f, 90.0f, 200.0f})
    x.push_back(v);
  std::vector<float> sigmoid, silu;
  for (float v : x) {
    double s = 1.0 / (1.0 + std::exp(-static_cast<double>(v)));
    sigmoid.push_back(static_cast<float>(s));
    silu.push_back(static_cast<float>(v * s));
  }
  HostTensor in = f32({static_cast<int64_t>(x.size())}, x);
  expectNear(
      runOp("sigmoid", {in}, F32, {static_cast<int64_t>(x.size())}).floats(),
      sigmoid);
  expectNear(
      runOp("silu", {in}, F32, {static_cast<int64_t>(x.size())}).floats(),
      silu);
}

TEST(KernelTest, Gelu) {
  std::vector<float> x = randomFloats(100, 1, -4, 4);
  std::vector<float> exact, tanhApprox;
  for (float v : x) {
    exact.push_back(0.5f * v * (1 + std::erf(v / std::sqrt(2.0f))));
    tanhApprox.push_back(
        0.5f * v *
        (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715f * v * v * v))));
  }
  expectNear(
      runOp("gelu", {f32({100}, x)}, F32, {100}, {str("approximate", "none")})
          .floats(),
      exact);
  expectNear(
      runOp("gelu", {f32({100}, x)}, F32, {100}, {str("approximate", "tanh")})
          .floats(),
      tanhApprox);
}

// The GELU kernels use their own exp and erf approximations: check them over
// the whole useful range, tails included, against double precision.
TEST(KernelTest, GeluWideRange) {
  std::vector<float> x;
  for (int i = -30000; i <= 30000; i += 7)
    x.push_back(i * 1e-3f);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 200.0f, -200.0f})
    x.push_back(v);
  size_t n = x.size();
  for (const char *form : {"none", "tanh"}) {
    std::vector<float> got =
        runOp("gelu", {f32({static_cast<int64_t>(n)}, x)}, F32,
              {static_cast<int64_t>(n)}, {str("approximate", form)})
            .floats();
    ASSERT_EQ(got.size(), n);
    for (size_t i = 0; i < n; ++i) {
      double v = x[i];
      double expected = std::string(form) == "tanh"
                            ? 0.5 * v *
                                  (1 + std::tanh(std::sqrt(2 / M_PI) *
                                                 (v + 0.044715 * v * v * v)))
                            : 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
      EXPECT_NEAR(got[i], expected, 4e-7 + 2e-7 * std::fabs(expected))
          << form << " at x = " << v;
    }
  }
}

TEST(KernelTest, IsNanNotCast) {
  HostTensor x = f32({4}, {1.5f, NAN, -2.7f, 0.0f});
  HostTensor nan = runOp("isnan", {x}, BOOL, {4});
  EXPECT_EQ(nan.bytes, (std::vector<uint8_t>{0, 1, 0, 0}));
  HostTensor negated = runOp("not", {nan}, BOOL, {4});
  EXPECT_EQ(negated.bytes, (std::vector<uint8_t>{1, 0, 1, 1}));

  HostTensor finite = f32({4}, {1.5f, -0.5f, -2.7f, 0.0f});
  HostTensor truncated = runOp("cast", {finite}, I64, {4});
  EXPECT_EQ(std::vector<int64_t>(truncated.as<int64_t>(),
                                 truncated.as<int64_t>() + 4),
            (std::vector<int64_t>{1, 0, -2, 0}));
  EXPECT_EQ(runOp("cast", {finite}, BOOL, {4}).bytes,
            (std::vector<uint8_t>{1, 1, 1, 0}));
  HostTensor integers = i64({3}, {0, 5, -3});
  EXPECT_EQ(runOp("cast", {integers}, BOOL, {3}).bytes,
            (std::vector<uint8_t>{0, 1, 1}));
  expectNear(runOp("cast", {integers}, F32, {3}).floats(), {0, 5, -3});
  expectNear(runOp("cast", {boolean({2}, {1, 0})}, F32, {2}).floats(), {1, 0});
}

TEST(KernelTest, BinaryBroadcastF32) {
  Shape aShape = {2, 3, 1}, bShape = {4}, out = {2, 3, 4};
  std::vector<float> a = randomFloats(6, 2, 0.5f, 2),
                     b = randomFloats(4, 3, 0.5f, 2);
  struct Case {
    const char *op;
    float (*reference)(float, float);
  };
  const Case cases[] = {
      {"add", [](float x, float y) { return x + y; }},
      {"sub", [](float x, float y) { return x - y; }},
      {"mul", [](float x, float y) { return x * y; }},
      {"div", [](float x, float y) { return x / y; }},
      {"pow", [](float x, float y) { return std::pow(x, y); }},
      {"max", [](float x, float y) { return std::max(x, y); }},
      {"min", [](float x, float y) { return std::min(x, y); }},
  };
  for (const Case &c : cases) {
    std::vector<float> expected;
    for (int64_t i = 0; i < count(out); ++i)
      expected.push_back(c.reference(a[broadcastIndex(i, out, aShape)],
                                     b[broadcastIndex(i, out, bShape)]));
    SCOPED_TRACE(c.op);
    expectNear(runOp(c.op, {f32(aShape, a), f32(bShape, b)}, F32, out).floats(),
               expected);
    // The other operand order exercises the other stride pattern.
    std::vector<float> swapped;
    for (int64_t i = 0; i < count(out); ++i)
      swapped.push_back(c.reference(b[broadcastIndex(i, out, bShape)],
                                    a[broadcastIndex(i, out, aShape)]));
    expectNear(runOp(c.op, {f32(bShape, b), f32(aShape, a)}, F32, out).floats(),
               swapped);
  }
}

TEST(KernelTest, LargeBroadcastIsParallel) {
  Shape aShape = {64, 1, 130}, bShape = {7, 1}, out = {64, 7, 130};
  std::vector<float> a = randomFloats(count(aShape), 4),
                     b = randomFloats(count(bShape), 5);
  std::vector<float> expected;
  for (int64_t i = 0; i < count(out); ++i)
    expected.push_back(a[broadcastIndex(i, out, aShape)] *
                       b[broadcastIndex(i, out, bShape)]);
  expectNear(runOp("mul", {f32(aShape, a), f32(bShape, b)}, F32, out).floats(),
             expected);
}

TEST(KernelTest, BinaryI64AndComparisons) {
  HostTensor a = i64({2, 3}, {7, -7, 9, 2, 0, -5});
  HostTensor b = i64({3}, {2, 2, -4});
  HostTensor quotient = runOp("div", {a, b}, I64, {2, 3});
  EXPECT_EQ(
      std::vector<int64_t>(quotient.as<int64_t>(), quotient.as<int64_t>() + 6),
      (std::vector<int64_t>{3, -3, -2, 1, 0, 1}));
  HostTensor power = runOp("pow", {a, i64({1}, {2})}, I64, {2, 3});
  EXPECT_EQ(std::vector<int64_t>(power.as<int64_t>(), power.as<int64_t>() + 6),
            (std::vector<int64_t>{49, 49, 81, 4, 0, 25}));
  EXPECT_EQ(runOp("less", {a, b}, BOOL, {2, 3}).bytes,
            (std::vector<uint8_t>{0, 1, 0, 0, 1, 1}));
  EXPECT_EQ(runOp("greater_equal", {a, b}, BOOL, {2, 3}).bytes,
            (std::vector<uint8_t>{1, 0, 1, 1, 0, 0}));
  HostTensor x = f32({3}, {1, 2, 3}), y = f32({3}, {1, 3, 2});
  EXPECT_EQ(runOp("equal", {x, y}, BOOL, {3}).bytes,
            (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_EQ(runOp("less_equal", {x, y}, BOOL, {3}).bytes,
            (std::vector<uint8_t>{1, 1, 0}));
  EXPECT_EQ(runOp("greater", {x, y}, BOOL, {3}).bytes,
            (std::vector<uint8_t>{0, 0, 1}));
  HostTensor p = boolean({2, 2}, {0, 0, 1, 1}), q = boolean({2}, {0, 1});
  EXPECT_EQ(runOp("and", {p, q}, BOOL, {2, 2}).bytes,
            (std::vector<uint8_t>{0, 0, 0, 1}));
  EXPECT_EQ(runOp("or", {p, q}, BOOL, {2, 2}).bytes,
            (std::vector<uint8_t>{0, 1, 1, 1}));
  EXPECT_EQ(runOp("xor", {p, q}, BOOL, {2, 2}).bytes,
            (std::vector<uint8_t>{0, 1, 1, 0}));
}

// Hostile integers and floats give defined results: int64 arithmetic wraps
// around (as in numpy and torch) instead of trapping (min / -1 raised
// SIGFPE) or being undefined, and float -> int64 saturates.
TEST(KernelTest, IntegerEdgesAreDefined) {
  const int64_t max = std::numeric_limits<int64_t>::max(),
                min = std::numeric_limits<int64_t>::min();
  auto values = [](const HostTensor &tensor) {
    return std::vector<int64_t>(tensor.as<int64_t>(),
                                tensor.as<int64_t>() + count(tensor.shape));
  };
  HostTensor a = i64({4}, {max, min, min, 3}), b = i64({4}, {1, -1, -1, 0});
  EXPECT_EQ(values(runOp("add", {a, b}, I64, {4})),
            (std::vector<int64_t>{min, max, max, 3}));
  EXPECT_EQ(values(runOp("sub", {b, a}, I64, {4})),
            (std::vector<int64_t>{min + 2, max, max, -3}));
  EXPECT_EQ(values(runOp("mul", {a, a}, I64, {4})),
            (std::vector<int64_t>{1, 0, 0, 9}));
  EXPECT_EQ(values(runOp("div", {a, b}, I64, {4})),
            (std::vector<int64_t>{max, min, min, 0}));
  EXPECT_EQ(values(runOp("pow", {a, i64({1}, {3})}, I64, {4})),
            (std::vector<int64_t>{max, 0, 0, 27}));

  const float inf = std::numeric_limits<float>::infinity();
  HostTensor floats = f32({6}, {NAN, inf, -inf, 1e30f, -1e30f, -2.5f});
  EXPECT_EQ(values(runOp("cast", {floats}, I64, {6})),
            (std::vector<int64_t>{0, max, min, max, min, -2}));
}

TEST(KernelTest, WhereBroadcastsAllThree) {
  HostTensor condition = boolean({2, 1}, {1, 0});
  HostTensor x = f32({3}, {1, 2, 3});
  HostTensor y = f32({1}, {-1});
  expectNear(runOp("where", {condition, x, y}, F32, {2, 3}).floats(),
             {1, 2, 3, -1, -1, -1});
  HostTensor xi = i64({1}, {5}), yi = i64({2, 1}, {7, 8});
  HostTensor selected = runOp("where", {condition, xi, yi}, I64, {2, 1});
  EXPECT_EQ(selected.as<int64_t>()[0], 5);
  EXPECT_EQ(selected.as<int64_t>()[1], 8);
}

std::vector<float> referenceMatmul(const std::vector<float> &a,
                                   const Shape &aShape,
                                   const std::vector<float> &b,
                                   const Shape &bShape, const Shape &out) {
  int64_t m = out[out.size() - 2], n = out.back(), k = aShape.back();
  Shape batch(out.begin(), out.end() - 2);
  Shape aBatch(aShape.begin(), aShape.end() - 2),
      bBatch(bShape.begin(), bShape.end() - 2);
  std::vector<float> result(count(out));
  for (int64_t t = 0; t < count(batch); ++t) {
    int64_t ai = broadcastIndex(t, batch, aBatch),
            bi = broadcastIndex(t, batch, bBatch);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t p = 0; p < k; ++p)
          sum += a[ai * m * k + i * k + p] * b[bi * k * n + p * n + j];
        result[t * m * n + i * n + j] = static_cast<float>(sum);
      }
  }
  return result;
}

TEST(KernelTest, Matmul) {
  struct Case {
    Shape a, b, out;
  };
  const Case cases[] = {
      {{2, 1, 3, 4}, {5, 4, 6}, {2, 5, 3, 6}}, // batch broadcast both ways
      {{2, 7, 4}, {4, 5}, {2, 7, 5}},          // shared weights
      {{100, 50}, {50, 70}, {100, 70}},        // split over threads
      {{1, 3}, {3, 300}, {1, 300}},            // split over columns
      {{3, 2, 9}, {1, 9, 4}, {3, 2, 4}},
      {{1, 1}, {1, 1}, {1, 1}},         // one multiply
      {{37, 1}, {1, 29}, {37, 29}},     // k = 1: an outer product
      {{1, 130}, {130, 97}, {1, 97}},   // m = 1
      {{131, 67}, {67, 97}, {131, 97}}, // no size a multiple of a tile
      // Around the size where GEMMs leave the small-product loop: the
      // largest product it takes, one row more, and ragged blocks.
      {{16, 16}, {16, 16}, {16, 16}},
      {{17, 16}, {16, 16}, {17, 16}},
      {{1, 256}, {256, 16}, {1, 16}},
      {{5, 7}, {7, 33}, {5, 33}},
  };
  unsigned seed = 10;
  for (const Case &c : cases) {
    std::vector<float> a = randomFloats(count(c.a), seed++),
                       b = randomFloats(count(c.b), seed++);
    expectNear(runOp("matmul", {f32(c.a, a), f32(c.b, b)}, F32, c.out).floats(),
               referenceMatmul(a, c.a, b, c.b, c.out), 1e-4f);
  }
}

// The epilogue computes what the separate instructions compute, with the
// same scalar functions: equal up to the order of the GEMM's sums, which
// blocks that split over threads do not change.
TEST(KernelTest, MatmulEpilogue) {
  struct Case {
    Shape a, b, out;
  };
  const Case cases[] = {
      {{2, 1, 3, 4}, {5, 4, 6}, {2, 5, 3, 6}}, // batch broadcast
      {{2, 7, 4}, {4, 5}, {2, 7, 5}},          // shared weights
      {{100, 50}, {50, 70}, {100, 70}},        // split over threads
      {{1, 3}, {3, 300}, {1, 300}},            // split over columns
      {{3, 0}, {0, 4}, {3, 4}},                // nothing to sum
      {{37, 1}, {1, 29}, {37, 29}},            // k = 1
      {{1, 130}, {130, 97}, {1, 97}},          // m = 1
      {{131, 67}, {67, 97}, {131, 97}},        // no size a multiple of a tile
  };
  const std::pair<const char *, std::vector<dsp::program::Attribute>>
      activations[] = {{"none", {}},
                       {"gelu", {str("approximate", "none")}},
                       {"gelu_tanh", {str("approximate", "tanh")}},
                       {"silu", {}}};
  unsigned seed = 40;
  for (const Case &c : cases) {
    Shape bias = {c.out.back()};
    HostTensor a = f32(c.a, randomFloats(count(c.a), seed++)),
               b = f32(c.b, randomFloats(count(c.b), seed++)),
               biasValues = f32(bias, randomFloats(count(bias), seed++)),
               residual = f32(c.out, randomFloats(count(c.out), seed++));
    HostTensor product = runOp("matmul", {a, b}, F32, c.out);
    HostTensor sum = runOp("add", {product, biasValues}, F32, c.out);
    for (const auto &[activation, unaryAttributes] : activations) {
      SCOPED_TRACE(activation);
      std::string name = activation;
      HostTensor activated =
          name == "none"   ? sum
          : name == "silu" ? runOp("silu", {sum}, F32, c.out)
                           : runOp("gelu", {sum}, F32, c.out, unaryAttributes);
      std::vector<dsp::program::Attribute> attributes = {
          str("activation", activation)};
      expectNear(
          runOp("matmul", {a, b, biasValues}, F32, c.out, attributes).floats(),
          activated.floats(), 1e-6f);
      expectNear(
          runOp("matmul", {a, b, biasValues, residual}, F32, c.out, attributes)
              .floats(),
          runOp("add", {activated, residual}, F32, c.out).floats(), 1e-6f);
    }
  }
}

// Keys in several blocks of the online softmax (300) and in one (100), the
// single block's path.
TEST(KernelTest, AttentionMatchesNaiveSoftmax) {
  for (int64_t lk : {300, 100}) {
    SCOPED_TRACE(lk);
    const int64_t batch = 2, heads = 2, lq = 150, d = 16, dv = 8;
    const float scale = 0.25f;
    std::vector<float> q = randomFloats(batch * heads * lq * d, 20),
                       k = randomFloats(batch * heads * lk * d, 21),
                       v = randomFloats(batch * heads * lk * dv, 22);
    Shape out = {batch, heads, lq, dv};
    HostTensor qt = f32({batch, heads, lq, d}, q),
               kt = f32({batch, heads, lk, d}, k),
               vt = f32({batch, heads, lk, dv}, v);
    expectNear(
        runOp("attention", {qt, kt, vt}, F32, out, {floats("scale", {scale})})
            .floats(),
        referenceAttention(q, k, v, nullptr, {}, batch, heads, lq, lk, d, dv,
                           scale),
        1e-4f);

    // A mask broadcast over batch and heads: causal-ish with random values,
    // a fully masked row 7, and a row masked everywhere but the last ten
    // keys (of 300: their key block).
    Shape maskShape = {lq, lk};
    std::vector<float> mask = randomFloats(lq * lk, 23, -2, 2);
    for (int64_t i = 0; i < lq; ++i)
      for (int64_t j = 0; j < lk; ++j)
        if (j > 2 * i + 5 || i == 7 || (i == 9 && j < lk - 10))
          mask[i * lk + j] = -kInf;
    std::vector<float> expected = referenceAttention(
        q, k, v, &mask, maskShape, batch, heads, lq, lk, d, dv, scale);
    std::vector<float> got =
        runOp("attention", {qt, kt, vt, f32(maskShape, mask)}, F32, out,
              {floats("scale", {scale})})
            .floats();
    expectNear(got, expected, 1e-4f);
    for (int64_t c = 0; c < dv; ++c)
      EXPECT_EQ(got[7 * dv + c], 0.0f);
  }
}

// Operands and result read and written where they lie, through transposes
// that keep the head dim last: the attention of the transposed tensors,
// transposed, with and without a mask, in f32 and through bf16's f32
// copies.
TEST(KernelTest, AttentionThroughTransposes) {
  const int64_t batch = 2, heads = 3, lq = 37, lk = 45, d = 16, dv = 8;
  const Shape headsSplit = {0, 2, 1, 3}, headsFirst = {1, 0, 2, 3};
  for (DType dtype : {F32, dsp::program::BF16}) {
    SCOPED_TRACE(dsp::format::dtypeName(dtype));
    auto tensor = [&](const Shape &shape, unsigned seed) {
      std::vector<float> values = randomFloats(count(shape), seed, -2, 2);
      return dtype == F32 ? f32(shape, values) : float16(dtype, shape, values);
    };
    auto transpose = [&](const HostTensor &x, const Shape &perm,
                         const Shape &shape) {
      return runOp("transpose", {x}, dtype, shape, {ints("perm", perm)});
    };
    HostTensor q = tensor({batch, lq, heads, d}, 24),
               k = tensor({heads, batch, lk, d}, 25),
               v = tensor({batch, heads, lk, dv}, 26),
               mask = tensor({lq, lk}, 27);
    for (bool masked : {false, true}) {
      std::vector<HostTensor> operands = {q, k, v},
                              contiguous = {transpose(q, headsSplit,
                                                      {batch, heads, lq, d}),
                                            transpose(k, headsFirst,
                                                      {batch, heads, lk, d}),
                                            v};
      if (masked) {
        operands.push_back(mask);
        contiguous.push_back(mask);
      }
      HostTensor expected =
          transpose(runOp("attention", contiguous, dtype,
                          {batch, heads, lq, dv}, {floats("scale", {0.25})}),
                    headsSplit, {batch, lq, heads, dv});
      HostTensor got = runOp(
          "attention", operands, dtype, {batch, lq, heads, dv},
          {floats("scale", {0.25}), ints("query_perm", headsSplit),
           ints("key_perm", headsFirst), ints("output_perm", headsSplit)});
      expectNear(got.floats(), expected.floats(), 1e-6f);
    }
  }
}

// Query, key and value read in place out of one [B, L, 3, H, D] tensor, a
// fused projection's result: each at its index of dim 2, through the head
// split, in f32 and through bf16's f32 copies; against the attention of
// the same operands copied out contiguous.
TEST(KernelTest, AttentionReadsSelectedOperands) {
  const int64_t batch = 2, length = 9, heads = 3, d = 8;
  const Shape stored = {batch, length, 3, heads, d},
              attended = {batch, heads, length, d};
  for (DType dtype : {F32, dsp::program::BF16}) {
    SCOPED_TRACE(dsp::format::dtypeName(dtype));
    std::vector<float> projected = randomFloats(count(stored), 60, -2, 2);
    auto tensor = [&](const Shape &shape, const std::vector<float> &values) {
      return dtype == F32 ? f32(shape, values) : float16(dtype, shape, values);
    };
    std::vector<HostTensor> contiguous;
    for (int64_t part = 0; part < 3; ++part) {
      std::vector<float> values;
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t h = 0; h < heads; ++h)
          for (int64_t l = 0; l < length; ++l)
            for (int64_t c = 0; c < d; ++c)
              values.push_back(
                  projected[(((b * length + l) * 3 + part) * heads + h) * d +
                            c]);
      contiguous.push_back(tensor(attended, values));
    }
    HostTensor expected = runOp("attention", contiguous, dtype, attended,
                                {floats("scale", {0.3})});
    HostTensor whole = tensor(stored, projected);
    const Shape headsSplit = {0, 2, 1, 3};
    HostTensor got =
        runOp("attention", {whole, whole, whole}, dtype, attended,
              {floats("scale", {0.3}), ints("query_perm", headsSplit),
               ints("key_perm", headsSplit), ints("value_perm", headsSplit),
               ints("query_select", {2, 0}), ints("key_select", {2, 1}),
               ints("value_select", {2, 2})});
    expectNear(got.floats(), expected.floats(), 1e-6f);
  }
}

// Many small heads, whose GEMMs take the small-product loop, at sizes that
// fill its row and column blocks and sizes that leave ragged ones.
TEST(KernelTest, AttentionOverManySmallHeads) {
  struct Case {
    int64_t batch, heads, lq, lk, d, dv;
  };
  const Case cases[] = {
      {16, 4, 8, 8, 8, 8}, {3, 2, 17, 17, 16, 16}, {2, 3, 5, 7, 3, 9}};
  unsigned seed = 24;
  for (const Case &c : cases) {
    std::vector<float> q = randomFloats(c.batch * c.heads * c.lq * c.d, seed++),
                       k = randomFloats(c.batch * c.heads * c.lk * c.d, seed++),
                       v = randomFloats(c.batch * c.heads * c.lk * c.dv,
                                        seed++);
    expectNear(runOp("attention",
                     {f32({c.batch, c.heads, c.lq, c.d}, q),
                      f32({c.batch, c.heads, c.lk, c.d}, k),
                      f32({c.batch, c.heads, c.lk, c.dv}, v)},
                     F32, {c.batch, c.heads, c.lq, c.dv},
                     {floats("scale", {0.3})})
                   .floats(),
               referenceAttention(q, k, v, nullptr, {}, c.batch, c.heads, c.lq,
                                  c.lk, c.d, c.dv, 0.3f),
               1e-4f);
  }
}

TEST(KernelTest, RingAttentionLeavesOutThePaddedKeys) {
  // On one rank the ring is the block in hand: keys past key_count are
  // padding, here of huge scores, and must not count.
  const int64_t heads = 2, lq = 70, lk = 300, keyCount = 290, d = 16, dv = 8;
  std::vector<float> q = randomFloats(heads * lq * d, 40),
                     k = randomFloats(heads * lk * d, 41),
                     v = randomFloats(heads * lk * dv, 42);
  std::vector<float> kValid, vValid;
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t j = keyCount; j < lk; ++j)
      std::fill_n(k.begin() + (h * lk + j) * d, d, 1e6f);
    kValid.insert(kValid.end(), k.begin() + h * lk * d,
                  k.begin() + (h * lk + keyCount) * d);
    vValid.insert(vValid.end(), v.begin() + h * lk * dv,
                  v.begin() + (h * lk + keyCount) * dv);
  }
  expectNear(runOp("ring_attention",
                   {f32({1, heads, lq, d}, q), f32({1, heads, lk, d}, k),
                    f32({1, heads, lk, dv}, v)},
                   F32, {1, heads, lq, dv},
                   {floats("scale", {0.25}), ints("key_count", {keyCount})})
                 .floats(),
             referenceAttention(q, kValid, vValid, nullptr, {}, 1, heads, lq,
                                keyCount, d, dv, 0.25f),
             1e-4f);
}

TEST(KernelTest, RingAttentionKeepsSixteenBitBlocks) {
  // In f16 and bf16 the blocks stay 16-bit and are widened as they are taken
  // in: the result is the f32 ring's on the rounded inputs, rounded once.
  const int64_t heads = 2, lq = 20, lk = 24, keyCount = 21, d = 16, dv = 8;
  const Shape qShape = {1, heads, lq, d}, kShape = {1, heads, lk, d},
              vShape = {1, heads, lk, dv}, out = {1, heads, lq, dv};
  std::vector<dsp::program::Attribute> attributes = {
      floats("scale", {0.25}), ints("key_count", {keyCount})};
  for (dsp::program::DType dtype : {dsp::program::F16, dsp::program::BF16}) {
    HostTensor q = float16(dtype, qShape, randomFloats(heads * lq * d, 43)),
               k = float16(dtype, kShape, randomFloats(heads * lk * d, 44)),
               v = float16(dtype, vShape, randomFloats(heads * lk * dv, 45));
    std::vector<float> wide =
        runOp("ring_attention",
              {f32(qShape, q.floats()), f32(kShape, k.floats()),
               f32(vShape, v.floats())},
              F32, out, attributes)
            .floats();
    EXPECT_EQ(runOp("ring_attention", {q, k, v}, dtype, out, attributes).bytes,
              float16(dtype, out, wide).bytes);
  }
}

TEST(KernelTest, AttentionLongSequence) {
  const int64_t lq = 64, lk = 4100, d = 8, dv = 4;
  std::vector<float> q = randomFloats(lq * d, 30, -3, 3),
                     k = randomFloats(lk * d, 31, -3, 3),
                     v = randomFloats(lk * dv, 32);
  Shape mask = {1, 1, 1, lk};
  std::vector<float> maskValues(lk, 0.0f);
  for (int64_t j = 0; j < lk; j += 3)
    maskValues[j] = -kInf;
  expectNear(
      runOp("attention",
            {f32({1, 1, lq, d}, q), f32({1, 1, lk, d}, k),
             f32({1, 1, lk, dv}, v), f32(mask, maskValues)},
            F32, {1, 1, lq, dv}, {floats("scale", {0.5})})
          .floats(),
      referenceAttention(q, k, v, &maskValues, mask, 1, 1, lq, lk, d, dv, 0.5f),
      1e-4f);
}

/// ONNX Conv with 1 to 3 spatial dims, computed directly.
std::vector<float> referenceConv(const std::vector<float> &x, const Shape &xs,
                                 const std::vector<float> &w, const Shape &ws,
                                 const std::vector<float> *bias,
                                 const Shape &strides, const Shape &dilations,
                                 const Shape &pads, int64_t group,
                                 const Shape &out) {
  size_t spatial = xs.size() - 2;
  auto dim3 = [&](const Shape &s, size_t offset, int64_t fill) {
    Shape r(3, fill);
    for (size_t i = 0; i < spatial; ++i)
      r[3 - spatial + i] = s[offset + i];
    return r;
  };
  Shape in = dim3(xs, 2, 1), kernel = dim3(ws, 2, 1), o = dim3(out, 2, 1);
  Shape st = dim3(strides, 0, 1), di = dim3(dilations, 0, 1),
        pb = dim3(pads, 0, 0);
  int64_t cg = xs[1] / group, mg = ws[0] / group;
  std::vector<float> result(count(out));
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int64_t m = 0; m < ws[0]; ++m)
      for (int64_t z = 0; z < o[0]; ++z)
        for (int64_t y = 0; y < o[1]; ++y)
          for (int64_t xx = 0; xx < o[2]; ++xx) {
            double sum = bias ? (*bias)[m] : 0;
            int64_t g = m / mg;
            for (int64_t c = 0; c < cg; ++c)
              for (int64_t kz = 0; kz < kernel[0]; ++kz)
                for (int64_t ky = 0; ky < kernel[1]; ++ky)
                  for (int64_t kx = 0; kx < kernel[2]; ++kx) {
                    int64_t iz = z * st[0] - pb[0] + kz * di[0];
                    int64_t iy = y * st[1] - pb[1] + ky * di[1];
                    int64_t ix = xx * st[2] - pb[2] + kx * di[2];
                    if (iz < 0 || iz >= in[0] || iy < 0 || iy >= in[1] ||
                        ix < 0 || ix >= in[2])
                      continue;
                    int64_t channel = g * cg + c;
                    sum +=
                        x[(((n * xs[1] + channel) * in[0] + iz) * in[1] + iy) *
                              in[2] +
                          ix] *
                        w[(((m * cg + c) * kernel[0] + kz) * kernel[1] + ky) *
                              kernel[2] +
                          kx];
                  }
            result[(((n * ws[0] + m) * o[0] + z) * o[1] + y) * o[2] + xx] =
                static_cast<float>(sum);
          }
  return result;
}

struct ConvCase {
  Shape x, w, strides, dilations, pads;
  int64_t group;
  bool bias;
  Shape out;
};

void checkConv(const ConvCase &c, unsigned seed) {
  std::vector<float> x = randomFloats(count(c.x), seed),
                     w = randomFloats(count(c.w), seed + 1),
                     b = randomFloats(c.w[0], seed + 2);
  std::vector<HostTensor> inputs = {f32(c.x, x), f32(c.w, w)};
  if (c.bias)
    inputs.push_back(f32({c.w[0]}, b));
  expectNear(runOp("conv", inputs, F32, c.out,
                   {ints("strides", c.strides), ints("dilations", c.dilations),
                    ints("pads", c.pads), ints("group", {c.group})})
                 .floats(),
             referenceConv(x, c.x, w, c.w, c.bias ? &b : nullptr, c.strides,
                           c.dilations, c.pads, c.group, c.out),
             1e-4f);
}

TEST(KernelTest, Conv2D) {
  // Strides, asymmetric pads, dilation, groups and bias.
  checkConv({{2, 4, 7, 9},
             {6, 2, 3, 3},
             {2, 1},
             {1, 2},
             {1, 0, 0, 2},
             2,
             true,
             {2, 6, 3, 7}},
            40);
  // Stride, dilation and pads along the innermost dim, whose runs the
  // column gather copies; blocks of positions (one per thread) that start
  // inside an output row. Dilated: a column per position.
  checkConv({{1, 2, 9, 10},
             {3, 2, 3, 3},
             {2, 3},
             {1, 2},
             {2, 3, 1, 2},
             1,
             true,
             {1, 3, 5, 4}},
            44);
  // Undilated: a row per position (transposed columns).
  checkConv({{1, 2, 9, 10},
             {3, 2, 3, 2},
             {1, 2},
             {2, 1},
             {1, 1, 2, 1},
             1,
             true,
             {1, 3, 8, 6}},
            45);
  // Pointwise, depthwise.
  checkConv({{1, 3, 5, 5},
             {4, 3, 1, 1},
             {1, 1},
             {1, 1},
             {0, 0, 0, 0},
             1,
             false,
             {1, 4, 5, 5}},
            41);
  checkConv({{1, 4, 6, 6},
             {4, 1, 3, 3},
             {1, 1},
             {1, 1},
             {1, 1, 1, 1},
             4,
             true,
             {1, 4, 6, 6}},
            42);
  // Patch embedding: kernel = stride.
  checkConv({{2, 3, 32, 32},
             {8, 3, 8, 8},
             {8, 8},
             {1, 1},
             {0, 0, 0, 0},
             1,
             true,
             {2, 8, 4, 4}},
            43);
}

TEST(KernelTest, Conv1DAnd3D) {
  checkConv({{2, 3, 11}, {5, 3, 3}, {2}, {1}, {1, 1}, 1, true, {2, 5, 6}}, 50);
  // Video patch embedding: tubelets of 2x4x4.
  checkConv({{1, 3, 4, 8, 8},
             {6, 3, 2, 4, 4},
             {2, 4, 4},
             {1, 1, 1},
             {0, 0, 0, 0, 0, 0},
             1,
             true,
             {1, 6, 2, 2, 2}},
            51);
  checkConv({{1, 4, 3, 5, 6},
             {2, 2, 2, 3, 2},
             {1, 2, 1},
             {2, 1, 1},
             {1, 1, 0, 0, 0, 1},
             2,
             false,
             {1, 2, 2, 2, 6}},
            52);
}

TEST(KernelTest, GatherNegativeIndices) {
  std::vector<float> data(3 * 4 * 2);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<float>(i);
  HostTensor indices = i64({2, 2}, {0, -1, 2, -4});
  HostTensor out = runOp("gather", {f32({3, 4, 2}, data), indices}, F32,
                         {3, 2, 2, 2}, {ints("axis", {1})});
  std::vector<float> expected;
  const int64_t resolved[] = {0, 3, 2, 0};
  for (int64_t a = 0; a < 3; ++a)
    for (int64_t j : resolved)
      for (int64_t c = 0; c < 2; ++c)
        expected.push_back(data[(a * 4 + j) * 2 + c]);
  expectNear(out.floats(), expected);
}

TEST(KernelTest, GatherOutOfRangeIsAnError) {
  ProgramBuilder builder;
  uint32_t data = builder.weight("table", f32({4}, {1, 2, 3, 4}));
  uint32_t indices = builder.input("indices", I64, {2});
  builder.output(
      builder.op("gather", {data, indices}, F32, {2}, {ints("axis", {0})}));
  std::string path = temporaryPath("gather_range.dspx");
  ASSERT_EQ(builder.write(path), "");
  std::string error;
  auto session = dsp::runtime::Session::open(path, {}, error);
  ASSERT_TRUE(session) << error;
  std::vector<int64_t> bad = {1, -5};
  ASSERT_TRUE(session->bindInput(0, I64, {2}, bad.data(), 16).ok());
  dsp::runtime::Status status = session->run();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("index -5"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("gather"), std::string::npos);
}

TEST(KernelTest, SliceNegativeSteps) {
  std::vector<float> data(4 * 6);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<float>(i);
  // Rows 3, 1; columns 5, 2.
  HostTensor out = runOp("slice", {f32({4, 6}, data)}, F32, {2, 2},
                         {ints("starts", {3, 5}), ints("limits", {0, 0}),
                          ints("strides", {-2, -3})});
  expectNear(out.floats(), {23, 20, 11, 8});
  // Forward with a step, and an empty dim.
  expectNear(runOp("slice", {f32({4, 6}, data)}, F32, {2, 3},
                   {ints("starts", {1, 0}), ints("limits", {3, 6}),
                    ints("strides", {1, 2})})
                 .floats(),
             {6, 8, 10, 12, 14, 16});
  EXPECT_TRUE(runOp("slice", {f32({4, 6}, data)}, F32, {0, 6},
                    {ints("starts", {2, 0}), ints("limits", {2, 6}),
                     ints("strides", {1, 1})})
                  .bytes.empty());
}

TEST(KernelTest, Reductions) {
  Shape in = {3, 4, 5};
  std::vector<float> x = randomFloats(60, 60);
  std::vector<float> sum(4, 0), maximum(4, -kInf);
  for (int64_t a = 0; a < 3; ++a)
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t c = 0; c < 5; ++c) {
        sum[b] += x[(a * 4 + b) * 5 + c];
        maximum[b] = std::max(maximum[b], x[(a * 4 + b) * 5 + c]);
      }
  std::vector<float> mean;
  for (float s : sum)
    mean.push_back(s / 15);
  auto attrs = [](int64_t keep) {
    return std::vector<dsp::program::Attribute>{ints("axes", {0, 2}),
                                                ints("keepdims", {keep})};
  };
  expectNear(runOp("reduce_sum", {f32(in, x)}, F32, {4}, attrs(0)).floats(),
             sum);
  expectNear(
      runOp("reduce_mean", {f32(in, x)}, F32, {1, 4, 1}, attrs(1)).floats(),
      mean);
  expectNear(runOp("reduce_max", {f32(in, x)}, F32, {4}, attrs(0)).floats(),
             maximum);
  // Last-axis mean, the layer-norm-like pattern.
  std::vector<float> rowMean(12, 0);
  for (int64_t r = 0; r < 12; ++r) {
    for (int64_t c = 0; c < 5; ++c)
      rowMean[r] += x[r * 5 + c];
    rowMean[r] /= 5;
  }
  expectNear(runOp("reduce_mean", {f32(in, x)}, F32, {3, 4, 1},
                   {ints("axes", {2}), ints("keepdims", {1})})
                 .floats(),
             rowMean);
}

TEST(KernelTest, SoftmaxMiddleAxisAndMaskedRow) {
  Shape in = {2, 3, 4};
  std::vector<float> x = randomFloats(24, 70, -3, 3);
  // Column (0, *, 1) is all -inf.
  for (int64_t j = 0; j < 3; ++j)
    x[j * 4 + 1] = -kInf;
  std::vector<float> expected(24);
  for (int64_t a = 0; a < 2; ++a)
    for (int64_t c = 0; c < 4; ++c) {
      float m = -kInf;
      for (int64_t j = 0; j < 3; ++j)
        m = std::max(m, x[(a * 3 + j) * 4 + c]);
      double s = 0;
      for (int64_t j = 0; j < 3; ++j)
        s += m == -kInf ? 0 : std::exp(x[(a * 3 + j) * 4 + c] - m);
      for (int64_t j = 0; j < 3; ++j)
        expected[(a * 3 + j) * 4 + c] =
            m == -kInf ? 0 : std::exp(x[(a * 3 + j) * 4 + c] - m) / s;
    }
  expectNear(
      runOp("softmax", {f32(in, x)}, F32, in, {ints("axis", {1})}).floats(),
      expected);
}

TEST(KernelTest, LayerNorm) {
  Shape in = {3, 2, 8};
  std::vector<float> x = randomFloats(48, 80, -5, 5),
                     scale = randomFloats(16, 81), bias = randomFloats(16, 82);
  std::vector<float> expected(48), noBias(48);
  for (int64_t r = 0; r < 3; ++r) {
    double mean = 0, var = 0;
    for (int64_t c = 0; c < 16; ++c)
      mean += x[r * 16 + c];
    mean /= 16;
    for (int64_t c = 0; c < 16; ++c)
      var += (x[r * 16 + c] - mean) * (x[r * 16 + c] - mean);
    var /= 16;
    for (int64_t c = 0; c < 16; ++c) {
      double normalized = (x[r * 16 + c] - mean) / std::sqrt(var + 1e-5);
      expected[r * 16 + c] = normalized * scale[c] + bias[c];
      noBias[r * 16 + c] = normalized * scale[c];
    }
  }
  auto attrs = std::vector<dsp::program::Attribute>{ints("axis", {1}),
                                                    floats("epsilon", {1e-5})};
  expectNear(runOp("layer_norm",
                   {f32(in, x), f32({2, 8}, scale), f32({2, 8}, bias)}, F32, in,
                   attrs)
                 .floats(),
             expected, 1e-4f);
  expectNear(
      runOp("layer_norm", {f32(in, x), f32({2, 8}, scale)}, F32, in, attrs)
          .floats(),
      noBias, 1e-4f);
}

// Rows of a large mean and a small spread (an unnormalized residual
// stream): the statistics must not lose the spread to the mean's rounding,
// over rows of several blocks of the float sums.
TEST(KernelTest, LayerNormOfALargeMean) {
  const int64_t rows = 3, columns = 2500;
  std::vector<float> x = randomFloats(rows * columns, 83, -1, 1);
  for (int64_t i = 0; i < rows * columns; ++i)
    x[i] += 3e4f * static_cast<float>(i / columns + 1);
  std::vector<float> expected(rows * columns);
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t c = 0; c < columns; ++c)
      mean += x[r * columns + c];
    mean /= columns;
    for (int64_t c = 0; c < columns; ++c)
      var += (x[r * columns + c] - mean) * (x[r * columns + c] - mean);
    var /= columns;
    for (int64_t c = 0; c < columns; ++c)
      expected[r * columns + c] = static_cast<float>(
          (x[r * columns + c] - mean) / std::sqrt(var + 1e-5));
  }
  std::vector<float> ones(columns, 1.0f);
  expectNear(
      runOp("layer_norm", {f32({rows, columns}, x), f32({columns}, ones)}, F32,
            {rows, columns}, {ints("axis", {1}), floats("epsilon", {1e-5})})
          .floats(),
      expected, 1e-4f);
}

// Strided loops split into chunks that start and end inside runs along the
// innermost dim: the transpose's runs are 7 elements, the broadcast's 5.
TEST(KernelTest, StridedLoopsSplitInsideRuns) {
  const Shape in = {2999, 7, 5};
  std::vector<float> x(count(in));
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i);
  std::vector<float> transposed;
  for (int64_t a = 0; a < in[0]; ++a)
    for (int64_t c = 0; c < in[2]; ++c)
      for (int64_t b = 0; b < in[1]; ++b)
        transposed.push_back(x[(a * in[1] + b) * in[2] + c]);
  for (unsigned threads : {1u, 2u, 3u}) {
    SCOPED_TRACE(threads);
    expectNear(runOp("transpose", {f32(in, x)}, F32, {in[0], in[2], in[1]},
                     {ints("perm", {0, 2, 1})}, threads)
                   .floats(),
               transposed);
    std::vector<float> bias = randomFloats(in[1], 5);
    std::vector<float> sum(x.size());
    for (size_t i = 0; i < x.size(); ++i)
      sum[i] = x[i] + bias[i / in[2] % in[1]];
    expectNear(
        runOp("add", {f32(in, x), f32({in[1], 1}, bias)}, F32, in, {}, threads)
            .floats(),
        sum);
  }
}

TEST(KernelTest, DataMovement) {
  std::vector<float> x(24);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i);
  HostTensor t = f32({2, 3, 4}, x);
  expectNear(runOp("reshape", {t}, F32, {4, 6}).floats(), x);

  std::vector<float> transposed;
  for (int64_t c = 0; c < 4; ++c)
    for (int64_t a = 0; a < 2; ++a)
      for (int64_t b = 0; b < 3; ++b)
        transposed.push_back(x[(a * 3 + b) * 4 + c]);
  expectNear(runOp("transpose", {t}, F32, {4, 2, 3}, {ints("perm", {2, 0, 1})})
                 .floats(),
             transposed);

  HostTensor y = f32({2, 1, 4}, {100, 101, 102, 103, 104, 105, 106, 107});
  std::vector<float> concatenated;
  for (int64_t a = 0; a < 2; ++a) {
    for (int64_t i = 0; i < 12; ++i)
      concatenated.push_back(x[a * 12 + i]);
    for (int64_t i = 0; i < 4; ++i)
      concatenated.push_back(100 + a * 4 + i);
  }
  expectNear(
      runOp("concat", {t, y}, F32, {2, 4, 4}, {ints("axis", {1})}).floats(),
      concatenated);
  expectNear(runOp("concat", {y}, F32, {2, 1, 4}, {ints("axis", {0})}).floats(),
             y.floats());

  expectNear(runOp("expand", {f32({3, 1}, {1, 2, 3})}, F32, {2, 3, 2}).floats(),
             {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
  expectNear(
      runOp("tile", {f32({2, 2}, {1, 2, 3, 4})}, F32, {4, 6},
            {ints("repeats", {2, 3})})
          .floats(),
      {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4});
  HostTensor flags = boolean({2}, {1, 0});
  EXPECT_EQ(runOp("tile", {flags}, BOOL, {4}, {ints("repeats", {2})}).bytes,
            (std::vector<uint8_t>{1, 0, 1, 0}));
}

} // namespace
