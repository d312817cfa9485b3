//===- Gemm.cpp - Single-threaded SGEMM for the CPU kernels ---------------===//
//
// Both libraries would start threads of their own (OpenMP for oneDNN,
// pthreads for OpenBLAS); here each runs on the thread that calls it, so the
// session's pool alone decides how many cores are busy and no idle library
// thread spins next to the pool's or another rank's.
//
//===----------------------------------------------------------------------===//

#include "Gemm.h"

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
