//===- VectorVariantTest.cpp - DSP_CPU_VECTORS and the variant it picks ---===//
//
// CTest runs this file's tests, the GEMM tests and the CPU kernel tests
// again under DSP_CPU_VECTORS=avx2 and =baseline, so that a CPU with AVX-512
// checks the narrower variants of the kernels too.
//
//===----------------------------------------------------------------------===//

#include "CPU/VectorVariant.h"
#include "dsp/Runtime/Backend.h"
#include "dsp/Runtime/Communicator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

using dsp::runtime::cpu::checkVectorSetting;
using dsp::runtime::cpu::VectorVariant;
using dsp::runtime::cpu::vectorVariant;

namespace {

/// Sets DSP_CPU_VECTORS for its scope and restores what the process had.
class VectorSetting {
public:
  explicit VectorSetting(const char *value) {
    if (const char *old = std::getenv("DSP_CPU_VECTORS"))
      old_ = old;
    ::setenv("DSP_CPU_VECTORS", value, 1);
  }
  ~VectorSetting() {
    if (old_)
      ::setenv("DSP_CPU_VECTORS", old_->c_str(), 1);
    else
      ::unsetenv("DSP_CPU_VECTORS");
  }

private:
  std::optional<std::string> old_;
};

TEST(VectorVariantTest, AcceptsTheVariantsNames) {
  for (const char *value : {"", "auto", "avx512", "avx2", "baseline"}) {
    VectorSetting setting(value);
    EXPECT_TRUE(checkVectorSetting().ok()) << "'" << value << "'";
  }
}

TEST(VectorVariantTest, AnUnknownNameStopsTheCpuBackend) {
  VectorSetting setting("avx3");
  dsp::runtime::Status status = checkVectorSetting();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "DSP_CPU_VECTORS must be auto, avx512, avx2 or "
                              "baseline, got 'avx3'");
  std::vector<std::shared_ptr<dsp::runtime::Communicator>> group;
  ASSERT_TRUE(dsp::runtime::createLocalCommunicators(1, {}, group).ok());
  dsp::runtime::BackendOptions options;
  options.communicator = group[0].get();
  std::unique_ptr<dsp::runtime::Backend> backend;
  status = dsp::runtime::createBackend("cpu", options, backend);
  EXPECT_EQ(status.message(), "DSP_CPU_VECTORS must be auto, avx512, avx2 or "
                              "baseline, got 'avx3'");
  EXPECT_EQ(backend, nullptr);
}

TEST(VectorVariantTest, NeverWiderThanTheSettingOfTheProcess) {
  const char *value = std::getenv("DSP_CPU_VECTORS");
  std::string limit = value ? value : "";
  if (limit == "avx2")
    EXPECT_LE(vectorVariant(), VectorVariant::Avx2);
  else if (limit == "baseline")
    EXPECT_EQ(vectorVariant(), VectorVariant::Baseline);
  else
    GTEST_SKIP() << "DSP_CPU_VECTORS sets no limit in this process";
}

} // namespace
