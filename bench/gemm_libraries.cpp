//===- gemm_libraries.cpp - Single-threaded SGEMM of the candidate libraries =//
//
// Times one-thread f32 GEMMs of the shapes the CPU kernels' tiles have in the
// benchmark models, in OpenBLAS (cblas_sgemm), BLIS (bli_sgemm), oneDNN's
// dnnl_sgemm and oneDNN's matmul primitive with a bias and erf-GELU post-op,
// and the same primitive on bf16 operands (f32 result). Build and run, with
// libopenblas-dev, libblis-serial-dev and libdnnl-dev installed:
//
//   g++ -O2 -fopenmp bench/gemm_libraries.cpp -o gemm_libraries \
//     -I/usr/include/x86_64-linux-gnu/blis-serial \
//     -L/usr/lib/x86_64-linux-gnu/blis-serial -lopenblas -lblis -ldnnl
//   ./gemm_libraries; OPENBLAS_CORETYPE=SkylakeX ./gemm_libraries
//
//===----------------------------------------------------------------------===//

#include <blis.h>
#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <vector>

// blis.h brings BLIS's cblas.h, which lacks OpenBLAS's extensions.
extern "C" void openblas_set_num_threads(int threads);

namespace {

/// Seconds of CPU time this thread has used: unlike wall time, it does not
/// count the time other processes of a busy machine hold the core.
double threadSeconds() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec + 1e-9 * now.tv_nsec;
}

/// GFLOP/s of `run`, the median of 5 rounds of about 0.2 s each.
double gflops(const std::function<void()> &run, double flops) {
  run();
  int repeats = std::max(3, static_cast<int>(2e8 / flops));
  std::vector<double> rates;
  for (int round = 0; round < 5; ++round) {
    double start = threadSeconds();
    for (int i = 0; i < repeats; ++i)
      run();
    double seconds = threadSeconds() - start;
    rates.push_back(flops * repeats / seconds / 1e9);
  }
  std::sort(rates.begin(), rates.end());
  return rates[2];
}

/// A matmul primitive C = gelu(A * B + bias) on operands of type `type`.
struct Matmul {
  Matmul(dnnl::engine &engine, dnnl::memory::data_type type, int64_t m,
         int64_t n, int64_t k)
      : a({m, k}, type, dnnl::memory::format_tag::ab),
        b({k, n}, type, dnnl::memory::format_tag::ab),
        bias({1, n}, dnnl::memory::data_type::f32,
             dnnl::memory::format_tag::ab),
        c({m, n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab) {
    dnnl::post_ops postOps;
    postOps.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0, 0);
    dnnl::primitive_attr attributes;
    attributes.set_post_ops(postOps);
    descriptor = dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, bias, c),
                                              attributes, engine);
    primitive = dnnl::matmul(descriptor);
  }
  dnnl::memory::desc a, b, bias, c;
  dnnl::matmul::primitive_desc descriptor;
  dnnl::matmul primitive;
};

} // namespace

// Every library on one thread, as the runtime calls them.
int main() {
  omp_set_num_threads(1);
  openblas_set_num_threads(1);
  bli_init();
  std::printf("BLIS configuration: %s\n", bli_arch_string(bli_arch_query_id()));
  const int64_t shapes[][3] = {
      {512, 384, 128},  {512, 512, 128}, {512, 128, 512}, {512, 768, 256},
      {512, 256, 1024}, {64, 64, 32},    {64, 32, 64},    {1, 256, 256}};
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  std::printf("%5s %5s %5s %9s %9s %9s %9s %9s\n", "m", "n", "k", "OpenBLAS",
              "BLIS", "dnnl_sgemm", "matmul", "bf16");
  for (const auto &shape : shapes) {
    const int64_t m = shape[0], n = shape[1], k = shape[2];
    std::vector<float> a(m * k, 0.5f), b(k * n, 0.25f), c(m * n), bias(n, 0.1f);
    std::vector<uint16_t> aBf16(m * k, 0x3f00), bBf16(k * n, 0x3e80);
    const double flops = 2.0 * m * n * k;
    double openblas = gflops(
        [&] {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1,
                      a.data(), k, b.data(), n, 0, c.data(), n);
        },
        flops);
    float one = 1, zero = 0;
    double blis = gflops(
        [&] {
          bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &one,
                    a.data(), k, 1, b.data(), n, 1, &zero, c.data(), n, 1);
        },
        flops);
    double sgemm = gflops(
        [&] {
          dnnl_sgemm('N', 'N', m, n, k, 1, a.data(), k, b.data(), n, 0,
                     c.data(), n);
        },
        flops);
    auto timeMatmul = [&](dnnl::memory::data_type type, void *aData,
                          void *bData) {
      Matmul matmul(engine, type, m, n, k);
      dnnl::memory aMemory(matmul.a, engine, aData),
          bMemory(matmul.b, engine, bData),
          biasMemory(matmul.bias, engine, bias.data()),
          cMemory(matmul.c, engine, c.data());
      return gflops(
          [&] {
            matmul.primitive.execute(stream, {{DNNL_ARG_SRC, aMemory},
                                              {DNNL_ARG_WEIGHTS, bMemory},
                                              {DNNL_ARG_BIAS, biasMemory},
                                              {DNNL_ARG_DST, cMemory}});
            stream.wait();
          },
          flops);
    };
    double matmul =
        timeMatmul(dnnl::memory::data_type::f32, a.data(), b.data());
    double matmulBf16 =
        timeMatmul(dnnl::memory::data_type::bf16, aBf16.data(), bBf16.data());
    std::printf("%5ld %5ld %5ld %9.1f %9.1f %9.1f %9.1f %9.1f\n", m, n, k,
                openblas, blis, sgemm, matmul, matmulBf16);
  }
}
