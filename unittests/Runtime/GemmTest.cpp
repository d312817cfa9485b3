//===- GemmTest.cpp - The CPU kernels' single-threaded SGEMM --------------===//
//
// gemm() takes small products itself (a register-tiled kernel over a packed
// or in-place B) and hands larger ones to the library: both against a
// double-precision product, on shapes around the kernel's tile edges.
//
//===----------------------------------------------------------------------===//

#include "CPU/Gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace {

struct GemmCase {
  bool transposeB;
  int64_t m, n, k;
  float alpha, beta;
};

void checkGemm(const GemmCase &g) {
  // Leading dimensions larger than the matrices, so that a kernel reading
  // or writing past a row's end is seen.
  const int64_t lda = g.k + 3, ldb = (g.transposeB ? g.k : g.n) + 5,
                ldc = g.n + 2;
  std::mt19937 random(static_cast<unsigned>(g.m * 131 + g.n * 17 + g.k));
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> a(g.m * lda), b((g.transposeB ? g.n : g.k) * ldb),
      c(g.m * ldc);
  for (std::vector<float> *matrix : {&a, &b, &c})
    for (float &x : *matrix)
      x = uniform(random);
  std::vector<float> expected = c;
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = 0; j < g.n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < g.k; ++p)
        sum += double(a[i * lda + p]) *
               (g.transposeB ? b[j * ldb + p] : b[p * ldb + j]);
      expected[i * ldc + j] =
          float(g.alpha * sum + (g.beta == 0 ? 0.0 : g.beta * c[i * ldc + j]));
    }
  dsp::runtime::cpu::gemm(g.transposeB, g.m, g.n, g.k, g.alpha, a.data(), lda,
                          b.data(), ldb, g.beta, c.data(), ldc);
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      // Past column n, C keeps its values.
      ASSERT_NEAR(c[i * ldc + j], expected[i * ldc + j],
                  1e-4f * (1 + std::sqrt(float(g.k))))
          << "m " << g.m << " n " << g.n << " k " << g.k << " transposeB "
          << g.transposeB << " beta " << g.beta << " at (" << i << ", " << j
          << ")";
    }
}

TEST(GemmTest, SmallProductsAroundTheTileEdges) {
  for (bool transposeB : {false, true})
    for (int64_t m : {1, 5, 6, 7, 13})
      for (int64_t n : {1, 15, 16, 17, 32, 33})
        for (int64_t k : {1, 7, 19, 32})
          for (float beta : {0.0f, 0.5f})
            checkGemm({transposeB, m, n, k, 0.75f, beta});
}

TEST(GemmTest, AttentionTilesAndLibraryProducts) {
  // The scores and values of a tile of 64 queries, 64 keys, depth 32 (the
  // largest the own kernel takes), and products past it.
  for (bool transposeB : {false, true})
    for (float beta : {0.0f, 1.0f}) {
      checkGemm({transposeB, 64, 64, 32, 0.25f, beta});
      checkGemm({transposeB, 64, 32, 64, 1.0f, beta});
      checkGemm({transposeB, 65, 64, 33, 1.0f, beta});
      checkGemm({transposeB, 100, 80, 70, 1.0f, beta});
    }
}

} // namespace
