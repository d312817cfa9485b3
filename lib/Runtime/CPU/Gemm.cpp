//===- Gemm.cpp - Single-threaded SGEMM for the CPU kernels ---------------===//
//
// Both libraries would start threads of their own (OpenMP for oneDNN,
// pthreads for OpenBLAS); here each runs on the thread that calls it, so the
// session's pool alone decides how many cores are busy and no idle library
// thread spins next to the pool's or another rank's.
//
// Products of up to 2^17 multiply-adds (the scores and values of an
// attention tile, 64 queries by 64 keys of depth 32) take a kernel of our
// own: a library call costs a fixed 0.3-1 us, allocates its packing buffers
// and, inside attention, runs thousands of times per op.
//
//===----------------------------------------------------------------------===//

#include "Gemm.h"
#include "FastMath.h"
#include "VectorVariant.h"

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
constexpr int64_t kSmallRows = 6, kSmallLanes = 16;
constexpr int64_t kSmallGemmMaxProduct = int64_t(1) << 17;
constexpr int64_t kSmallGemmMaxPacked = 8192;

int64_t paddedColumns(int64_t n) {
  return (n + kSmallLanes - 1) / kSmallLanes * kSmallLanes;
}

/// A row of the 8 x 8 blocks that packB transposes.
typedef float EightFloats __attribute__((vector_size(32)));

/// Transposes the 8 x 8 block whose rows are `rows` in place: three rounds
/// of shuffles (pairs of elements, pairs of pairs, halves), which compile to
/// the unpack, shuffle and lane-permute instructions of the vector variants.
inline void transpose8x8(EightFloats rows[8]) {
  EightFloats pairs[8], quads[8];
  for (int i = 0; i < 8; i += 2) {
    pairs[i] =
        __builtin_shufflevector(rows[i], rows[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    pairs[i + 1] = __builtin_shufflevector(rows[i], rows[i + 1], 2, 10, 3, 11,
                                           6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4)
    for (int half = 0; half < 2; ++half) {
      quads[i + 2 * half] = __builtin_shufflevector(
          pairs[i + half], pairs[i + half + 2], 0, 1, 8, 9, 4, 5, 12, 13);
      quads[i + 2 * half + 1] = __builtin_shufflevector(
          pairs[i + half], pairs[i + half + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    }
  for (int i = 0; i < 4; ++i) {
    rows[i] = __builtin_shufflevector(quads[i], quads[i + 4], 0, 1, 2, 3, 8, 9,
                                      10, 11);
    rows[i + 4] = __builtin_shufflevector(quads[i], quads[i + 4], 4, 5, 6, 7,
                                          12, 13, 14, 15);
  }
}

/// B as `k` rows of `width` floats (n padded with zeros to whole tiles);
/// part of SmallGemm's variants.
__attribute__((always_inline)) inline void packB(bool transposeB, int64_t n,
                                                 int64_t k, const float *b,
                                                 int64_t ldb, int64_t width,
                                                 float *packed) {
  if (transposeB) {
    // Blocks of 8 rows of B^T by 8 of its columns go through registers.
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
      int64_t p = 0;
      for (; p + 8 <= k; p += 8) {
        EightFloats block[8];
        for (int t = 0; t < 8; ++t)
          std::memcpy(&block[t], b + (j + t) * ldb + p, sizeof(EightFloats));
        transpose8x8(block);
        for (int t = 0; t < 8; ++t)
          std::memcpy(packed + (p + t) * width + j, &block[t],
                      sizeof(EightFloats));
      }
      for (; p < k; ++p)
        for (int64_t t = 0; t < 8; ++t)
          packed[p * width + j + t] = b[(j + t) * ldb + p];
    }
    for (; j < n; ++j)
      for (int64_t p = 0; p < k; ++p)
        packed[p * width + j] = b[j * ldb + p];
  } else {
    for (int64_t p = 0; p < k; ++p)
      std::memcpy(packed + p * width, b + p * ldb, n * sizeof(float));
  }
  for (int64_t p = 0; p < k; ++p)
    std::fill(packed + p * width + n, packed + (p + 1) * width, 0.0f);
}

/// C = alpha A B + beta C for k * paddedColumns(n) <= kSmallGemmMaxPacked, a
/// tile of 6 rows by 16 columns at a time: the tile's sums held in
/// registers (12 AVX2 or 6 AVX-512 ones), each step of k one broadcast of A
/// per row and a fused multiply-add per register.
struct SmallGemm {
  template <typename Vector>
  __attribute__((always_inline)) static inline void
  run(bool transposeB, int64_t m, int64_t n, int64_t k, float alpha,
      const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
      float *c, int64_t ldc) {
    constexpr int kLanes = VectorLanes<Vector>::kCount;
    constexpr int kPerRow = kSmallLanes / kLanes;
    static_assert(kPerRow == 1 || kPerRow == 2);
    // B's rows are read where they lie when they hold whole tiles.
    const bool inPlace = !transposeB && n % kSmallLanes == 0;
    const int64_t width = inPlace ? ldb : paddedColumns(n);
    alignas(64) float packed[kSmallGemmMaxPacked];
    if (!inPlace)
      packB(transposeB, n, k, b, ldb, width, packed);
    const float *bRows = inPlace ? b : packed;
    for (int64_t firstRow = 0; firstRow < m; firstRow += kSmallRows) {
      const int64_t rows = std::min(kSmallRows, m - firstRow);
      // A last tile of fewer rows repeats its last row, whose sums it drops.
      const float *a0 = a + firstRow * lda;
      const float *a1 = a + (firstRow + std::min<int64_t>(1, rows - 1)) * lda;
      const float *a2 = a + (firstRow + std::min<int64_t>(2, rows - 1)) * lda;
      const float *a3 = a + (firstRow + std::min<int64_t>(3, rows - 1)) * lda;
      const float *a4 = a + (firstRow + std::min<int64_t>(4, rows - 1)) * lda;
      const float *a5 = a + (firstRow + std::min<int64_t>(5, rows - 1)) * lda;
      for (int64_t firstColumn = 0; firstColumn < n;
           firstColumn += kSmallLanes) {
        // Separate variables, not an array: GCC keeps these in registers.
        // With 16-float vectors a row needs only the first of its two.
        Vector s00 = {}, s01 = {}, s10 = {}, s11 = {}, s20 = {}, s21 = {};
        Vector s30 = {}, s31 = {}, s40 = {}, s41 = {}, s50 = {}, s51 = {};
        const float *bTile = bRows + firstColumn;
        for (int64_t p = 0; p < k; ++p, bTile += width) {
          Vector b0, b1;
          std::memcpy(&b0, bTile, sizeof(b0));
          if constexpr (kPerRow == 2)
            std::memcpy(&b1, bTile + kLanes, sizeof(b1));
          auto accumulate = [&](Vector &left, Vector &right, float element) {
            left += element * b0;
            if constexpr (kPerRow == 2)
              right += element * b1;
          };
          accumulate(s00, s01, a0[p]);
          accumulate(s10, s11, a1[p]);
          accumulate(s20, s21, a2[p]);
          accumulate(s30, s31, a3[p]);
          accumulate(s40, s41, a4[p]);
          accumulate(s50, s51, a5[p]);
        }
        const Vector sums[kSmallRows][2] = {{s00, s01}, {s10, s11}, {s20, s21},
                                            {s30, s31}, {s40, s41}, {s50, s51}};
        const int64_t columns = std::min(kSmallLanes, n - firstColumn);
        for (int64_t r = 0; r < rows; ++r) {
          float *out = c + (firstRow + r) * ldc + firstColumn;
          if (columns < kSmallLanes) {
            for (int64_t lane = 0; lane < columns; ++lane)
              out[lane] = alpha * sums[r][lane / kLanes][lane % kLanes] +
                          (beta == 0 ? 0.0f : beta * out[lane]);
            continue;
          }
          for (int v = 0; v < kPerRow; ++v) {
            Vector result = alpha * sums[r][v];
            if (beta != 0) {
              Vector old;
              std::memcpy(&old, out + v * kLanes, sizeof(old));
              result += beta * old;
            }
            std::memcpy(out + v * kLanes, &result, sizeof(result));
          }
        }
      }
    }
  }
};

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
    return runWidest<SmallGemm>(transposeB, m, n, k, alpha, a, lda, b, ldb,
                                beta, c, ldc);
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
