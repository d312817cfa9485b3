//===- Gemm.h - Single-threaded SGEMM for the CPU kernels -------*- C++ -*-===//
//
// The kernels split their GEMMs into tiles that the session's thread pool
// runs; every tile is one call here, on one thread. The library behind it is
// chosen when the project is configured: oneDNN where it is installed (its
// kernels are generated for the instruction sets the CPU reports, AVX-512
// and AMX included), OpenBLAS otherwise.
//
//===----------------------------------------------------------------------===//

#ifndef DSP_RUNTIME_CPU_GEMM_H
#define DSP_RUNTIME_CPU_GEMM_H

#include <cstdint>

namespace dsp {
namespace runtime {
namespace cpu {

/// C[m, n] = alpha * A[m, k] * op(B) + beta * C, row-major, where op(B) is
/// B[k, n] or, with `transposeB`, B[n, k] transposed. Runs on the calling
/// thread only.
void gemm(bool transposeB, int64_t m, int64_t n, int64_t k, float alpha,
          const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
          float *c, int64_t ldc);

} // namespace cpu
} // namespace runtime
} // namespace dsp

#endif // DSP_RUNTIME_CPU_GEMM_H
