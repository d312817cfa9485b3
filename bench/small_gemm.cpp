//===- small_gemm.cpp - Small GEMMs: gemm() against dnnl_sgemm ------------===//
//
// Times dsp's single-threaded gemm() (lib/Runtime/CPU/Gemm.h), which takes
// products of at most 2^17 multiply-adds itself and hands larger ones to
// oneDNN, against dnnl_sgemm called directly, on the sizes of attention
// heads and tiles up to that bound. Build and run, with
// libdnnl-dev installed (-O3 as in the project's Release build, whose loop
// vectorizer the small-product loop relies on):
//
//   g++ -O3 -fopenmp -DDSP_HAVE_ONEDNN -Ilib/Runtime bench/small_gemm.cpp \
//     lib/Runtime/CPU/Gemm.cpp -o small_gemm -ldnnl
//   ./small_gemm
//
//===----------------------------------------------------------------------===//

#include "CPU/Gemm.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <vector>

namespace {

/// Microseconds per call of `run`, the best of 5 rounds of about 20 ms.
double microseconds(const std::function<void()> &run, int64_t flops) {
  run();
  int64_t repeats = std::max<int64_t>(100, 20000000 / flops);
  double best = 1e30;
  for (int round = 0; round < 5; ++round) {
    auto start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < repeats; ++i)
      run();
    std::chrono::duration<double, std::micro> elapsed =
        std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count() / repeats);
  }
  return best;
}

} // namespace

int main() {
  const int64_t sizes[][3] = {
      {8, 8, 8},    {16, 16, 16}, {17, 17, 16}, {16, 16, 32}, {16, 32, 16},
      {16, 128, 8}, {32, 32, 32}, {64, 32, 32}, {64, 32, 64}, {64, 64, 32}};
  std::vector<float> a(1 << 16, 0.5f), b(1 << 16, 0.25f), c(1 << 16);
  omp_set_num_threads(1);
  std::printf("| m | n | k | B | dnnl_sgemm (us) | gemm() (us) |\n");
  std::printf("| ---: | ---: | ---: | --- | ---: | ---: |\n");
  for (const auto &size : sizes) {
    const int64_t m = size[0], n = size[1], k = size[2];
    for (bool transposeB : {false, true}) {
      const int64_t ldb = transposeB ? k : n;
      double library = microseconds(
          [&] {
            dnnl_sgemm('N', transposeB ? 'T' : 'N', m, n, k, 1.0f, a.data(), k,
                       b.data(), ldb, 0.0f, c.data(), n);
          },
          m * n * k);
      double ours = microseconds(
          [&] {
            dsp::runtime::cpu::gemm(transposeB, m, n, k, 1.0f, a.data(), k,
                                    b.data(), ldb, 0.0f, c.data(), n);
          },
          m * n * k);
      std::printf("| %ld | %ld | %ld | %s | %.2f | %.2f |\n", long(m), long(n),
                  long(k), transposeB ? "transposed" : "as is", library, ours);
    }
  }
  return 0;
}
