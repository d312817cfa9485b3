//===- Gemm.cpp - Single-threaded SGEMM for the CPU kernels ---------------===//
//
// Both libraries would start threads of their own (OpenMP for oneDNN,
// pthreads for OpenBLAS); here each runs on the thread that calls it, so the
// session's pool alone decides how many cores are busy and no idle library
// thread spins next to the pool's or another rank's.
//
// Products of a few thousand multiply-adds (the scores and values of a small
// attention head, 8x8x8) take a loop of our own: a library call costs a
// fixed 0.3-0.5 us there, several times the arithmetic.
//
//===----------------------------------------------------------------------===//

#include "Gemm.h"
#include "FastMath.h"

#include <algorithm>
#include <cstring>

#ifdef DSP_HAVE_ONEDNN
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#else
#include <cblas.h>
#include <mutex>
#endif

namespace dsp {
namespace runtime {
namespace cpu {

namespace {

// The loop of our own: blocks of kSmallRows rows x kSmallLanes columns of C,
// whose accumulators stay in vector registers, over B packed row-major with
// its columns padded to a multiple of kSmallLanes.
constexpr int64_t kSmallRows = 4, kSmallLanes = 16;
// Measured against oneDNN 2.6 on AVX-512 (bench/small_gemm.cpp, figures in
// docs/benchmarks.md): 2-5x as fast at 8x8x8, 1.3-2x at 16x16x16, even or
// slower beyond.
constexpr int64_t kSmallGemmMaxProduct = 4096;
constexpr int64_t kSmallGemmMaxPacked = 4096;

int64_t paddedColumns(int64_t n) {
  return (n + kSmallLanes - 1) / kSmallLanes * kSmallLanes;
}

DSP_WIDEST_VECTORS void smallGemm(bool transposeB, int64_t m, int64_t n,
                                  int64_t k, float alpha, const float *a,
                                  int64_t lda, const float *b, int64_t ldb,
                                  float beta, float *c, int64_t ldc) {
  const int64_t width = paddedColumns(n);
  float packed[kSmallGemmMaxPacked];
  for (int64_t p = 0; p < k; ++p) {
    float *row = packed + p * width;
    if (transposeB)
      for (int64_t j = 0; j < n; ++j)
        row[j] = b[j * ldb + p];
    else
      std::memcpy(row, b + p * ldb, n * sizeof(float));
    std::fill(row + n, row + width, 0.0f);
  }
  for (int64_t firstRow = 0; firstRow < m; firstRow += kSmallRows) {
    const int64_t rows = std::min(kSmallRows, m - firstRow);
    // A last block of fewer rows repeats its last row, whose sums it drops.
    const float *aRows[kSmallRows];
    for (int64_t r = 0; r < kSmallRows; ++r)
      aRows[r] = a + (firstRow + std::min(r, rows - 1)) * lda;
    for (int64_t firstColumn = 0; firstColumn < width;
         firstColumn += kSmallLanes) {
      float sums[kSmallRows][kSmallLanes] = {};
      for (int64_t p = 0; p < k; ++p) {
        const float *bRow = packed + p * width + firstColumn;
        for (int64_t r = 0; r < kSmallRows; ++r)
          for (int64_t lane = 0; lane < kSmallLanes; ++lane)
            sums[r][lane] += aRows[r][p] * bRow[lane];
      }
      const int64_t columns = std::min(kSmallLanes, n - firstColumn);
      for (int64_t r = 0; r < rows; ++r) {
        float *out = c + (firstRow + r) * ldc + firstColumn;
        for (int64_t lane = 0; lane < columns; ++lane)
          out[lane] =
              alpha * sums[r][lane] + (beta == 0 ? 0.0f : beta * out[lane]);
      }
    }
  }
}

} // namespace

void gemm(bool transposeB, int64_t m, int64_t n, int64_t k, float alpha,
          const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
          float *c, int64_t ldc) {
  if (m == 0 || n == 0)
    return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        c[i * ldc + j] = beta == 0 ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  if (m * n * k <= kSmallGemmMaxProduct &&
      k * paddedColumns(n) <= kSmallGemmMaxPacked)
    return smallGemm(transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#ifdef DSP_HAVE_ONEDNN
  // OpenMP's thread count is a setting of the calling thread: at one,
  // oneDNN starts no team. The caller's own setting (a host application's
  // thread may use OpenMP too) comes back afterwards.
  int callerThreads = omp_get_max_threads();
  omp_set_num_threads(1);
  dnnl_sgemm('N', transposeB ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta,
             c, ldc);
  omp_set_num_threads(callerThreads);
#else
  static std::once_flag singleThreaded;
  std::call_once(singleThreaded, [] { openblas_set_num_threads(1); });
  cblas_sgemm(CblasRowMajor, CblasNoTrans,
              transposeB ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), alpha, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c,
              static_cast<int>(ldc));
#endif
}

} // namespace cpu
} // namespace runtime
} // namespace dsp
