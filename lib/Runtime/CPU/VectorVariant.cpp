//===- VectorVariant.cpp - Which vector width the kernels run -------------===//

#include "VectorVariant.h"

#include <cstdlib>
#include <optional>
#include <string>

namespace dsp {
namespace runtime {
namespace cpu {

namespace {

constexpr const char *kSetting = "DSP_CPU_VECTORS";

/// The limit DSP_CPU_VECTORS sets: none when it is unset, empty or `auto`;
/// nullopt for any other value than a variant's name.
std::optional<VectorVariant> parseLimit(const std::string &value) {
  if (value.empty() || value == "auto" || value == "avx512")
    return VectorVariant::Avx512;
  if (value == "avx2")
    return VectorVariant::Avx2;
  if (value == "baseline")
    return VectorVariant::Baseline;
  return std::nullopt;
}

std::string settingValue() {
  const char *value = std::getenv(kSetting);
  return value ? value : "";
}

VectorVariant widestOfTheCpu() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx512f"))
    return VectorVariant::Avx512;
  if (__builtin_cpu_supports("x86-64-v3"))
    return VectorVariant::Avx2;
#endif
  return VectorVariant::Baseline;
}

} // namespace

VectorVariant vectorVariant() {
  static const VectorVariant variant = [] {
    VectorVariant limit =
        parseLimit(settingValue()).value_or(VectorVariant::Avx512);
    VectorVariant widest = widestOfTheCpu();
    return limit < widest ? limit : widest;
  }();
  return variant;
}

Status checkVectorSetting() {
  std::string value = settingValue();
  if (parseLimit(value))
    return Status::success();
  return Status::error(std::string(kSetting) +
                       " must be auto, avx512, avx2 or baseline, got '" +
                       value + "'");
}

} // namespace cpu
} // namespace runtime
} // namespace dsp
